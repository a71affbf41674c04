using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>Which documents a message refers to. Only documents of the message's user can be linked.</summary>
public static class MessageDocumentsApi
{
    public sealed record LinkDocumentsRequest(IReadOnlyList<Guid>? DocumentIds);

    public sealed record DocumentLinkQuery(int? Limit, string? Cursor);

    public static RouteGroupBuilder MapMessageDocumentsApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/messages/{messageId:guid}/documents").WithTags("Messages").RequireTenant().TenantProblems();

        api.MapPost("/", async (Guid messageId, LinkDocumentsRequest body, Caller caller, CancellationToken ct) =>
            {
                await Access.MessageAsync(caller, messageId, ct);
                await caller.Scope.Messages.LinkDocumentsAsync(messageId, body.DocumentIds ?? [], ct);
                return TypedResults.NoContent();
            })
            .NotFound()
            .WithName("LinkMessageDocuments").WithSummary("Link documents of the message's user to a message (all or nothing; existing links are kept)");

        api.MapGet("/", async (Guid messageId, [AsParameters] DocumentLinkQuery query, Caller caller, CancellationToken ct) =>
            {
                await Access.MessageAsync(caller, messageId, ct);
                var ids = await caller.Scope.Messages.ListDocumentIdsAsync(messageId, ct);
                return TypedResults.Ok(Slice.Of(ids, query.Limit, query.Cursor, id => id));
            })
            .NotFound()
            .WithName("ListMessageDocuments").WithSummary("The ids of the documents linked to a message, ordered by id");
        return api;
    }
}
