using ChatStore.Messages;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>
/// Feedback on messages: one like/dislike and/or score per user per message. The user is in the path;
/// a session caller may only name itself, on its own conversations' messages.
/// </summary>
public static class FeedbackApi
{
    /// <summary>The feedback to set: a rating (like, dislike), a score (1–10) or both, and a comment.</summary>
    public sealed record SetFeedbackRequest(string? Rating, int? Score, string? Comment);

    public sealed record FeedbackListQuery(int? Limit, string? Cursor);

    public static RouteGroupBuilder MapFeedbackApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/messages/{messageId:guid}/feedback").WithTags("Feedback").RequireTenant().TenantProblems();

        api.MapGet("/", async (Guid messageId, [AsParameters] FeedbackListQuery query, Caller caller, CancellationToken ct) =>
            {
                await Access.MessageAsync(caller, messageId, ct);
                return TypedResults.Ok(await caller.Scope.Messages.ListFeedbackAsync(messageId, query.Limit ?? 50, query.Cursor, ct));
            })
            .NotFound()
            .WithName("ListFeedback").WithSummary("The feedback on a message, by user, keyset-paginated");

        api.MapPut("/{userId:guid}", async (Guid messageId, Guid userId, SetFeedbackRequest body, Caller caller, CancellationToken ct) =>
            {
                var user = caller.ActAs(userId);
                await Access.MessageAsync(caller, messageId, ct);
                return TypedResults.Ok(await caller.Scope.Messages.SetFeedbackAsync(messageId, user,
                    new NewFeedback { Rating = body.Rating, Score = body.Score, Comment = body.Comment }, ct));
            })
            .NotFound()
            .WithName("SetFeedback").WithSummary("Set a user's feedback on a message, replacing any earlier one")
            .WithDescription("A session caller may only give its own user's id.");

        api.MapGet("/{userId:guid}", async (Guid messageId, Guid userId, Caller caller, CancellationToken ct) =>
            {
                var user = caller.ActAs(userId);
                await Access.MessageAsync(caller, messageId, ct);
                return TypedResults.Ok(await caller.Scope.Messages.GetFeedbackAsync(messageId, user, ct));
            })
            .NotFound()
            .WithName("GetFeedback").WithSummary("A user's feedback on a message");

        api.MapDelete("/{userId:guid}", async (Guid messageId, Guid userId, Caller caller, CancellationToken ct) =>
            {
                var user = caller.ActAs(userId);
                await Access.MessageAsync(caller, messageId, ct);
                await caller.Scope.Messages.DeleteFeedbackAsync(messageId, user, ct);
                return TypedResults.NoContent();
            })
            .NotFound()
            .WithName("DeleteFeedback").WithSummary("Remove a user's feedback on a message");
        return api;
    }
}
