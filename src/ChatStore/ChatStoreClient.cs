using ChatStore.Schema;
using ChatStore.Tenancy;
using ChatStore.Tenants;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ChatStore;

/// <summary>
/// The entry point: one per process (or per schema). Holds the <see cref="NpgsqlDataSource"/>;
/// <see cref="ForTenant"/> gives the tenant-scoped API, <see cref="Tenants"/> the operator API,
/// <see cref="Migrator"/> the schema.
/// </summary>
public sealed partial class ChatStoreClient : IAsyncDisposable
{
    readonly IAsyncDisposable? _owned;
    readonly bool _ownsDataSource;
    int _disposed;

    /// <summary>Creates a client over an existing data source (connections as the schema owner or a member of the application role).</summary>
    public ChatStoreClient(NpgsqlDataSource dataSource, string schema = "public", string? appRole = "chatstore_app",
        ChatStoreLimits? limits = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
        : this(dataSource, schema, appRole, limits, loggerFactory, null, timeProvider)
    {
    }

    internal ChatStoreClient(NpgsqlDataSource dataSource, string schema, string? appRole, ChatStoreLimits? limits,
        ILoggerFactory? loggerFactory, IAsyncDisposable? owned, TimeProvider? timeProvider, bool ownsDataSource = true)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        Sql.QuoteIdentifier(schema);
        var factory = loggerFactory ?? NullLoggerFactory.Instance;
        Context = new StoreContext(dataSource, schema, appRole, limits ?? new ChatStoreLimits(), factory, timeProvider);
        Migrator = new Migrator(dataSource, schema, appRole, logger: factory.CreateLogger<Migrator>());
        Tenants = new TenantStore(Context);
        _owned = owned;
        _ownsDataSource = ownsDataSource;
    }

    internal StoreContext Context { get; }

    /// <summary>The clock this client decides expiries by (<see cref="Connection.ChatStoreSettings.TimeProvider"/>).</summary>
    public TimeProvider TimeProvider => Context.Time;

    /// <summary>The data source every operation uses.</summary>
    public NpgsqlDataSource DataSource => Context.DataSource;

    /// <summary>The schema this client works in.</summary>
    public string Schema => Context.Schema;

    /// <summary>The schema's migrator: init, migrate, rollback, status, verify.</summary>
    public Migrator Migrator { get; }

    /// <summary>Operator operations: tenants and their API keys.</summary>
    public TenantStore Tenants { get; }

    /// <summary>The API of one tenant.</summary>
    public TenantScope ForTenant(Guid tenantId) => new(Context, Validate.Id(tenantId, "tenantId"));

    /// <summary>Disposes the data source (unless it was an app's own, handed over by dependency injection) and stops the embedded cluster this client started.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (_ownsDataSource)
            await Context.DataSource.DisposeAsync().ConfigureAwait(false);
        if (_owned is not null)
            await _owned.DisposeAsync().ConfigureAwait(false);
    }
}
