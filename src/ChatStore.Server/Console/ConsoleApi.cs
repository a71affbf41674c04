using System.Reflection;
using ChatStore.Conversations;
using ChatStore.Embeddings;
using ChatStore.Search;
using ChatStore.Server.Hosting;
using ChatStore.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ChatStore.Server.Console;

/// <summary>
/// The admin console at <c>/console</c> and its own JSON endpoints under <c>/console/api</c>. They call the
/// ChatStore library as the <c>/v1</c> API does, with the same credentials and checks (the operator key for
/// operator pages, a tenant API key for a tenant's pages; another tenant's id is 404), and are left out of
/// the OpenAPI document: their shapes serve the console and may change with it.
/// </summary>
public static class ConsoleApi
{
    public sealed record TenantRow(Tenant Tenant, TenantCounts Counts);

    public sealed record NameRequest(string? Name);

    public sealed record CreateKeyRequest(string? Name, IReadOnlyList<string>? Scopes);

    public sealed record SchemaReport(Schema.MigrationStatus Status, Schema.VerifyReport Verify, IReadOnlyList<string> Drift);

    public sealed record HealthAndVersion(HealthReport Health, string Version, string Runtime);

    public sealed record ConversationsQuery(Guid? UserId, Guid? SubjectId, string? Status, DateTimeOffset? From, DateTimeOffset? To, int? Limit, string? Cursor);

    public sealed record Transcript(
        Conversation Conversation, Users.User? User, IReadOnlyList<Messages.Message> Messages, bool HasMore,
        IReadOnlyList<Messages.Feedback> Feedback, IReadOnlyList<Messages.Correction> Corrections);

    public sealed record UserPage(
        Users.User User, IReadOnlyList<Sessions.Session> Sessions, Preferences.UserPreferences Preferences, decimal Balance);

    public sealed record MemoryPage(Memories.Memory Memory, IReadOnlyList<Memories.Memory> History, IReadOnlyList<Memories.MemorySource> Sources);

    public sealed record DocumentPage(Documents.Document Document, IReadOnlyList<Documents.DocumentAnalysis> Analyses);

    public sealed record UsageQuery(Guid? UserId, DateTimeOffset? From, DateTimeOffset? To);

    public sealed record UsageReport(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<Usage.UsageTotal> Days, decimal? Balance);

    public sealed record SearchRequest(string? Mode, string? Text, string? Space, Guid? UserId, int? Limit);

    public sealed record SearchResult(string Mode, IReadOnlyList<SearchHit>? FullText, IReadOnlyList<VectorHit>? Vector, IReadOnlyList<HybridHit>? Hybrid);

    public sealed record EraseRequest(string? Confirm);

    /// <summary>The operator key or a tenant API key (a user session cannot sign in to the console).</summary>
    static readonly CallerRequirement SignedIn = new([CallerKind.Operator, CallerKind.Tenant], CallerKind.User,
        "The console signs in with the operator key or a tenant API key; a user session token cannot.");

    /// <summary>Maps <c>/console</c>, its files and <c>/console/api</c>, with the console's security headers.</summary>
    public static WebApplication MapConsole(this WebApplication app)
    {
        app.UseSecurityHeaders("/console", ConsoleAssets.ContentSecurityPolicy);
        app.MapConsoleAssets();
        var api = app.MapGroup("/console/api").ExcludeFromDescription();

        api.MapGet("/me", async (Caller caller, ChatStoreClient client, CancellationToken ct) =>
                caller.Kind == CallerKind.Operator
                    ? Results.Ok(new { kind = "operator" })
                    : Results.Ok(new { kind = "tenant", tenant = await client.Tenants.GetAsync(caller.TenantId!.Value, ct) }))
            .WithMetadata(SignedIn).WithName("ConsoleMe").WithSummary("Who the console is signed in as");

        MapOperator(api.MapGroup("/operator").RequireOperator());
        MapTenant(api.MapGroup("/tenant").RequireTenantKey());
        return app;
    }

    static void MapOperator(RouteGroupBuilder api)
    {
        api.MapGet("/tenants", async (string? cursor, ChatStoreClient client, CancellationToken ct) =>
            {
                var page = await client.Tenants.ListAsync(50, cursor, ct);
                var counts = await Task.WhenAll(page.Items.Select(t => client.Tenants.CountsAsync(t.Id, ct)));
                return TypedResults.Ok(new Page<TenantRow>(page.Items.Select((t, i) => new TenantRow(t, counts[i])).ToList(), page.NextCursor));
            })
            .WithName("ConsoleTenants").WithSummary("Tenants with what each holds");

        api.MapPost("/tenants", async (NameRequest body, ChatStoreClient client, CancellationToken ct) =>
                TypedResults.Ok(await client.Tenants.CreateAsync(new NewTenant { Name = body.Name ?? "" }, ct)))
            .WithName("ConsoleCreateTenant").WithSummary("Create a tenant");

        api.MapPatch("/tenants/{tenantId:guid}", async (Guid tenantId, NameRequest body, ChatStoreClient client, CancellationToken ct) =>
                TypedResults.Ok(await client.Tenants.UpdateAsync(tenantId, new TenantUpdate
                {
                    Name = body.Name ?? throw new ChatStoreValidationException("name", "required", "is required."),
                }, ct)))
            .WithName("ConsoleRenameTenant").WithSummary("Rename a tenant");

        api.MapGet("/tenants/{tenantId:guid}/keys", async (Guid tenantId, ChatStoreClient client, CancellationToken ct) =>
                TypedResults.Ok(await client.Tenants.ListApiKeysAsync(tenantId, ct)))
            .WithName("ConsoleApiKeys").WithSummary("A tenant's API keys (no secrets)");

        api.MapPost("/tenants/{tenantId:guid}/keys", async (Guid tenantId, CreateKeyRequest body, ChatStoreClient client, CancellationToken ct) =>
                TypedResults.Ok(await client.Tenants.CreateApiKeyAsync(tenantId, body.Name ?? "", body.Scopes, null, ct)))
            .WithName("ConsoleCreateApiKey").WithSummary("Create an API key; its secret is shown once");

        api.MapDelete("/tenants/{tenantId:guid}/keys/{keyId:guid}", async (Guid tenantId, Guid keyId, ChatStoreClient client,
                CallerAuthentication auth, CancellationToken ct) =>
            {
                await client.Tenants.RevokeApiKeyAsync(tenantId, keyId, ct);
                auth.Invalidate();
                return TypedResults.NoContent();
            })
            .WithName("ConsoleRevokeApiKey").WithSummary("Revoke an API key");

        api.MapGet("/embedding-spaces", async (ChatStoreClient client, CancellationToken ct) =>
                TypedResults.Ok(await client.Embeddings.ListSpaceStatsAsync(ct)))
            .WithName("ConsoleEmbeddingSpaces").WithSummary("Embedding spaces with their index state and estimated rows");

        api.MapGet("/schema", async (ChatStoreClient client, CancellationToken ct) =>
            {
                var status = await client.Migrator.StatusAsync(ct);
                var verify = await client.Migrator.VerifyAsync(ct);
                return TypedResults.Ok(new SchemaReport(status, verify, verify.Differences.Select(d => d.ToString()).ToList()));
            })
            .WithName("ConsoleSchema").WithSummary("Migrations per source and the live schema checked against them");

        api.MapGet("/health", async (ChatStoreClient client, CancellationToken ct) =>
                TypedResults.Ok(new HealthAndVersion(await client.HealthCheckAsync(ct), Version, System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription)))
            .WithName("ConsoleHealth").WithSummary("Database health and the service's version");
    }

    static void MapTenant(RouteGroupBuilder api)
    {
        api.MapGet("/users", async (string? q, string? cursor, Caller caller, CancellationToken ct) =>
                string.IsNullOrWhiteSpace(q)
                    ? TypedResults.Ok(await caller.Scope.Users.ListAsync(50, cursor, null, ct))
                    : TypedResults.Ok(new Page<Users.User>(await caller.Scope.Users.FindAsync(q, 50, ct), null)))
            .WithName("ConsoleUsers").WithSummary("Users, or those found by email, external id or name");

        api.MapGet("/users/{userId:guid}", async (Guid userId, Caller caller, CancellationToken ct) =>
            {
                var scope = caller.Scope;
                var user = await scope.Users.GetAsync(userId, ct);
                return TypedResults.Ok(new UserPage(user, await scope.Sessions.ListForUserAsync(userId, ct),
                    await scope.Preferences.GetAsync(userId, ct), await scope.Usage.GetBalanceAsync(userId, ct)));
            })
            .WithName("ConsoleUser").WithSummary("A user with sessions, preferences and credit balance");

        api.MapGet("/conversations", async ([AsParameters] ConversationsQuery query, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Conversations.ListAcrossUsersAsync(query.UserId, new ConversationQuery
                {
                    Limit = query.Limit ?? 50, Cursor = query.Cursor, SubjectId = query.SubjectId, From = query.From, To = query.To,
                    Status = query.Status switch
                    {
                        null or "" => null,
                        "active" => ConversationStatus.Active,
                        "archived" => ConversationStatus.Archived,
                        _ => throw new ChatStoreValidationException("status", "enum", "must be active or archived."),
                    },
                }, ct)))
            .WithName("ConsoleConversations").WithSummary("Conversations across users, most recently active first, keyset-paged");

        api.MapGet("/conversations/{conversationId:guid}", async (Guid conversationId, long? beforeSeq, Caller caller, CancellationToken ct) =>
            {
                var scope = caller.Scope;
                var conversation = await scope.Conversations.GetAsync(conversationId, ct);
                var history = await scope.Messages.HistoryAsync(conversationId, new Messages.HistoryQuery { Limit = 100, BeforeSeq = beforeSeq, IncludeDeleted = true }, ct);
                var ids = history.Messages.Select(m => m.Id).ToList();
                Users.User? user = null;
                try { user = await scope.Users.GetAsync(conversation.UserId, ct); }
                catch (ChatStoreNotFoundException) { } // a deleted user's conversation is still shown
                return TypedResults.Ok(new Transcript(conversation, user, history.Messages, history.HasMore,
                    await scope.Messages.ListFeedbackForAsync(ids, ct), await scope.Messages.ListCorrectionsForAsync(ids, ct)));
            })
            .WithName("ConsoleTranscript").WithSummary("A conversation's messages (deleted ones included), feedback and corrections");

        api.MapPost("/messages/{messageId:guid}/restore", async (Guid messageId, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Messages.RestoreAsync(messageId, ct)))
            .WithName("ConsoleRestoreMessage").WithSummary("Restore a soft-deleted message");

        api.MapGet("/users/{userId:guid}/memories", async (Guid userId, string? cursor, bool? includeSuperseded, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Memories.ListAsync(userId, new Memories.MemoryQuery
                {
                    Cursor = cursor, IncludeSuperseded = includeSuperseded ?? false,
                }, ct)))
            .WithName("ConsoleMemories").WithSummary("A user's memories");

        api.MapGet("/memories/{memoryId:guid}", async (Guid memoryId, Caller caller, CancellationToken ct) =>
            {
                var memories = caller.Scope.Memories;
                return TypedResults.Ok(new MemoryPage(await memories.GetAsync(memoryId, ct), await memories.HistoryAsync(memoryId, ct),
                    await memories.ListSourcesAsync(memoryId, ct)));
            })
            .WithName("ConsoleMemory").WithSummary("A memory with its superseded versions and sources");

        api.MapGet("/users/{userId:guid}/documents", async (Guid userId, string? cursor, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Documents.ListAsync(userId, new Documents.DocumentQuery { Cursor = cursor }, ct)))
            .WithName("ConsoleDocuments").WithSummary("A user's documents");

        api.MapGet("/documents/{documentId:guid}", async (Guid documentId, Caller caller, CancellationToken ct) =>
            {
                var documents = caller.Scope.Documents;
                var document = await documents.GetAsync(documentId, ct);
                var analyses = new List<Documents.DocumentAnalysis>();
                string? cursor = null;
                do
                {
                    var page = await documents.ListAnalysesAsync(documentId, 100, cursor, ct);
                    analyses.AddRange(page.Items);
                    cursor = page.NextCursor;
                } while (cursor is not null && analyses.Count < 1000);
                return TypedResults.Ok(new DocumentPage(document, analyses));
            })
            .WithName("ConsoleDocument").WithSummary("A document with every analysis version");

        api.MapGet("/users/{userId:guid}/reminders", async (Guid userId, string? cursor, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Reminders.ListAsync(userId, null, 50, cursor, ct)))
            .WithName("ConsoleReminders").WithSummary("A user's reminders");

        api.MapGet("/usage", async ([AsParameters] UsageQuery query, Caller caller, HttpContext context, CancellationToken ct) =>
            {
                // The last 30 UTC days, today included, unless asked otherwise.
                var now = (context.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow();
                var to = query.To ?? new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
                var from = query.From ?? to.AddDays(-30);
                var days = await caller.Scope.Usage.TotalsAsync(new Usage.UsageTotalsQuery
                {
                    UserId = query.UserId, From = from, To = to, GroupBy = [Usage.UsageGrouping.Day, Usage.UsageGrouping.Model],
                }, ct);
                decimal? balance = query.UserId is Guid user ? await caller.Scope.Usage.GetBalanceAsync(user, ct) : null;
                return TypedResults.Ok(new UsageReport(from, to, days, balance));
            })
            .WithName("ConsoleUsage").WithSummary("Tokens and cost per day and model (the tenant's or one user's), with a user's balance");

        api.MapGet("/embedding-spaces", async (ChatStoreClient client, CancellationToken ct) =>
                TypedResults.Ok(await client.Embeddings.ListSpacesAsync(ct)))
            .WithName("ConsoleSearchSpaces").WithSummary("The embedding spaces a search can use");

        api.MapPost("/search", async (SearchRequest body, Caller caller, CancellationToken ct) =>
            {
                var search = caller.Scope.Search;
                var text = body.Text ?? "";
                var limit = body.Limit ?? 20;
                switch (body.Mode ?? "full-text")
                {
                    case "full-text":
                        var page = await search.FullTextAsync(new SearchQuery { Text = text, UserId = body.UserId, Limit = limit, HighlightStart = MarkStart, HighlightEnd = MarkEnd }, ct);
                        return TypedResults.Ok(new SearchResult("full-text", page.Items, null, null));
                    case "vector":
                        var space = await SpaceAsync(caller, body.Space, ct);
                        return TypedResults.Ok(new SearchResult("vector", null, await search.VectorAsync(new VectorSearchQuery
                        {
                            Space = space, Text = text, Generator = EmbeddingGenerators.ForSpace(space) ?? throw NoEmbedder(space), K = limit, UserId = body.UserId,
                        }, ct), null));
                    case "hybrid":
                        var hybridSpace = await SpaceAsync(caller, body.Space, ct);
                        return TypedResults.Ok(new SearchResult("hybrid", null, null, await search.HybridAsync(new HybridSearchQuery
                        {
                            Space = hybridSpace, Text = text, Generator = EmbeddingGenerators.ForSpace(hybridSpace) ?? throw NoEmbedder(hybridSpace),
                            Limit = limit, UserId = body.UserId, HighlightStart = MarkStart, HighlightEnd = MarkEnd,
                        }, ct)));
                    default:
                        throw new ChatStoreValidationException("mode", "enum", "must be full-text, vector or hybrid.");
                }
            })
            .WithName("ConsoleSearch").WithSummary("Full-text, vector (the text embedded by the space's embedder) or hybrid search");

        api.MapGet("/users/{userId:guid}/export", async (Guid userId, Caller caller, HttpContext context, CancellationToken ct) =>
            {
                await caller.Scope.Users.GetAsync(userId, ct); // not found → 404 before the download starts
                context.Response.ContentType = "application/x-ndjson; charset=utf-8";
                context.Response.Headers.ContentDisposition = $"attachment; filename=\"chatstore-user-{userId}.ndjson\"";
                await caller.Scope.Export.ExportUserAsync(userId, context.Response.Body, ct);
                return Results.Empty;
            })
            .WithName("ConsoleExportUser").WithSummary("Download a user's data as NDJSON");

        api.MapPost("/users/{userId:guid}/erase", async (Guid userId, EraseRequest body, Caller caller, CallerAuthentication auth, CancellationToken ct) =>
            {
                var user = await caller.Scope.Users.GetAsync(userId, ct);
                var expected = user.Email ?? user.Id.ToString();
                if (!string.Equals(body.Confirm?.Trim(), expected, StringComparison.OrdinalIgnoreCase))
                    throw new ChatStoreValidationException("confirm", "confirmation",
                        $"must be the user's {(user.Email is null ? "id" : "email")} typed out, to confirm erasing this user for good.");
                var report = await caller.Scope.Export.EraseUserAsync(userId, ct);
                auth.Invalidate(); // the user's sessions are gone
                return TypedResults.Ok(report);
            })
            .WithName("ConsoleEraseUser").WithSummary("Erase a user and everything they own, after a typed confirmation");
    }

    // Snippets mark matches with control characters, not tags: the page splits on them and builds <mark>
    // elements around text, so markup inside a message stays text.
    const string MarkStart = "\u0002", MarkEnd = "\u0003";

    static Task<EmbeddingSpace> SpaceAsync(Caller caller, string? name, CancellationToken ct) =>
        caller.Scope.Embeddings.GetSpaceAsync(name ?? throw new ChatStoreValidationException("space", "required", "names the embedding space to search."), ct);

    static ChatStoreValidationException NoEmbedder(EmbeddingSpace space) =>
        new("space", "embedder", $"space '{space.Name}' holds {space.Model} vectors, which this service cannot compute from text; search it by vector through /v1.");

    static readonly string Version =
        typeof(ChatStoreClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
