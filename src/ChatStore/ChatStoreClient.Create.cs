using ChatStore.Connection;
using ChatStore.Embedded;
using ChatStore.Schema;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ChatStore;

/// <summary>What <see cref="ChatStoreClient.HealthCheckAsync"/> found.</summary>
/// <param name="Reachable">The database answered.</param>
/// <param name="ServerVersion">PostgreSQL's version.</param>
/// <param name="PgvectorVersion">The installed pgvector version, or null when the extension is missing.</param>
/// <param name="SchemaVersion">The highest applied ChatStore migration.</param>
/// <param name="PendingMigrations">Migrations not applied yet.</param>
/// <param name="Error">Why the database is not reachable or its schema cannot be read, when so (password masked).</param>
public sealed record HealthReport(bool Reachable, string? ServerVersion, string? PgvectorVersion, int SchemaVersion, int PendingMigrations, string? Error)
{
    /// <summary>Reachable, pgvector present and every migration applied.</summary>
    public bool Healthy => Reachable && PgvectorVersion is not null && PendingMigrations == 0 && SchemaVersion > 0;
}

public sealed partial class ChatStoreClient
{
    /// <summary>The database the embedded default cluster keeps ChatStore's data in.</summary>
    public const string EmbeddedDatabaseName = "chatstore";

    /// <summary>
    /// Creates a client from settings. With no connection string, starts (or joins) the embedded
    /// PostgreSQL cluster under <see cref="ChatStoreSettings.EmbeddedDataDirectory"/>; it is
    /// released when the client is disposed.
    /// </summary>
    public static async Task<ChatStoreClient> CreateAsync(ChatStoreSettings settings, ChatStoreLimits? limits = null,
        ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        loggerFactory ??= NullLoggerFactory.Instance;
        EmbeddedPostgres? embedded = null;
        try
        {
            string connectionString;
            if (settings.ConnectionString is { } configured)
            {
                connectionString = configured;
            }
            else
            {
                // Only the default directory moves when root's postgres user cannot reach it; a chosen one fails with the reason.
                embedded = await EmbeddedPostgres.StartAsync(settings.EmbeddedDataDirectory, binDirectory: null,
                    relocateWhenUnreachable: settings.EmbeddedDataDirectory == ChatStoreSettings.DefaultEmbeddedDataDirectory,
                    loggerFactory.CreateLogger<EmbeddedPostgres>(), cancellationToken).ConfigureAwait(false);
                connectionString = await EnsureEmbeddedDatabaseAsync(embedded.ConnectionString, cancellationToken).ConfigureAwait(false);
            }
            var dataSource = BuildDataSource(connectionString, settings, loggerFactory);
            return new ChatStoreClient(dataSource, settings.Schema, settings.AppRole, limits, loggerFactory, embedded, settings.TimeProvider);
        }
        catch
        {
            if (embedded is not null)
                await embedded.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The data source ChatStore builds from a connection string and <paramref name="settings"/>: pool size,
    /// command timeout, auto-prepare, and Npgsql's log lines through <paramref name="loggerFactory"/> with
    /// its per-statement lines at Debug. Builds only; opens no connection.
    /// </summary>
    internal static NpgsqlDataSource BuildDataSource(string connectionString, ChatStoreSettings settings, ILoggerFactory loggerFactory)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var cs = builder.ConnectionStringBuilder;
        if (settings.MaxPoolSize is int pool) cs.MaxPoolSize = pool;
        if (settings.CommandTimeoutSeconds is int timeout) cs.CommandTimeout = timeout;
        cs.ApplicationName ??= "chatstore";
        // Every setting ChatStore makes is transaction-local, so the per-return DISCARD ALL is not needed.
        cs.NoResetOnClose = true;
        // Prepared statements are ChatStore's default; a connection string that names Max Auto Prepare
        // (max_auto_prepare in a URL) decides instead: 0 behind PgBouncer in transaction mode, whose
        // server connections change between transactions and do not have the statements prepared.
        if (!new System.Data.Common.DbConnectionStringBuilder { ConnectionString = cs.ConnectionString }.ContainsKey("Max Auto Prepare"))
        {
            cs.MaxAutoPrepare = 128;
            cs.AutoPrepareMinUsages = 2;
        }
        builder.UseLoggerFactory(new QuietStatementsLoggerFactory(loggerFactory));
        return builder.Build();
    }

    /// <summary>Creates a client from settings (see <see cref="CreateAsync"/>), blocking while the embedded cluster starts. In an app with a host, use <c>services.AddChatStore()</c> instead: it starts the cluster in a hosted service.</summary>
    public static ChatStoreClient Create(ChatStoreSettings settings, ChatStoreLimits? limits = null, ILoggerFactory? loggerFactory = null) =>
        CreateAsync(settings, limits, loggerFactory).GetAwaiter().GetResult();

    static async Task<string> EnsureEmbeddedDatabaseAsync(string serverConnectionString, CancellationToken cancellationToken)
    {
        await using (var conn = new NpgsqlConnection(serverConnectionString))
        {
            await conn.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", conn);
            exists.Parameters.Add(new() { Value = EmbeddedDatabaseName });
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                try
                {
                    await using var create = new NpgsqlCommand($"CREATE DATABASE {Sql.QuoteIdentifier(EmbeddedDatabaseName)}", conn);
                    await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
                {
                    // Another process created it first.
                }
            }
        }
        return new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = EmbeddedDatabaseName }.ConnectionString;
    }

    /// <summary>The server's reachability and versions, and how far the schema is migrated.</summary>
    public async Task<HealthReport> HealthCheckAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await using var conn = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand("SELECT current_setting('server_version'), (SELECT extversion FROM pg_extension WHERE extname = 'vector')", conn);
            string server;
            string? vector;
            await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                server = reader.GetString(0);
                vector = reader.IsDBNull(1) ? null : reader.GetString(1);
            }
            try
            {
                var status = await Migrator.StatusAsync(cancellationToken).ConfigureAwait(false);
                return new HealthReport(true, server, vector, status.CurrentVersion, status.Pending, null);
            }
            catch (ChatStorePermissionException e)
            {
                // Reachable, but this login cannot read the migration history: not ready, and the error says what to grant.
                return new HealthReport(true, server, vector, 0, 0, e.Message);
            }
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return new HealthReport(false, null, null, 0, 0, DatabaseUrl.MaskSecrets(e.Message));
        }
    }
}
