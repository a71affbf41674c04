using System.Globalization;
using ChatStore.DependencyInjection;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ChatStore.Server.Apis;

/// <summary><c>/healthz</c> (the process is up) and <c>/readyz</c> (the database answers and the schema is up to date). Neither takes credentials.</summary>
public static class HealthApi
{
    /// <summary>The process is up.</summary>
    public sealed record Liveness(string Status);

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new Liveness("up")))
            .AllowAnonymous()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithName("Healthz").WithSummary("The process is up").WithTags("Health")
            .WithDescription("Answers 200 while the process runs, whatever the database's state: a liveness probe. Takes no credentials; a query parameter is 400.");
        app.MapGet("/readyz", async Task<Results<Ok<HealthReport>, ProblemHttpResult>> (HealthCheckService health, HttpContext context, CancellationToken ct) =>
            {
                var report = ChatStoreHealthCheck.Report(await health.CheckHealthAsync(r => r.Name == ChatStoreHealthCheck.DefaultName, ct));
                if (report.Healthy)
                    return TypedResults.Ok(report);
                context.Response.Headers.RetryAfter = ProblemMapping.OutageRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return TypedResults.Problem(ProblemMapping.Problem(503, "Not ready", NotReadyReason(report)));
            })
            .AllowAnonymous()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithName("Readyz").WithSummary("The database is reachable and the schema is up to date").WithTags("Health")
            .WithDescription("200 with the server and schema versions when ChatStore can serve; otherwise 503 problem details whose detail says why " +
                             "(the database's own error, passwords masked; pgvector missing; migrations pending) and Retry-After. Takes no credentials.");
        return app;
    }

    static string NotReadyReason(HealthReport report)
    {
        if (!report.Reachable)
            return $"The database cannot be reached: {report.Error} Check DATABASE_URL and that PostgreSQL is running.";
        if (report.PgvectorVersion is null)
            return "The pgvector extension is not installed in the database: run `chatstore db init` (or scripts/setup.sh on the database host).";
        return report.SchemaVersion == 0
            ? "The schema is not initialised: run `chatstore db init`."
            : $"The schema is at version {report.SchemaVersion} with {report.PendingMigrations} migration(s) pending: run `chatstore db migrate`.";
    }
}
