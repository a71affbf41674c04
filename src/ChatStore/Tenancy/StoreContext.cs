using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ChatStore.Tenancy;

/// <summary>What every feature store needs: the data source, the schema, the role, the limits, a logger.</summary>
internal sealed class StoreContext(NpgsqlDataSource dataSource, string schema, string? appRole, ChatStoreLimits limits, ILoggerFactory loggerFactory,
    TimeProvider? timeProvider = null)
{
    public NpgsqlDataSource DataSource { get; } = dataSource;

    public string Schema { get; } = schema;

    public string? AppRole { get; } = appRole;

    /// <summary>The value for <c>set_config('role', …)</c>: the application role, or the session's own role when there is none.</summary>
    public string RoleSetting { get; } = appRole ?? "none";

    public ChatStoreLimits Limits { get; } = limits;

    public ILoggerFactory LoggerFactory { get; } = loggerFactory;

    /// <summary>The clock for times ChatStore decides in .NET (expiries, cached sizes); <see cref="TimeProvider.System"/> unless the settings give another.</summary>
    public TimeProvider Time { get; } = timeProvider ?? TimeProvider.System;

    /// <summary>The sizes of filtered vector sets that auto-mode search learnt (see <see cref="Search.VectorSetSizes"/>).</summary>
    public Search.VectorSetSizes VectorSetSizes { get; } = new(timeProvider ?? TimeProvider.System);

    /// <summary>Which tenants share search plans (see <see cref="Search.TenantPlanClasses"/>).</summary>
    public Search.TenantPlanClasses PlanClasses { get; } = new(loggerFactory.CreateLogger<Search.TenantPlanClasses>());

    readonly string _quotedSchema = ChatStore.Sql.QuoteIdentifier(schema);
    readonly ConcurrentDictionary<string, string> _rendered = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// The SQL with <c>{schema}</c> replaced by the quoted schema name. Query text is a
    /// <c>const string</c>, so the rendered form is cached by reference: one dictionary probe per call.
    /// </summary>
    public string Sql(string sql) => _rendered.GetOrAdd(sql, static (s, q) => s.Replace("{schema}", q, StringComparison.Ordinal), _quotedSchema);
}
