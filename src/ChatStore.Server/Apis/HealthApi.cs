using ChatStore.DependencyInjection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ChatStore.Server.Apis;

/// <summary><c>/healthz</c> (the process is up) and <c>/readyz</c> (the database answers and the schema is up to date).</summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "up" }))
            .WithName("Healthz").WithSummary("The process is up").WithTags("Health");
        app.MapGet("/readyz", async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> (HealthCheckService health, CancellationToken ct) =>
            {
                var report = ChatStoreHealthCheck.Report(await health.CheckHealthAsync(r => r.Name == ChatStoreHealthCheck.DefaultName, ct));
                return report.Healthy ? TypedResults.Ok(report) : TypedResults.Json(report, statusCode: 503);
            })
            .WithName("Readyz").WithSummary("The database is reachable and the schema is up to date (503 otherwise)").WithTags("Health");
        return app;
    }
}
