using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ChatStore.Tenancy;

/// <summary>What every feature store needs: the data source, the schema, the role, the limits, a logger.</summary>
internal sealed partial class StoreContext(NpgsqlDataSource dataSource, string schema, string? appRole, ChatStoreLimits limits, ILoggerFactory loggerFactory,
    TimeProvider? timeProvider = null)
{
    public NpgsqlDataSource DataSource { get; } = dataSource;

    public string Schema { get; } = schema;

    public string? AppRole { get; } = appRole;

    /// <summary>The <c>SET LOCAL ROLE</c> of a tenant scope: the application role (quoted), or the session's own role when there is none.</summary>
    public string SetRoleSql { get; } = "SET LOCAL ROLE " + (appRole is null ? "NONE" : ChatStore.Sql.QuoteIdentifier(appRole));

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

    /// <summary>The token a statement writes where it names its tenant (<c>WHERE m.tenant_id = {tenant}</c>).</summary>
    public const string TenantToken = "{tenant}";

    /// <summary>
    /// The SQL with <c>{schema}</c> replaced by the quoted schema name and <c>{tenant}</c> by <c>$1</c>, the tenant's
    /// parameter: in a statement that names its tenant, the statement's own parameters move up by one ($1 becomes
    /// $2, …), so callers add them in their written order after the tenant (see <see cref="NamesTenant"/>). Query
    /// text is a <c>const string</c>, so the rendered form is cached by reference: one dictionary probe per call.
    /// </summary>
    public string Sql(string sql) => _rendered.GetOrAdd(sql, static (s, q) => Render(s, q), _quotedSchema);

    /// <summary>Whether <paramref name="sql"/> names its tenant through <see cref="TenantToken"/>: its first parameter is the tenant.</summary>
    public static bool NamesTenant(string sql) => sql.Contains(TenantToken, StringComparison.Ordinal);

    internal static string Render(string sql, string quotedSchema)
    {
        var text = sql.Replace("{schema}", quotedSchema, StringComparison.Ordinal);
        if (!NamesTenant(text))
            return text;
        text = Parameter().Replace(text, m => "$" + (int.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture));
        return text.Replace(TenantToken, "$1", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\$([0-9]+)")]
    private static partial Regex Parameter();
}
