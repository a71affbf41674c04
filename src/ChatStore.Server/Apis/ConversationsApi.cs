using System.Text.Json;
using ChatStore.Conversations;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>Users' conversations. A session caller reaches only its own (another user's id is 404).</summary>
public static class ConversationsApi
{
    /// <summary>Client-settable fields of a new conversation (id, tenant, counters and timestamps are the server's).</summary>
    public sealed record CreateConversationRequest(Guid? UserId, string? Title, string? Mode, JsonElement? State, Guid? SubjectId, JsonElement? Metadata);

    public sealed record ListConversationsQuery(
        Guid? UserId, string? Status, bool? Pinned, Guid? SubjectId, DateTimeOffset? From, DateTimeOffset? To, bool? IncludeDeleted, int? Limit, string? Cursor);

    public sealed record TitleRequest(string? Title);

    public sealed record ModeRequest(string? Mode, JsonElement? State);

    public sealed record SubjectRequest(Guid? SubjectId);

    public sealed record DeleteConversationQuery(bool? Permanent);

    public static RouteGroupBuilder MapConversationsApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/conversations").WithTags("Conversations").RequireTenant().TenantProblems();

        api.MapPost("/", async (CreateConversationRequest body, Caller caller, CancellationToken ct) =>
            {
                var conversation = await caller.Conversations.CreateAsync(new NewConversation
                {
                    UserId = caller.ActAs(body.UserId), Title = body.Title, Mode = body.Mode, State = body.State,
                    SubjectId = body.SubjectId, Metadata = body.Metadata,
                }, ct);
                return TypedResults.Created($"/v1/conversations/{conversation.Id}", conversation);
            })
            .NotFound().Idempotent()
            .WithName("CreateConversation").WithSummary("Create a conversation for a user")
            .WithDescription("subjectId must be one of the user's subjects. " + ApiMetadata.UserIdRule);

        api.MapGet("/", async ([AsParameters] ListConversationsQuery query, Caller caller, CancellationToken ct) =>
            {
                var user = caller.ActAs(query.UserId);
                var page = await caller.Conversations.ListAsync(user, new ConversationQuery
                {
                    Limit = query.Limit ?? 50, Cursor = query.Cursor, Status = ParseStatus(query.Status), Pinned = query.Pinned,
                    SubjectId = query.SubjectId, From = query.From, To = query.To, IncludeDeleted = query.IncludeDeleted ?? false,
                }, ct);
                return TypedResults.Ok(await Access.ListOfUserAsync(caller, user, page, page.Items.Count, ct));
            })
            .NotFound()
            .WithName("ListConversations").WithSummary("A user's conversations, most recently active first, keyset-paginated")
            .WithDescription("Filters: status (active|archived), pinned, subjectId, from/to (last activity), includeDeleted (a trash view). " + ApiMetadata.UserIdRule);

        api.MapGet("/{conversationId:guid}", async (Guid conversationId, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Conversations.GetAsync(conversationId, ct)))
            .NotFound()
            .WithName("GetConversation").WithSummary("Get a conversation");

        api.MapPut("/{conversationId:guid}/title", async (Guid conversationId, TitleRequest body, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Conversations.RenameAsync(conversationId, body.Title ?? "", ct)))
            .NotFound()
            .WithName("RenameConversation").WithSummary("Set a conversation's title (empty for none)");

        api.MapPatch("/{conversationId:guid}/metadata", async (Guid conversationId, JsonElement body, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Conversations.UpdateMetadataAsync(conversationId, body, replace: false, ct)))
            .Accepts<JsonElement>("application/merge-patch+json", "application/json")
            .NotFound()
            .WithName("PatchConversationMetadata").WithSummary("Merge keys into a conversation's metadata (a key set to null is removed)");

        api.MapPut("/{conversationId:guid}/metadata", async (Guid conversationId, JsonElement body, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Conversations.UpdateMetadataAsync(conversationId, body, replace: true, ct)))
            .NotFound()
            .WithName("ReplaceConversationMetadata").WithSummary("Replace a conversation's metadata (a JSON object)");

        api.MapPost("/{conversationId:guid}/archive", async (Guid conversationId, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Conversations.ArchiveAsync(conversationId, ct)))
            .NotFound()
            .WithName("ArchiveConversation").WithSummary("Archive a conversation (idempotent)");

        api.MapPost("/{conversationId:guid}/unarchive", async (Guid conversationId, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Conversations.UnarchiveAsync(conversationId, ct)))
            .NotFound()
            .WithName("UnarchiveConversation").WithSummary("Make an archived conversation active again (idempotent)");

        api.MapPost("/{conversationId:guid}/pin", async (Guid conversationId, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Conversations.PinAsync(conversationId, true, ct)))
            .NotFound()
            .WithName("PinConversation").WithSummary("Pin a conversation");

        api.MapPost("/{conversationId:guid}/unpin", async (Guid conversationId, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Conversations.PinAsync(conversationId, false, ct)))
            .NotFound()
            .WithName("UnpinConversation").WithSummary("Unpin a conversation");

        api.MapPut("/{conversationId:guid}/mode", async (Guid conversationId, ModeRequest body, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Conversations.SetModeAsync(conversationId, body.Mode, body.State, ct)))
            .NotFound()
            .WithName("SetConversationMode").WithSummary("Set the active mode (null for none) and, when given, replace the mode's state (a JSON object)");

        api.MapPut("/{conversationId:guid}/subject", async (Guid conversationId, SubjectRequest body, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Conversations.SetSubjectAsync(conversationId, body.SubjectId, ct)))
            .NotFound()
            .WithName("SetConversationSubject").WithSummary("Set what a conversation is about: one of its user's subjects, or null");

        api.MapDelete("/{conversationId:guid}", async (Guid conversationId, [AsParameters] DeleteConversationQuery query, Caller caller, CancellationToken ct) =>
            {
                if (query.Permanent == true)
                    await caller.Conversations.HardDeleteAsync(conversationId, ct);
                else
                    await caller.Conversations.DeleteAsync(conversationId, ct);
                return TypedResults.NoContent();
            })
            .NotFound()
            .WithName("DeleteConversation")
            .WithSummary("Soft-delete a conversation (restorable; its share links stop working), or with permanent=true delete it and its messages for good");

        api.MapPost("/{conversationId:guid}/restore", async (Guid conversationId, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Conversations.RestoreAsync(conversationId, ct)))
            .NotFound()
            .WithName("RestoreConversation").WithSummary("Restore a soft-deleted conversation");
        return api;
    }

    static ConversationStatus? ParseStatus(string? status) => status switch
    {
        null => null,
        _ when status.Equals("active", StringComparison.OrdinalIgnoreCase) => ConversationStatus.Active,
        _ when status.Equals("archived", StringComparison.OrdinalIgnoreCase) => ConversationStatus.Archived,
        _ => throw new ChatStoreValidationException("status", "enum", "must be active or archived."),
    };
}
