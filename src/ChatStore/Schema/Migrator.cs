using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ChatStore.Schema;

/// <summary>
/// Brings a schema to the version its migrations define and back: init, migrate, rollback, status,
/// verify, reset and script. Runs as the schema owner; every run holds a
/// <c>pg_advisory_lock</c> keyed by the schema, so concurrent migrators apply each migration once.
/// </summary>
public sealed partial class Migrator
{
    // pg_advisory_lock(LockClass, hashtext(schema)) serialises runs per schema;
    // pg_advisory_xact_lock(LockClass, 0) serialises CREATE EXTENSION across schemas.
    const int LockClass = 0x43685374; // "ChSt"
    const string HistoryTable = "chatstore_migrations";

    readonly NpgsqlDataSource _dataSource;
    readonly ILogger _logger;

    /// <summary>Creates a migrator for <paramref name="schema"/> with ChatStore's migrations followed by <paramref name="appSources"/>.</summary>
    /// <param name="dataSource">Connections as the schema owner (not the application role).</param>
    /// <param name="schema">The schema name, unquoted (for example <c>teddy-ai</c>).</param>
    /// <param name="appRole">The application role to create and grant to, or null for none.</param>
    /// <param name="appSources">Apps' own migration sources, run after ChatStore's in this order.</param>
    /// <param name="logger">Where progress is logged.</param>
    public Migrator(NpgsqlDataSource dataSource, string schema, string? appRole = "chatstore_app",
        IEnumerable<MigrationSource>? appSources = null, ILogger? logger = null)
    {
        _dataSource = dataSource;
        Schema = schema;
        QuotedSchema = Sql.QuoteIdentifier(schema);
        AppRole = appRole;
        _logger = logger ?? NullLogger.Instance;
        Sources = [MigrationSource.ChatStore, .. appSources ?? []];
        if (Sources.Select(s => s.Name).Distinct(StringComparer.Ordinal).Count() != Sources.Count)
            throw new ChatStoreConfigurationException("Two migration sources have the same name.");
    }

    /// <summary>The schema, unquoted.</summary>
    public string Schema { get; }

    /// <summary>The schema, quoted for SQL.</summary>
    public string QuotedSchema { get; }

    /// <summary>The application role, or null.</summary>
    public string? AppRole { get; }

    /// <summary>ChatStore's source first, then the apps'.</summary>
    public IReadOnlyList<MigrationSource> Sources { get; }

    /// <summary>
    /// Creates the schema, the extensions (pgvector, btree_gin), the application role and the history table when
    /// missing, then applies every pending migration. Safe to run any number of times; when the
    /// schema is already up to date it changes nothing and says so.
    /// </summary>
    public async Task<MigrationRun> InitAsync(IProgress<MigrationStep>? progress = null, CancellationToken cancellationToken = default)
    {
        await using var locked = await LockAsync("Initialising", cancellationToken).ConfigureAwait(false);
        var conn = locked.Connection;
        var created = await EnsureFoundationAsync(conn, cancellationToken).ConfigureAwait(false);
        var run = await MigrateLockedAsync(conn, null, null, progress, cancellationToken).ConfigureAwait(false);
        return run with { AlreadyInitialised = !created && run.Applied.Count == 0 };
    }

    /// <summary>Applies pending migrations: all of them, or those of <paramref name="source"/> up to version <paramref name="to"/>.</summary>
    public async Task<MigrationRun> MigrateAsync(int? to = null, string source = MigrationSource.ChatStoreName,
        IProgress<MigrationStep>? progress = null, CancellationToken cancellationToken = default)
    {
        await using var locked = await LockAsync("Migrating", cancellationToken).ConfigureAwait(false);
        var conn = locked.Connection;
        await EnsureFoundationAsync(conn, cancellationToken).ConfigureAwait(false);
        return await MigrateLockedAsync(conn, to, to is null ? null : FindSource(source), progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Rolls back the last <paramref name="steps"/> applied migrations (any source, newest first), or
    /// every migration of <paramref name="source"/> above version <paramref name="to"/> together with
    /// whatever was applied after it.
    /// </summary>
    public async Task<MigrationRun> RollbackAsync(int? steps = null, int? to = null, string source = MigrationSource.ChatStoreName,
        IProgress<MigrationStep>? progress = null, CancellationToken cancellationToken = default)
    {
        if (steps is null == to is null)
            throw new ChatStoreValidationException("steps", "one_of", "Give either the number of steps or the version to roll back to.");
        if (steps < 1)
            throw new ChatStoreValidationException("steps", "min", "Roll back at least one step.");
        if (to < 0)
            throw new ChatStoreValidationException("to", "min", "The target version cannot be negative.");
        FindSource(source);

        await using var locked = await LockAsync("Rolling back", cancellationToken).ConfigureAwait(false);
        var conn = locked.Connection;
        // A schema that was never initialised has no history table: nothing is applied, so nothing rolls back.
        var applied = await HistoryExistsAsync(conn, cancellationToken).ConfigureAwait(false)
            ? await ReadHistoryAsync(conn, cancellationToken).ConfigureAwait(false)
            : [];
        var newestFirst = applied.OrderByDescending(a => a.Order).ToList();
        List<AppliedMigration> undo;
        if (steps is int n)
        {
            undo = [.. newestFirst.Take(n)];
        }
        else
        {
            var earliest = applied.Where(a => a.Source == source && a.Version > to).Select(a => a.Order).DefaultIfEmpty(long.MaxValue).Min();
            undo = [.. newestFirst.Where(a => a.Order >= earliest)];
        }

        var done = new List<MigrationStep>();
        foreach (var a in undo)
        {
            var migration = FindSource(a.Source).Migrations.FirstOrDefault(m => m.Version == a.Version)
                ?? throw new ChatStoreMigrationConflictException($"Migration {a.Source} {a.Version:D4}_{a.Name} is applied but its file is gone, so it cannot be rolled back. Restore the file.");
            if (migration.Down is null)
                throw new ChatStoreMigrationConflictException($"{migration.Source} {migration.FileName} has no .down.sql, so it cannot be rolled back.");
            var sw = Stopwatch.StartNew();
            await using (var tx = await conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await ExecuteScriptAsync(conn, Render(migration.Down), cancellationToken).ConfigureAwait(false);
                    await using var delete = new NpgsqlCommand($"DELETE FROM {QuotedSchema}.{HistoryTable} WHERE source = $1 AND version = $2", conn);
                    delete.Parameters.Add(new() { Value = a.Source });
                    delete.Parameters.Add(new() { Value = a.Version });
                    await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException e)
                {
                    throw new ChatStoreException($"Rolling back {migration.Source} {migration.FileName.Replace(".up.", ".down.", StringComparison.Ordinal)} failed: {e.MessageText}. Nothing of this step was changed; fix the down script and run rollback again.", e);
                }
            }
            var step = new MigrationStep(a.Source, a.Version, a.Name, MigrationDirection.Down, sw.Elapsed);
            LogStep(step);
            progress?.Report(step);
            done.Add(step);
        }
        return new MigrationRun(done, false);
    }

    /// <summary>Every known and applied migration with its state: applied, pending, changed since applied, or applied but missing.</summary>
    public async Task<MigrationStatus> StatusAsync(CancellationToken cancellationToken = default)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        List<AppliedMigration> applied;
        try
        {
            applied = await HistoryExistsAsync(conn, cancellationToken).ConfigureAwait(false)
                ? await ReadHistoryAsync(conn, cancellationToken).ConfigureAwait(false)
                : [];
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            var check = await SchemaOwner.CheckAsync(conn, Schema, cancellationToken).ConfigureAwait(false);
            var login = check?.Login ?? "this login";
            throw new ChatStorePermissionException(
                $"Reading the migration history of schema {Schema} ({HistoryTable}) was refused: {e.MessageText}. " +
                $"Run `chatstore db grant --to {login}` connected as the schema owner{(check is { } c ? $" ({c.Owner})" : "")}: it lets {login} read the history and act as the application role.",
                check?.Owner, e);
        }
        var entries = new List<MigrationStatusEntry>();
        foreach (var source in Sources)
        {
            var bySource = applied.Where(a => a.Source == source.Name).ToDictionary(a => a.Version);
            foreach (var m in source.Migrations)
            {
                if (bySource.Remove(m.Version, out var a))
                {
                    var state = a.Checksum == m.Checksum ? MigrationState.Applied : MigrationState.ChecksumMismatch;
                    entries.Add(new(m.Source, m.Version, m.Name, state, a.AppliedAt, a.ExecutionMs));
                }
                else
                {
                    entries.Add(new(m.Source, m.Version, m.Name, MigrationState.Pending, null, null));
                }
            }
            entries.AddRange(bySource.Values.Select(a => new MigrationStatusEntry(a.Source, a.Version, a.Name, MigrationState.Missing, a.AppliedAt, a.ExecutionMs)));
        }
        foreach (var a in applied.Where(a => Sources.All(s => s.Name != a.Source)))
            entries.Add(new(a.Source, a.Version, a.Name, MigrationState.Missing, a.AppliedAt, a.ExecutionMs));
        return new MigrationStatus(Schema, entries);
    }

    /// <summary>Drops every object in the schema (tables, views, sequences, functions, types), leaving it empty.</summary>
    public async Task ResetAsync(CancellationToken cancellationToken = default)
    {
        await using var locked = await LockAsync("Resetting", cancellationToken).ConfigureAwait(false);
        var conn = locked.Connection;
        const string objects = """
            SELECT format('DROP %s IF EXISTS %s CASCADE', CASE WHEN c.relkind IN ('v') THEN 'VIEW' WHEN c.relkind = 'm' THEN 'MATERIALIZED VIEW'
                       WHEN c.relkind = 'S' THEN 'SEQUENCE' WHEN c.relkind = 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, c.oid::regclass)
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e', 'i', 'a') AND d.classid = 'pg_class'::regclass)
            UNION ALL
            SELECT format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure)
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
            UNION ALL
            SELECT format('DROP TYPE IF EXISTS %s CASCADE', t.oid::regtype)
              FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname = $1 AND t.typtype IN ('c', 'e', 'd', 'r') AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
            """;
        var drops = new List<string>();
        await using (var cmd = new NpgsqlCommand(objects, conn))
        {
            cmd.Parameters.Add(new() { Value = Schema });
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                drops.Add(reader.GetString(0));
        }
        await using var tx = await conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var drop in drops)
        {
            await using var cmd = new NpgsqlCommand(drop, conn);
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        if (AppRole is not null && await RoleExistsAsync(conn, cancellationToken).ConfigureAwait(false)
            && await SchemaExistsAsync(conn, cancellationToken).ConfigureAwait(false))
        {
            await using var revoke = new NpgsqlCommand($"REVOKE ALL ON SCHEMA {QuotedSchema} FROM {Sql.QuoteIdentifier(AppRole)}", conn);
            await revoke.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        _logger.LogWarning("Reset schema {Schema}: dropped {Count} objects", Schema, drops.Count);
    }

    /// <summary>
    /// The SQL that migrating <paramref name="source"/> from version <paramref name="from"/> (exclusive) to
    /// <paramref name="to"/> (inclusive) would run, with the schema and role filled in, for review.
    /// </summary>
    public string Script(int? from = null, int? to = null, string source = MigrationSource.ChatStoreName)
    {
        var s = FindSource(source);
        var sb = new System.Text.StringBuilder();
        foreach (var m in s.Migrations.Where(m => m.Version > (from ?? 0) && m.Version <= (to ?? int.MaxValue)))
        {
            sb.Append("-- ").Append(m.Source).Append(' ').Append(m.FileName).Append(" (checksum ").Append(m.Checksum).AppendLine(")");
            if (m.Transactional) sb.AppendLine("BEGIN;");
            sb.AppendLine(Render(m.Up).TrimEnd());
            if (m.Transactional) sb.AppendLine("COMMIT;");
            sb.AppendLine();
        }
        return sb.ToString();
    }

    /// <summary>Replaces the <c>{schema}</c> and <c>{app_role}</c> tokens.</summary>
    internal string Render(string sql, string? schemaOverride = null) =>
        sql.Replace("{schema}", schemaOverride ?? QuotedSchema, StringComparison.Ordinal)
           .Replace("{app_role}", Sql.QuoteIdentifier(AppRole ?? "pg_database_owner"), StringComparison.Ordinal);

    MigrationSource FindSource(string name) =>
        Sources.FirstOrDefault(s => s.Name == name)
        ?? throw new ChatStoreValidationException("source", "unknown", $"There is no migration source named '{name}'. Known: {string.Join(", ", Sources.Select(s => s.Name))}.");

    async Task<SchemaLock> LockAsync(string action, CancellationToken cancellationToken)
    {
        var conn = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Changing the schema needs its owner: say so before anything runs, not halfway through a migration.
            if (await SchemaOwner.CheckAsync(conn, Schema, cancellationToken).ConfigureAwait(false) is { IsOwner: false } check)
                throw SchemaOwner.NotOwner($"{action} schema {Schema}", Schema, check.Owner, check.Login);
            // Poll rather than block: a waiter blocked inside pg_advisory_lock is a running
            // transaction, and CREATE INDEX CONCURRENTLY in the holder would wait for it forever.
            await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock($1, hashtext($2))", conn);
            cmd.Parameters.Add(new() { Value = LockClass });
            cmd.Parameters.Add(new() { Value = Schema });
            var delay = 20;
            var waited = Stopwatch.StartNew();
            while (!(bool)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                if (waited.Elapsed > TimeSpan.FromSeconds(5) && delay >= 200)
                    _logger.LogInformation("Waiting for another migrator working on schema {Schema}", Schema);
                await Task.Delay(delay + Random.Shared.Next(delay), cancellationToken).ConfigureAwait(false);
                delay = Math.Min(delay * 2, 500);
            }
            return new SchemaLock(conn, Schema);
        }
        catch
        {
            await conn.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A connection holding the schema's session-level advisory lock; disposing it unlocks.</summary>
    sealed class SchemaLock(NpgsqlConnection connection, string schema) : IAsyncDisposable
    {
        public NpgsqlConnection Connection { get; } = connection;

        public async ValueTask DisposeAsync()
        {
            if (Connection.State != System.Data.ConnectionState.Open)
            {
                // A broken connection holds no lock once it closes.
                await Connection.DisposeAsync().ConfigureAwait(false);
                return;
            }
            try
            {
                await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock($1, hashtext($2))", Connection);
                cmd.Parameters.Add(new() { Value = LockClass });
                cmd.Parameters.Add(new() { Value = schema });
                await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
            catch (NpgsqlException)
            {
                // A broken connection holds no lock once it closes.
            }
            await Connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The extensions the schema needs: pgvector for embeddings, and btree_gin so that full-text indexes
    /// can lead with tenant_id (one GIN scan finds a tenant's matches; see migration 0011). Both are
    /// database-wide, created once and never dropped by a rollback.
    /// </summary>
    static readonly (string Name, string What)[] Extensions = [("vector", "pgvector"), ("btree_gin", "PostgreSQL contrib")];

    static Task<bool> ExtensionExistsAsync(NpgsqlConnection conn, string extension, CancellationToken cancellationToken) =>
        ScalarAsync<bool>(conn, $"SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = '{extension}')", cancellationToken);

    /// <summary>Schema, extensions, role and history table. Returns true when anything was created.</summary>
    async Task<bool> EnsureFoundationAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        var created = false;
        if (!await SchemaExistsAsync(conn, cancellationToken).ConfigureAwait(false))
        {
            await ExecuteAsync(conn, $"CREATE SCHEMA {QuotedSchema}", cancellationToken).ConfigureAwait(false);
            created = true;
        }
        foreach (var (extension, what) in Extensions)
        {
            if (await ExtensionExistsAsync(conn, extension, cancellationToken).ConfigureAwait(false))
                continue;
            await using var tx = await conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(conn, $"SELECT pg_advisory_xact_lock({LockClass}, 0)", cancellationToken).ConfigureAwait(false);
            try
            {
                await ExecuteAsync(conn, $"CREATE EXTENSION IF NOT EXISTS {extension}", cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedFile or PostgresErrorCodes.FeatureNotSupported)
            {
                throw new ChatStoreConfigurationException($"The {extension} extension ({what}) is not installed on the PostgreSQL server ({e.MessageText}). Run scripts/setup.sh on the database host, or install it for your PostgreSQL version.", e);
            }
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            await conn.ReloadTypesAsync(cancellationToken).ConfigureAwait(false);
            created = true;
        }
        await EnsureLeakproofTextMatchAsync(conn, cancellationToken).ConfigureAwait(false);
        if (AppRole is not null && !await RoleExistsAsync(conn, cancellationToken).ConfigureAwait(false))
        {
            // Roles are cluster-wide: another database's migrator may create it at the same moment.
            // LOGIN: on Citus the coordinator connects to the workers as the role a statement runs as.
            // With no password it still cannot log in through password authentication.
            var role = Sql.QuoteIdentifier(AppRole);
            await ExecuteAsync(conn, $"""
                DO $$ BEGIN
                    CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                END $$
                """, cancellationToken).ConfigureAwait(false);
            created = true;
        }
        if (AppRole is not null && !await ScalarAsync<bool>(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", cancellationToken).ConfigureAwait(false))
        {
            // The owner switches to the application role per transaction, so it must be a member.
            await using var member = new NpgsqlCommand("SELECT pg_has_role(current_user, $1, 'MEMBER')", conn);
            member.Parameters.Add(new() { Value = AppRole });
            if (!(bool)(await member.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
                await ExecuteAsync(conn, $"GRANT {Sql.QuoteIdentifier(AppRole)} TO CURRENT_USER", cancellationToken).ConfigureAwait(false);
        }
        if (!await HistoryExistsAsync(conn, cancellationToken).ConfigureAwait(false))
        {
            await ExecuteAsync(conn, $"""
                CREATE TABLE {QuotedSchema}.{HistoryTable} (
                    source       text NOT NULL,
                    version      integer NOT NULL,
                    name         text NOT NULL,
                    checksum     text NOT NULL,
                    applied_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
                    execution_ms integer NOT NULL,
                    PRIMARY KEY (source, version)
                );
                COMMENT ON TABLE {QuotedSchema}.{HistoryTable} IS 'ChatStore migration history: one row per applied migration per source.'
                """, cancellationToken).ConfigureAwait(false);
            created = true;
        }
        return created;
    }

    /// <summary>
    /// Row-level security keeps an operator that is not LEAKPROOF from being an index condition
    /// below a policy, so tenant-wide full-text search could not use its GIN indexes. The text-match
    /// operator (<c>ts_match_vq</c>, behind <c>@@</c>) reveals nothing but its result; when running as a
    /// superuser, init marks it LEAKPROOF (database-wide, once). Otherwise full text still works,
    /// through the per-user indexes, and the log says how to enable it.
    /// </summary>
    async Task EnsureLeakproofTextMatchAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        const string leakproof = "SELECT proleakproof FROM pg_proc WHERE oid = 'pg_catalog.ts_match_vq(tsvector, tsquery)'::regprocedure";
        if (await ScalarAsync<bool>(conn, leakproof, cancellationToken).ConfigureAwait(false))
            return;
        if (!await ScalarAsync<bool>(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", cancellationToken).ConfigureAwait(false))
        {
            _logger.LogWarning("Tenant-wide full-text search cannot use its GIN indexes under row-level security until a superuser runs: ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF");
            return;
        }
        await using var tx = await conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(conn, $"SELECT pg_advisory_xact_lock({LockClass}, 0)", cancellationToken).ConfigureAwait(false);
        if (!await ScalarAsync<bool>(conn, leakproof, cancellationToken).ConfigureAwait(false))
            await ExecuteAsync(conn, "ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF", cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    async Task<MigrationRun> MigrateLockedAsync(NpgsqlConnection conn, int? to, MigrationSource? only,
        IProgress<MigrationStep>? progress, CancellationToken cancellationToken)
    {
        var applied = await ReadHistoryAsync(conn, cancellationToken).ConfigureAwait(false);
        foreach (var a in applied)
        {
            var known = Sources.FirstOrDefault(s => s.Name == a.Source)?.Migrations.FirstOrDefault(m => m.Version == a.Version);
            if (known is not null && known.Checksum != a.Checksum)
                throw new ChatStoreMigrationConflictException(
                    $"{known.Source} migration {known.FileName} was changed after it was applied to schema {Schema} (checksum {a.Checksum[..12]}… is now {known.Checksum[..12]}…). " +
                    "Restore the file as it was and put the change in a new migration.");
        }
        if (to is int target && only is not null && target > 0 && only.Migrations.All(m => m.Version != target))
            throw new ChatStoreValidationException("to", "unknown_version", $"Source {only.Name} has no migration with version {target}.");

        var done = new List<MigrationStep>();
        foreach (var source in only is null ? Sources : [only])
        {
            var appliedVersions = applied.Where(a => a.Source == source.Name).Select(a => a.Version).ToHashSet();
            foreach (var m in source.Migrations.Where(m => !appliedVersions.Contains(m.Version) && m.Version <= (to ?? int.MaxValue)))
            {
                var current = appliedVersions.DefaultIfEmpty(0).Max();
                var step = await ApplyAsync(conn, m, current, cancellationToken).ConfigureAwait(false);
                appliedVersions.Add(m.Version);
                LogStep(step);
                progress?.Report(step);
                done.Add(step);
            }
        }
        return new MigrationRun(done, false);
    }

    async Task<MigrationStep> ApplyAsync(NpgsqlConnection conn, Migration m, int current, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        var sql = Render(m.Up);
        NpgsqlTransaction? tx = m.Transactional ? await conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false) : null;
        try
        {
            if (m.Transactional)
            {
                await ExecuteScriptAsync(conn, sql, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                foreach (var statement in SplitStatements(sql))
                    await ExecuteScriptAsync(conn, statement, cancellationToken).ConfigureAwait(false);
            }
            await using var insert = new NpgsqlCommand(
                $"INSERT INTO {QuotedSchema}.{HistoryTable} (source, version, name, checksum, execution_ms) VALUES ($1, $2, $3, $4, $5)", conn);
            insert.Parameters.Add(new() { Value = m.Source });
            insert.Parameters.Add(new() { Value = m.Version });
            insert.Parameters.Add(new() { Value = m.Name });
            insert.Parameters.Add(new() { Value = m.Checksum });
            insert.Parameters.Add(new() { Value = (int)sw.ElapsedMilliseconds });
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            if (tx is not null)
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e)
        {
            var where = e.Position > 0 ? $" at character {e.Position}" : "";
            throw new ChatStoreException(
                $"Migration {m.Source} {m.FileName} failed{where}: {e.MessageText}. " +
                (m.Transactional
                    ? $"It was rolled back; schema {Schema} is still at {m.Source} version {current}. Fix the migration and run migrate again."
                    : $"It runs outside a transaction, so statements before the failing one stayed applied; schema {Schema} is recorded at {m.Source} version {current}. Make the migration safe to re-run (IF NOT EXISTS, drop invalid indexes) and run migrate again."),
                e);
        }
        finally
        {
            if (tx is not null)
                await tx.DisposeAsync().ConfigureAwait(false);
        }
        return new MigrationStep(m.Source, m.Version, m.Name, MigrationDirection.Up, sw.Elapsed);
    }

    void LogStep(MigrationStep step) =>
        _logger.LogInformation("{Direction} {Source} {Version:D4}_{Name} in {Ms} ms (schema {Schema})",
            step.Direction == MigrationDirection.Up ? "Applied" : "Rolled back", step.Source, step.Version, step.Name,
            (long)step.Elapsed.TotalMilliseconds, Schema);

    internal async Task<List<AppliedMigration>> ReadHistoryAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(
            $"SELECT source, version, name, checksum, applied_at, execution_ms FROM {QuotedSchema}.{HistoryTable} ORDER BY applied_at, source, version", conn);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<AppliedMigration>();
        long order = 0;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new(reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetInt32(5), order++));
        }
        return list;
    }

    Task<bool> SchemaExistsAsync(NpgsqlConnection conn, CancellationToken cancellationToken) =>
        ScalarAsync<bool>(conn, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", cancellationToken, Schema);

    Task<bool> RoleExistsAsync(NpgsqlConnection conn, CancellationToken cancellationToken) =>
        ScalarAsync<bool>(conn, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", cancellationToken, AppRole!);

    Task<bool> HistoryExistsAsync(NpgsqlConnection conn, CancellationToken cancellationToken) =>
        ScalarAsync<bool>(conn, "SELECT to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL", cancellationToken, Schema, HistoryTable);

    internal static async Task<T> ScalarAsync<T>(NpgsqlConnection conn, string sql, CancellationToken cancellationToken, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var a in args)
            cmd.Parameters.Add(new() { Value = a });
        return (T)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    static async Task ExecuteAsync(NpgsqlConnection conn, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a whole script (many statements) with no timeout: index builds can be long.</summary>
    internal static Task ExecuteScriptAsync(NpgsqlConnection conn, string sql, CancellationToken cancellationToken) =>
        ExecuteAsync(conn, sql, cancellationToken);

    /// <summary>Splits a script into statements at top-level semicolons, respecting quotes, comments and dollar quoting.</summary>
    internal static IEnumerable<string> SplitStatements(string sql)
    {
        var start = 0;
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                var end = sql.IndexOf('\n', i);
                i = end < 0 ? sql.Length : end + 1;
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + 2;
            }
            else if (c is '\'' or '"')
            {
                var end = sql.IndexOf(c, i + 1);
                while (end >= 0 && end + 1 < sql.Length && sql[end + 1] == c)
                    end = sql.IndexOf(c, end + 2);
                i = end < 0 ? sql.Length : end + 1;
            }
            else if (c == '$' && DollarTag().Match(sql, i) is { Success: true } tag && tag.Index == i)
            {
                var end = sql.IndexOf(tag.Value, i + tag.Length, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + tag.Length;
            }
            else if (c == ';')
            {
                var statement = sql[start..i].Trim();
                if (HasCode(statement)) yield return statement;
                start = ++i;
            }
            else
            {
                i++;
            }
        }
        var last = sql[start..].Trim();
        if (HasCode(last)) yield return last;
    }

    static bool HasCode(string statement) =>
        statement.Split('\n').Any(line => line.Trim() is { Length: > 0 } t && !t.StartsWith("--", StringComparison.Ordinal));

    [GeneratedRegex(@"\$[A-Za-z_]*\$")]
    private static partial Regex DollarTag();
}
