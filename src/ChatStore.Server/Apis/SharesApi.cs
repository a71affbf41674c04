using ChatStore.Conversations;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>
/// Public share links of conversations: the owner (or a tenant key) creates, lists and revokes them;
/// anyone with the token reads the conversation up to the shared seq, with no owner identity.
/// </summary>
public static class SharesApi
{
    /// <summary>Client-settable fields of a share: when it expires (null: never) and the last seq it shows (null: the last now).</summary>
    public sealed record CreateShareRequest(DateTimeOffset? ExpiresAt, long? UpToSeq);

    /// <summary>A new share link: the token is shown only here; <c>path</c> is the public URL's path.</summary>
    public sealed record CreatedShareResponse(ConversationShare Share, string Token, string Path);

    public sealed record ShareListQuery(int? Limit, string? Cursor);

    public static RouteGroupBuilder MapSharesApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("").WithTags("Shares").TenantProblems();

        api.MapPost("/conversations/{conversationId:guid}/shares", async (Guid conversationId, CreateShareRequest body, Caller caller, CancellationToken ct) =>
            {
                var created = await caller.Conversations.CreateShareAsync(conversationId, body.ExpiresAt, body.UpToSeq, cancellationToken: ct);
                return TypedResults.Created($"/v1/conversations/{conversationId}/shares", new CreatedShareResponse(created.Share, created.Token, $"/v1/shared/{created.Token}"));
            })
            .RequireTenant().NotFound().ReturnsSecret()
            .WithName("CreateShare").WithSummary("Create a public share link of a conversation; the 128-bit token is returned only in this response");

        api.MapGet("/conversations/{conversationId:guid}/shares", async (Guid conversationId, [AsParameters] ShareListQuery query, Caller caller, CancellationToken ct) =>
            {
                var shares = await caller.Conversations.ListSharesAsync(conversationId, ct);
                return TypedResults.Ok(Slice.Of(shares, query.Limit, query.Cursor, s => s.Id));
            })
            .RequireTenant().NotFound()
            .WithName("ListShares").WithSummary("A conversation's share links, newest first, revoked and expired ones included (no tokens)");

        api.MapDelete("/shares/{shareId:guid}", async (Guid shareId, Caller caller, CancellationToken ct) =>
            {
                await caller.Conversations.RevokeShareAsync(shareId, ct);
                return TypedResults.NoContent();
            })
            .RequireTenant().NotFound()
            .WithName("RevokeShare").WithSummary("Revoke a share link; it stops working at once");

        api.MapGet("/shared/{token}", async Task<Results<Ok<SharedConversation>, ProblemHttpResult>> (string token, HttpContext context, ChatStoreClient client, CancellationToken ct) =>
            {
                // Set on every answer, the 404 included (the exception handler would clear headers).
                context.Response.Headers["X-Robots-Tag"] = "noindex, nofollow";
                context.Response.Headers.CacheControl = "no-store";
                context.Response.Headers["Referrer-Policy"] = "no-referrer";
                try
                {
                    return TypedResults.Ok(await client.GetSharedConversationAsync(token, ct));
                }
                catch (ChatStoreNotFoundException)
                {
                    return TypedResults.Problem(statusCode: 404, title: "Not found", detail: "This share link does not exist, was revoked or has expired.");
                }
            })
            .AllowAnonymous()
            .NotFound()
            .WithName("GetSharedConversation")
            .WithSummary("Read a shared conversation by its token, without credentials (404 when unknown, revoked or expired)")
            .WithDescription("Shows the title and the user and assistant messages up to the shared seq; never the owner's identity. Sent with X-Robots-Tag: noindex.");
        return api;
    }
}
