using System.Text.Json;
using ChatStore.Documents;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>
/// Uploaded documents (ChatStore keeps metadata, status and extracted text, not file content):
/// create, list, get, processing status transitions, extracted text, soft delete. A session caller
/// reaches only its own.
/// </summary>
public static class DocumentsApi
{
    /// <summary>Client-settable fields of a new document; sha256 is the base64 of the 32-byte digest. It starts pending.</summary>
    public sealed record CreateDocumentRequest(
        Guid? UserId, Guid? ConversationId, string? Filename, string? MimeType, long? SizeBytes, byte[]? Sha256, string? StorageUri, JsonElement? Metadata);

    public sealed record ListDocumentsQuery(Guid? UserId, string? Status, int? Limit, string? Cursor);

    /// <summary>Processing finished; the extracted text is stored when given.</summary>
    public sealed record ReadyRequest(string? ExtractedText);

    public sealed record FailedRequest(string? Error);

    /// <summary>The extracted text; null removes it.</summary>
    public sealed record ExtractedTextRequest(string? Text);

    public static RouteGroupBuilder MapDocumentsApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/documents").WithTags("Documents").RequireTenant().TenantProblems();

        api.MapPost("/", async (CreateDocumentRequest body, Caller caller, CancellationToken ct) =>
            {
                var document = await caller.Scope.Documents.CreateAsync(new NewDocument
                {
                    UserId = caller.ActAs(body.UserId), ConversationId = body.ConversationId, Filename = body.Filename!, MimeType = body.MimeType,
                    SizeBytes = body.SizeBytes ?? 0, Sha256 = body.Sha256, StorageUri = body.StorageUri, Metadata = body.Metadata,
                }, ct);
                return TypedResults.Created($"/v1/documents/{document.Id}", document);
            })
            .NotFound().Idempotent()
            .WithName("CreateDocument").WithSummary("Record an uploaded document (status pending)")
            .WithDescription("conversationId must be one of the user's conversations. " + ApiMetadata.UserIdRule);

        api.MapGet("/", async ([AsParameters] ListDocumentsQuery query, Caller caller, CancellationToken ct) =>
            {
                var user = caller.ActAs(query.UserId);
                var page = await caller.Scope.Documents.ListAsync(user, new DocumentQuery { Limit = query.Limit ?? 50, Cursor = query.Cursor, Status = query.Status }, ct);
                return TypedResults.Ok(await Access.ListOfUserAsync(caller, user, page, page.Items.Count, ct));
            })
            .NotFound()
            .WithName("ListDocuments").WithSummary("A user's documents, newest first, keyset-paginated, optionally of one status")
            .WithDescription("status: pending, processing, ready or failed. " + ApiMetadata.UserIdRule);

        api.MapGet("/{documentId:guid}", async (Guid documentId, Caller caller, CancellationToken ct) =>
            {
                var document = await caller.Scope.Documents.GetAsync(documentId, ct);
                caller.EnsureOwns(document.UserId, "document", documentId);
                return TypedResults.Ok(document);
            })
            .NotFound()
            .WithName("GetDocument").WithSummary("Get a document (without its extracted text)");

        api.MapDelete("/{documentId:guid}", async (Guid documentId, Caller caller, CancellationToken ct) =>
            {
                await Access.DocumentAsync(caller, documentId, ct);
                await caller.Scope.Documents.DeleteAsync(documentId, ct);
                return TypedResults.NoContent();
            })
            .NotFound()
            .WithName("DeleteDocument").WithSummary("Soft-delete a document; it and its analyses are no longer found");

        api.MapPost("/{documentId:guid}/processing", async (Guid documentId, Caller caller, CancellationToken ct) =>
            {
                await Access.DocumentAsync(caller, documentId, ct);
                return TypedResults.Ok(await caller.Scope.Documents.MarkProcessingAsync(documentId, ct));
            })
            .NotFound().Conflict()
            .WithName("MarkDocumentProcessing").WithSummary("Start processing: pending or failed (a retry) → processing");

        api.MapPost("/{documentId:guid}/ready", async (Guid documentId, ReadyRequest body, Caller caller, CancellationToken ct) =>
            {
                await Access.DocumentAsync(caller, documentId, ct);
                return TypedResults.Ok(await caller.Scope.Documents.MarkReadyAsync(documentId, body.ExtractedText, ct));
            })
            .NotFound().Conflict()
            .WithName("MarkDocumentReady").WithSummary("Finish processing: processing → ready, storing the extracted text when given");

        api.MapPost("/{documentId:guid}/failed", async (Guid documentId, FailedRequest body, Caller caller, CancellationToken ct) =>
            {
                await Access.DocumentAsync(caller, documentId, ct);
                return TypedResults.Ok(await caller.Scope.Documents.MarkFailedAsync(documentId, body.Error!, ct));
            })
            .NotFound().Conflict()
            .WithName("MarkDocumentFailed").WithSummary("Record that processing failed: processing → failed with the error");

        api.MapGet("/{documentId:guid}/text", async Task<Results<ContentHttpResult, NoContent>> (Guid documentId, Caller caller, CancellationToken ct) =>
            {
                await Access.DocumentAsync(caller, documentId, ct);
                return await caller.Scope.Documents.GetExtractedTextAsync(documentId, ct) is string text
                    ? TypedResults.Text(text, "text/plain; charset=utf-8")
                    : TypedResults.NoContent();
            })
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .NotFound()
            .WithName("GetDocumentText").WithSummary("A document's extracted text as text/plain (204 when none is stored)");

        api.MapPut("/{documentId:guid}/text", async (Guid documentId, ExtractedTextRequest body, Caller caller, CancellationToken ct) =>
            {
                await Access.DocumentAsync(caller, documentId, ct);
                return TypedResults.Ok(await caller.Scope.Documents.SetExtractedTextAsync(documentId, body.Text, ct));
            })
            .NotFound()
            .WithName("SetDocumentText").WithSummary("Store (or with null remove) a document's extracted text, in any status");
        return api;
    }
}
