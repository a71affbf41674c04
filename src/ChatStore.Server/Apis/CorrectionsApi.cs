using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>Users' corrections of messages, kept for learning. The message's content at the time is kept as the original.</summary>
public static class CorrectionsApi
{
    /// <summary>A correction: what the message should have said, and why.</summary>
    public sealed record AddCorrectionRequest(Guid? UserId, string? CorrectedContent, string? Reason);

    public sealed record CorrectionListQuery(int? Limit, string? Cursor);

    public static RouteGroupBuilder MapCorrectionsApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/messages/{messageId:guid}/corrections").WithTags("Corrections").RequireTenant().TenantProblems();

        api.MapPost("/", async (Guid messageId, AddCorrectionRequest body, Caller caller, CancellationToken ct) =>
            {
                var user = caller.ActAs(body.UserId);
                await Access.MessageAsync(caller, messageId, ct);
                var correction = await caller.Scope.Messages.AddCorrectionAsync(messageId, user, body.CorrectedContent!, body.Reason, ct);
                return TypedResults.Created($"/v1/messages/{messageId}/corrections", correction);
            })
            .NotFound().Idempotent()
            .WithName("AddCorrection").WithSummary("Record a user's correction of a message")
            .WithDescription("userId: who corrects it. " + ApiMetadata.UserIdRule);

        api.MapGet("/", async (Guid messageId, [AsParameters] CorrectionListQuery query, Caller caller, CancellationToken ct) =>
            {
                await Access.MessageAsync(caller, messageId, ct);
                return TypedResults.Ok(await caller.Scope.Messages.ListCorrectionsAsync(messageId, query.Limit ?? 50, query.Cursor, ct));
            })
            .NotFound()
            .WithName("ListCorrections").WithSummary("A message's corrections, oldest first, keyset-paginated");
        return api;
    }
}
