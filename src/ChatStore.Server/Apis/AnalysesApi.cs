using System.Text.Json;
using ChatStore.Documents;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>Versioned AI analyses of documents (versions 1, 2, 3, … with no gaps).</summary>
public static class AnalysesApi
{
    /// <summary>Client-settable fields of an analysis; the version and timestamps are the server's.</summary>
    public sealed record AddAnalysisRequest(string? Category, string? Summary, JsonElement? Result, string? Provider, string? Model, string? TraceId);

    public sealed record AnalysisListQuery(int? Limit, string? Cursor);

    public static RouteGroupBuilder MapAnalysesApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/documents/{documentId:guid}/analyses").WithTags("Documents").RequireTenant().TenantProblems();

        api.MapPost("/", async (Guid documentId, AddAnalysisRequest body, Caller caller, CancellationToken ct) =>
            {
                await Access.DocumentAsync(caller, documentId, ct);
                var analysis = await caller.Scope.Documents.AddAnalysisAsync(documentId, new NewAnalysis
                {
                    Category = body.Category, Summary = body.Summary, Result = body.Result, Provider = body.Provider, Model = body.Model, TraceId = body.TraceId,
                }, ct);
                return TypedResults.Created($"/v1/documents/{documentId}/analyses/{analysis.Version}", analysis);
            })
            .NotFound().Idempotent()
            .WithName("AddAnalysis").WithSummary("Add an analysis as the document's next version");

        api.MapGet("/", async (Guid documentId, [AsParameters] AnalysisListQuery query, Caller caller, CancellationToken ct) =>
            {
                await Access.DocumentAsync(caller, documentId, ct);
                return TypedResults.Ok(await caller.Scope.Documents.ListAnalysesAsync(documentId, query.Limit ?? 50, query.Cursor, ct));
            })
            .NotFound()
            .WithName("ListAnalyses").WithSummary("A document's analyses, newest version first, keyset-paginated");

        api.MapGet("/latest", async (Guid documentId, Caller caller, CancellationToken ct) =>
            {
                await Access.DocumentAsync(caller, documentId, ct);
                return TypedResults.Ok(await caller.Scope.Documents.GetLatestAnalysisAsync(documentId, ct)
                    ?? throw new ChatStoreNotFoundException("analysis", $"{documentId} latest"));
            })
            .NotFound()
            .WithName("GetLatestAnalysis").WithSummary("A document's latest analysis (404 when it has none)");

        api.MapGet("/{version:int}", async (Guid documentId, int version, Caller caller, CancellationToken ct) =>
            {
                await Access.DocumentAsync(caller, documentId, ct);
                return TypedResults.Ok(await caller.Scope.Documents.GetAnalysisAsync(documentId, version, ct));
            })
            .NotFound()
            .WithName("GetAnalysis").WithSummary("One version of a document's analyses");
        return api;
    }
}
