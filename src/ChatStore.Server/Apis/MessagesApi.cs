using System.Globalization;
using System.Text.Json;
using ChatStore.Messages;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>
/// Messages of conversations: append (complete, or streaming: chunks then complete or fail), read
/// history, get, edit, delete and restore, regenerate. A session caller reaches only its own
/// conversations' messages.
/// </summary>
public static class MessagesApi
{
    /// <summary>
    /// Client-settable fields of a new message. The id, seq, conversation, user, timestamps and
    /// tenant are the server's. <c>status</c>: complete (default) or streaming (then POST chunks and complete).
    /// </summary>
    public sealed record AppendMessageRequest(
        string? Role, string? Content, string? Status, Guid? ParentId, JsonElement? Citations, JsonElement? Metadata,
        IReadOnlyList<string>? Domains, string? Model, int? InputTokens, int? OutputTokens, decimal? CostUsd, int? ResponseMs,
        string? Error, IReadOnlyList<Guid>? DocumentIds);

    /// <summary>A regenerated answer to a message (its role defaults to assistant).</summary>
    public sealed record RegenerateRequest(
        string? Role, string? Content, string? Status, JsonElement? Citations, JsonElement? Metadata, IReadOnlyList<string>? Domains,
        string? Model, int? InputTokens, int? OutputTokens, decimal? CostUsd, int? ResponseMs, string? Error);

    public sealed record ChunkRequest(string? Chunk);

    /// <summary>The end of a streamed message; null fields keep their value.</summary>
    public sealed record CompleteRequest(
        string? Content, string? Model, int? InputTokens, int? OutputTokens, decimal? CostUsd, int? ResponseMs, JsonElement? Citations, JsonElement? Metadata);

    public sealed record FailRequest(string? Error);

    public sealed record EditRequest(string? Content);

    /// <summary>
    /// Which messages to read: the latest <c>limit</c> (default 50), those before seq <c>before</c>, or
    /// those after seq <c>after</c> (catching up); or the <c>nextCursor</c> of a previous page.
    /// </summary>
    public sealed record MessageHistoryQuery(int? Limit, long? Before, long? After, bool? IncludeDeleted, string? Cursor);

    /// <summary>Messages in ascending seq. <c>nextCursor</c> continues in the direction read (older, or newer after <c>after</c>).</summary>
    public sealed record MessagePage(IReadOnlyList<Message> Items, string? NextCursor, bool HasMore);

    public static RouteGroupBuilder MapMessagesApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("").WithTags("Messages").RequireTenant().TenantProblems();

        api.MapPost("/conversations/{conversationId:guid}/messages", async (Guid conversationId, AppendMessageRequest body, Caller caller, CancellationToken ct) =>
            {
                await Access.ConversationAsync(caller, conversationId, ct);
                var message = await caller.Scope.Messages.AppendAsync(conversationId, new NewMessage
                {
                    Role = body.Role!, Content = body.Content ?? "", Status = body.Status, ParentId = body.ParentId,
                    Citations = body.Citations, Metadata = body.Metadata, Domains = body.Domains, Model = body.Model,
                    InputTokens = body.InputTokens ?? 0, OutputTokens = body.OutputTokens ?? 0, CostUsd = body.CostUsd ?? 0,
                    ResponseMs = body.ResponseMs, Error = body.Error, DocumentIds = body.DocumentIds,
                }, ct);
                return TypedResults.Created($"/v1/messages/{message.Id}", message);
            })
            .NotFound().Idempotent()
            .WithName("AppendMessage").WithSummary("Append a message to a conversation as its next seq (status streaming to stream it)")
            .WithDescription("role: user, assistant, system or tool. With status streaming, POST /v1/messages/{id}/chunks, then /complete or /fail; readers see the partial content. Send Idempotency-Key to make a retry safe.");

        api.MapGet("/conversations/{conversationId:guid}/messages", async (Guid conversationId, [AsParameters] MessageHistoryQuery query, Caller caller, CancellationToken ct) =>
            {
                var (before, after) = Position(query);
                var history = await caller.Scope.Messages.HistoryAsync(conversationId, new HistoryQuery
                {
                    Limit = query.Limit ?? 50, BeforeSeq = before, AfterSeq = after, IncludeDeleted = query.IncludeDeleted ?? false,
                }, ct);
                // Every message carries its conversation's owner: a page proves ownership; only an empty one needs a look-up.
                if (caller.IsUser)
                {
                    if (history.Messages.Count > 0)
                        caller.EnsureOwns(history.Messages[0].UserId, "conversation", conversationId);
                    else
                        await Access.ConversationAsync(caller, conversationId, ct);
                }
                var items = history.Messages;
                string? next = !history.HasMore || items.Count == 0 ? null
                    : after is not null ? "a" + items[^1].Seq.ToString(CultureInfo.InvariantCulture)
                    : "b" + items[0].Seq.ToString(CultureInfo.InvariantCulture);
                return TypedResults.Ok(new MessagePage(items, next, history.HasMore));
            })
            .NotFound()
            .WithName("GetHistory").WithSummary("A conversation's messages in ascending seq: the latest, before a seq, or after a seq")
            .WithDescription("Give at most one of before, after and cursor (after may be combined with before). Streaming messages show the content received so far.");

        var messages = api.MapGroup("/messages/{messageId:guid}");

        messages.MapGet("", async (Guid messageId, Caller caller, CancellationToken ct) =>
            {
                var message = await caller.Scope.Messages.GetAsync(messageId, ct);
                caller.EnsureOwns(message.UserId, "message", messageId);
                return TypedResults.Ok(message);
            })
            .NotFound()
            .WithName("GetMessage").WithSummary("Get a message (a streaming one with the content received so far)");

        messages.MapPatch("", async (Guid messageId, EditRequest body, Caller caller, CancellationToken ct) =>
            {
                await Access.MessageAsync(caller, messageId, ct);
                return TypedResults.Ok(await caller.Scope.Messages.EditAsync(messageId, body.Content!, ct));
            })
            .NotFound().Conflict()
            .WithName("EditMessage").WithSummary("Replace a message's content (not while it is streaming)");

        messages.MapDelete("", async (Guid messageId, Caller caller, CancellationToken ct) =>
            {
                await Access.MessageAsync(caller, messageId, ct);
                await caller.Scope.Messages.DeleteAsync(messageId, ct);
                return TypedResults.NoContent();
            })
            .NotFound()
            .WithName("DeleteMessage").WithSummary("Soft-delete a message (it keeps its seq; restore brings it back)");

        messages.MapPost("/restore", async (Guid messageId, Caller caller, CancellationToken ct) =>
            {
                await Access.MessageAsync(caller, messageId, ct, includeDeleted: true);
                return TypedResults.Ok(await caller.Scope.Messages.RestoreAsync(messageId, ct));
            })
            .NotFound()
            .WithName("RestoreMessage").WithSummary("Restore a soft-deleted message");

        messages.MapPost("/chunks", async (Guid messageId, ChunkRequest body, Caller caller, CancellationToken ct) =>
            {
                await Access.MessageAsync(caller, messageId, ct);
                await caller.Scope.Messages.AppendChunkAsync(messageId, body.Chunk!, ct);
                return TypedResults.NoContent();
            })
            .NotFound().Conflict()
            .WithName("AppendChunk").WithSummary("Append a chunk to a streaming message; readers see the content so far (409 once it is complete or failed)");

        messages.MapPost("/complete", async (Guid messageId, CompleteRequest body, Caller caller, CancellationToken ct) =>
            {
                await Access.MessageAsync(caller, messageId, ct);
                return TypedResults.Ok(await caller.Scope.Messages.CompleteAsync(messageId, new MessageCompletion
                {
                    Content = body.Content, Model = body.Model, InputTokens = body.InputTokens, OutputTokens = body.OutputTokens,
                    CostUsd = body.CostUsd, ResponseMs = body.ResponseMs, Citations = body.Citations, Metadata = body.Metadata,
                }, ct));
            })
            .NotFound().Conflict()
            .WithName("CompleteMessage").WithSummary("Mark a streaming message complete, optionally with its final content, usage, citations and metadata (merged)");

        messages.MapPost("/fail", async (Guid messageId, FailRequest body, Caller caller, CancellationToken ct) =>
            {
                await Access.MessageAsync(caller, messageId, ct);
                return TypedResults.Ok(await caller.Scope.Messages.FailAsync(messageId, body.Error!, ct));
            })
            .NotFound().Conflict()
            .WithName("FailMessage").WithSummary("Mark a streaming message failed with an error; its partial content stays");

        messages.MapPost("/regenerate", async (Guid messageId, RegenerateRequest body, Caller caller, CancellationToken ct) =>
            {
                await Access.MessageAsync(caller, messageId, ct);
                var message = await caller.Scope.Messages.RegenerateAsync(messageId, new NewMessage
                {
                    Role = body.Role ?? MessageRole.Assistant, Content = body.Content ?? "", Status = body.Status,
                    Citations = body.Citations, Metadata = body.Metadata, Domains = body.Domains, Model = body.Model,
                    InputTokens = body.InputTokens ?? 0, OutputTokens = body.OutputTokens ?? 0, CostUsd = body.CostUsd ?? 0,
                    ResponseMs = body.ResponseMs, Error = body.Error,
                }, ct);
                return TypedResults.Created($"/v1/messages/{message.Id}", message);
            })
            .NotFound().Idempotent()
            .WithName("RegenerateMessage").WithSummary("Append a new answer to a message (parentId set to it) as the conversation's next seq");
        return api;
    }

    /// <summary>The (before, after) seqs of a history request, from the explicit bounds or a cursor.</summary>
    static (long? Before, long? After) Position(MessageHistoryQuery query)
    {
        if (query.Cursor is not { } cursor)
            return (query.Before, query.After);
        if (query.Before is not null || query.After is not null)
            throw new ChatStoreValidationException("cursor", "exclusive", "give a cursor or before/after, not both.");
        if (cursor.Length is < 2 or > 21 || (cursor[0] != 'a' && cursor[0] != 'b')
            || !long.TryParse(cursor.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            throw new ChatStoreValidationException("cursor", "cursor", "is not a cursor this list returned.");
        return cursor[0] == 'a' ? (null, seq) : (seq, null);
    }
}
