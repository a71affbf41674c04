using ChatStore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ChatStore.DependencyInjection;

/// <summary>
/// The database as a health check: healthy when it answers, pgvector is installed and every ChatStore migration
/// is applied; unhealthy otherwise, with what was found (<see cref="HealthReport"/>) as the result's data under
/// <see cref="ReportKey"/> and the reason, password masked, as its description.
/// </summary>
public sealed class ChatStoreHealthCheck(ChatStoreStartup startup, IServiceProvider? services = null) : IHealthCheck
{
    /// <summary>The registration name <see cref="ChatStoreBuilder.AddHealthChecks"/> uses by default.</summary>
    public const string DefaultName = "chatstore";

    /// <summary>The key of the <see cref="HealthReport"/> in the result's data.</summary>
    public const string ReportKey = "report";

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var client = await startup.GetClientAsync(cancellationToken).ConfigureAwait(false);
        // The container's client once it can be resolved: an app (or a test) that registers its own is checked, not ChatStore's default.
        if (services?.GetService(typeof(ChatStoreClient)) is ChatStoreClient registered)
            client = registered;
        var report = await client.HealthCheckAsync(cancellationToken).ConfigureAwait(false);
        var data = new Dictionary<string, object> { [ReportKey] = report };
        if (report.Healthy)
            return HealthCheckResult.Healthy($"PostgreSQL {report.ServerVersion}, pgvector {report.PgvectorVersion}, schema version {report.SchemaVersion}", data);
        var reason = report switch
        {
            { Reachable: false } => $"The database is not reachable: {report.Error}",
            { PgvectorVersion: null } => "The pgvector extension is not installed: run `chatstore db init` as the database owner.",
            { SchemaVersion: 0 } => "ChatStore's schema is not created: run `chatstore db init`.",
            _ => $"{report.PendingMigrations} migration(s) are not applied: run `chatstore db migrate`.",
        };
        return new HealthCheckResult(context.Registration.FailureStatus, reason, data: data);
    }

    /// <summary>
    /// ChatStore's <see cref="HealthReport"/> from a run of the health checks (<c>HealthCheckService</c>): what the
    /// check found, or, when it could not run (the embedded cluster failed to start), an unreachable report with the reason.
    /// </summary>
    public static HealthReport Report(Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport checks, string name = DefaultName)
    {
        ArgumentNullException.ThrowIfNull(checks);
        if (!checks.Entries.TryGetValue(name, out var entry))
            return new HealthReport(false, null, null, 0, 0, $"No health check named '{name}' is registered: call AddChatStore().AddHealthChecks().");
        return entry.Data.TryGetValue(ReportKey, out var report) && report is HealthReport found
            ? found
            : new HealthReport(false, null, null, 0, 0, Connection.DatabaseUrl.MaskSecrets(entry.Exception?.Message ?? entry.Description ?? "The check did not run."));
    }
}
