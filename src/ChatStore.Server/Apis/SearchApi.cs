using ChatStore.Embeddings;
using ChatStore.Search;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>Full-text, vector and hybrid search over messages, memories and documents. A session searches only its own user's rows.</summary>
public static class SearchApi
{
    /// <summary>Full-text search: any text is a valid query (websearch syntax: quotes, -, or).</summary>
    public sealed record FullTextRequest(
        string? Text, Guid? UserId, Guid? ConversationId, DateTimeOffset? From, DateTimeOffset? To, IReadOnlyList<SearchKind>? Kinds,
        IReadOnlyList<string>? Roles, IReadOnlyList<string>? Statuses, int? Limit, string? Cursor);

    /// <summary>Vector search in an embedding space, by query text (embedded with the space's generator) or by a vector.</summary>
    public sealed record VectorRequest(
        string? Space, string? Text, float[]? Vector, int? K, VectorSearchMode? Mode, Guid? UserId, Guid? ConversationId,
        DateTimeOffset? From, DateTimeOffset? To, IReadOnlyList<SearchKind>? Kinds);

    /// <summary>Hybrid search: full-text and vector candidates fused by reciprocal rank in one round trip.</summary>
    public sealed record HybridRequest(
        string? Text, string? Space, float[]? Vector, int? Limit, int? Candidates, int? RrfK, Guid? UserId, Guid? ConversationId,
        DateTimeOffset? From, DateTimeOffset? To, IReadOnlyList<SearchKind>? Kinds);

    const string UserRule = "userId: optional with a tenant API key (omit it to search the whole tenant); a session always searches only its own user's rows.";

    public static RouteGroupBuilder MapSearchApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/search").WithTags("Search").RequireTenant().TenantProblems();

        api.MapPost("/full-text", async (FullTextRequest body, Caller caller, CancellationToken ct) =>
            {
                var user = await FiltersAsync(caller, body.UserId, body.ConversationId, ct);
                return TypedResults.Ok(await caller.Scope.Search.FullTextAsync(new SearchQuery
                {
                    Text = RequiredText(body.Text), UserId = user, ConversationId = body.ConversationId,
                    From = body.From, To = body.To, Kinds = body.Kinds, Roles = body.Roles, Statuses = body.Statuses,
                    Limit = body.Limit ?? 20, Cursor = body.Cursor,
                }, ct));
            })
            .NotFound()
            .WithName("SearchFullText").WithSummary("Ranked full-text search with highlighted snippets, keyset-paginated")
            .WithDescription(UserRule);

        api.MapPost("/vector", async (VectorRequest body, Caller caller, CancellationToken ct) =>
            {
                var space = await SpaceAsync(caller, body.Space, ct);
                var user = await FiltersAsync(caller, body.UserId, body.ConversationId, ct);
                return TypedResults.Ok(Slice.Whole(await caller.Scope.Search.VectorAsync(new VectorSearchQuery
                {
                    Space = space, Text = body.Text, Vector = body.Vector, Generator = EmbeddingGenerators.ForSpace(space),
                    K = body.K ?? 10, Mode = body.Mode ?? VectorSearchMode.Auto, UserId = user,
                    ConversationId = body.ConversationId, From = body.From, To = body.To, Kinds = body.Kinds,
                }, ct)));
            })
            .NotFound()
            .WithName("SearchVector").WithSummary("Nearest neighbours in an embedding space (k, filters), with distances")
            .WithDescription(UserRule);

        api.MapPost("/hybrid", async (HybridRequest body, Caller caller, CancellationToken ct) =>
            {
                var space = await SpaceAsync(caller, body.Space, ct);
                var user = await FiltersAsync(caller, body.UserId, body.ConversationId, ct);
                return TypedResults.Ok(Slice.Whole(await caller.Scope.Search.HybridAsync(new HybridSearchQuery
                {
                    Space = space, Text = RequiredText(body.Text), Vector = body.Vector, Generator = EmbeddingGenerators.ForSpace(space),
                    Limit = body.Limit ?? 10, Candidates = body.Candidates ?? 50, RrfK = body.RrfK ?? 60,
                    UserId = user, ConversationId = body.ConversationId, From = body.From, To = body.To, Kinds = body.Kinds,
                }, ct)));
            })
            .NotFound()
            .WithName("SearchHybrid").WithSummary("Full-text and vector results fused by reciprocal rank; each hit says which lists it came from")
            .WithDescription(UserRule);
        return api;
    }

    static string RequiredText(string? text) =>
        text ?? throw new ChatStoreValidationException("text", "required", "is the text to search for (websearch syntax: \"a phrase\", -excluded, or).");

    /// <summary>
    /// The user filter (a session's own user, whatever it names), after checking that a named user and conversation
    /// are the caller's to search: another tenant's or another user's id is 404, as on every other route, not an empty result.
    /// </summary>
    static async Task<Guid?> FiltersAsync(Caller caller, Guid? userId, Guid? conversationId, CancellationToken ct)
    {
        var user = caller.IsUser ? caller.ActAs(userId) : userId;
        if (!caller.IsUser && user is Guid named)
            await caller.Scope.Users.GetAsync(named, ct);
        if (conversationId is Guid id && (await caller.Scope.Conversations.GetAsync(id, cancellationToken: ct)).UserId is var owner
            && (caller.IsUser || user is not null) && owner != user)
            throw new ChatStoreNotFoundException("conversation", id);
        return user;
    }

    static Task<EmbeddingSpace> SpaceAsync(Caller caller, string? name, CancellationToken ct) =>
        caller.Scope.Embeddings.GetSpaceAsync(name ?? throw new ChatStoreValidationException("space", "required", "names the embedding space to search."), ct);
}
