using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>A user's whole data out (JSON Lines) and back in, GDPR erase, and the tenant's retention purge.</summary>
public static class ExportApi
{
    public sealed record Erased(IReadOnlyDictionary<string, long> DeletedRows);

    public static RouteGroupBuilder MapExportApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/").WithTags("Export").TenantProblems();

        api.MapGet("/users/{userId:guid}/export", async (Guid userId, Caller caller, HttpContext http, CancellationToken ct) =>
            {
                var user = caller.ActAs(userId);
                // Check first so a foreign id is a 404 problem, not an empty 200 stream.
                await caller.Scope.Users.GetAsync(user, ct);
                http.Response.ContentType = "application/x-ndjson";
                http.Response.Headers.ContentDisposition = $"attachment; filename=\"chatstore-user-{user}.jsonl\"";
                await caller.Scope.Export.ExportUserAsync(user, http.Response.Body, ct);
                return Results.Empty;
            })
            .RequireTenant().NotFound()
            .Produces(StatusCodes.Status200OK, contentType: "application/x-ndjson")
            .WithName("ExportUser").WithSummary("A user's whole data as JSON Lines, streamed (a session exports only itself)");

        api.MapPost("/users/import", async (HttpContext http, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Export.ImportUserAsync(http.Request.Body, ct)))
            .RequireTenantKey().Conflict()
            .Accepts<string>("application/x-ndjson")
            .WithName("ImportUser").WithSummary("Import a user exported as JSON Lines into this tenant, in one transaction (tenant API key)");

        api.MapPost("/users/{userId:guid}/erase", async (Guid userId, Caller caller, CallerAuthentication auth, CancellationToken ct) =>
            {
                var erased = await caller.Scope.Export.EraseUserAsync(userId, ct);
                auth.Invalidate();
                return TypedResults.Ok(new Erased(erased));
            })
            .RequireTenantKey().NotFound()
            .WithName("EraseUser").WithSummary("GDPR erase: delete every row of a user in one transaction; returns counts per table (tenant API key)");

        api.MapPost("/retention/purge", async (int? batchSize, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Retention.PurgeAsync(batchSize: batchSize ?? 1000, cancellationToken: ct)))
            .RequireTenantKey()
            .WithName("PurgeRetention").WithSummary("Apply the tenant's retention policy now, in bounded batches (tenant API key)");
        return api;
    }
}
