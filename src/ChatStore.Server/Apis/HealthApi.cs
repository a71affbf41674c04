using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary><c>/healthz</c> (the process is up) and <c>/readyz</c> (the database answers and the schema is up to date).</summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "up" }))
            .WithName("Healthz").WithSummary("The process is up").WithTags("Health");
        app.MapGet("/readyz", async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> (ChatStoreClient client, CancellationToken ct) =>
            {
                var report = await client.HealthCheckAsync(ct);
                return report.Healthy ? TypedResults.Ok(report) : TypedResults.Json(report, statusCode: 503);
            })
            .WithName("Readyz").WithSummary("The database is reachable and the schema is up to date (503 otherwise)").WithTags("Health");
        return app;
    }
}
