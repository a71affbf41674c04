using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ChatStore.Schema;

/// <summary>
/// Where each table of a schema goes on a Citus cluster: the shared tables become reference tables
/// (a copy on every node), every tenant table is distributed by <c>tenant_id</c>, all in one
/// colocation group, so one tenant's rows of every table live on the same shard placement.
/// </summary>
/// <param name="ReferenceTables">Tables copied to every node: <c>tenants</c>, <c>embedding_spaces</c> and the migrations table.</param>
/// <param name="DistributedTables">Tenant tables (those with a <c>tenant_id</c> column), parents before the tables whose foreign keys point at them.</param>
public sealed record DistributionPlan(IReadOnlyList<string> ReferenceTables, IReadOnlyList<string> DistributedTables);

/// <summary>How far a schema is distributed on Citus (see <see cref="Migrator.DistributionStatusAsync"/>).</summary>
/// <param name="CitusVersion">The installed Citus extension's version, or null on plain PostgreSQL.</param>
/// <param name="Workers">Active primary worker nodes.</param>
/// <param name="ReferenceTables">Tables of the schema that are reference tables.</param>
/// <param name="DistributedTables">Tables of the schema distributed by hash.</param>
/// <param name="LocalTables">Tables of the schema still local to the coordinator.</param>
/// <param name="Shards">Shards of the schema's distributed tables (reference tables' single shards not counted).</param>
/// <param name="ColocationGroups">Colocation groups among the distributed tables (1 when correctly distributed).</param>
public sealed record DistributionStatus(string? CitusVersion, int Workers, int ReferenceTables, int DistributedTables, int LocalTables, long Shards, int ColocationGroups)
{
    /// <summary>The Citus extension is installed in this database.</summary>
    public bool Citus => CitusVersion is not null;

    /// <summary>Every table of the schema is a reference or distributed table.</summary>
    public bool Distributed => Citus && LocalTables == 0 && DistributedTables > 0;
}

/// <summary>One table made a reference or distributed table by <see cref="Migrator.DistributeAsync"/>.</summary>
public sealed record DistributeStep(string Table, bool Reference, TimeSpan Elapsed);

/// <summary>What <see cref="Migrator.DistributeAsync"/> did.</summary>
/// <param name="Steps">The tables placed, in order.</param>
/// <param name="Changes">Other changes made for Citus (the application role's LOGIN, the database's settings), described.</param>
public sealed record DistributeRun(IReadOnlyList<DistributeStep> Steps, IReadOnlyList<string> Changes)
{
    /// <summary>Nothing was left to do.</summary>
    public bool AlreadyDistributed => Steps.Count == 0 && Changes.Count == 0;
}

public sealed partial class Migrator
{
    /// <summary>The tables every node needs whole: the tenant list, the embedding spaces and the migration history.</summary>
    public static IReadOnlyList<string> ReferenceTableNames { get; } = ["tenants", "embedding_spaces", HistoryTable];

    const string DistributionColumn = "tenant_id";

    /// <summary>
    /// Reads the schema's catalog and says what <see cref="DistributeAsync"/> would do with each table.
    /// Works on plain PostgreSQL. Fails, naming the tables, when a table is neither a reference
    /// table nor has a <c>tenant_id</c> column to distribute by.
    /// </summary>
    public async Task<DistributionPlan> PlanDistributionAsync(CancellationToken cancellationToken = default)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ReadDistributionPlanAsync(conn, cancellationToken).ConfigureAwait(false);
    }

    async Task<DistributionPlan> ReadDistributionPlanAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        // Tables of the schema (not partitions, not an extension's), whether they have tenant_id,
        // and the foreign keys between them.
        const string tables = """
            SELECT c.relname,
                   EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = $2 AND NOT a.attisdropped),
                   coalesce((SELECT array_agg(DISTINCT p.relname ORDER BY p.relname)
                               FROM pg_constraint f JOIN pg_class p ON p.oid = f.confrelid
                              WHERE f.conrelid = c.oid AND f.contype = 'f' AND p.relnamespace = c.relnamespace AND p.oid <> c.oid), '{}')
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
             ORDER BY c.relname
            """;
        var tenantTables = new SortedDictionary<string, string[]>(StringComparer.Ordinal);
        var reference = new List<string>();
        var uncovered = new List<string>();
        await using (var cmd = new NpgsqlCommand(tables, conn))
        {
            cmd.Parameters.Add(new() { Value = Schema });
            cmd.Parameters.Add(new() { Value = DistributionColumn });
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var name = reader.GetString(0);
                if (ReferenceTableNames.Contains(name))
                    reference.Add(name);
                else if (reader.GetBoolean(1))
                    tenantTables[name] = reader.GetFieldValue<string[]>(2);
                else
                    uncovered.Add(name);
            }
        }
        if (uncovered.Count > 0)
            throw new ChatStoreConfigurationException(
                $"Schema {Schema} has {(uncovered.Count == 1 ? "a table" : "tables")} with no {DistributionColumn} column that {(uncovered.Count == 1 ? "is" : "are")} not a reference table: {string.Join(", ", uncovered)}. " +
                $"Only {string.Join(", ", ReferenceTableNames)} are shared by all tenants; add a {DistributionColumn} column leading the keys of every other table (in a migration), then run distribute again.");
        if (reference.Count == 0 && tenantTables.Count == 0)
            throw new ChatStoreConfigurationException($"Schema {Schema} has no ChatStore tables. Run `chatstore db init` first.");

        // Parents before the tables whose keys point at them: the order Citus needs when keys stay in place.
        var ordered = new List<string>();
        var placed = new HashSet<string>(StringComparer.Ordinal);
        while (ordered.Count < tenantTables.Count)
        {
            var next = tenantTables.Keys.FirstOrDefault(t => !placed.Contains(t)
                && tenantTables[t].All(p => placed.Contains(p) || !tenantTables.ContainsKey(p)));
            // A cycle of foreign keys: place the rest by name and let Citus say which key is in the way.
            next ??= tenantTables.Keys.First(t => !placed.Contains(t));
            ordered.Add(next);
            placed.Add(next);
        }
        return new DistributionPlan(reference, ordered);
    }

    /// <summary>
    /// Whether this database runs Citus and how the schema's tables are placed. On plain PostgreSQL
    /// it returns a status with no <see cref="DistributionStatus.CitusVersion"/>.
    /// </summary>
    public async Task<DistributionStatus> DistributionStatusAsync(CancellationToken cancellationToken = default)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ReadDistributionStatusAsync(conn, cancellationToken).ConfigureAwait(false);
    }

    static async Task<string?> CitusVersionAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("SELECT extversion FROM pg_extension WHERE extname = 'citus'", conn);
        return await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    async Task<DistributionStatus> ReadDistributionStatusAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        var version = await CitusVersionAsync(conn, cancellationToken).ConfigureAwait(false);
        if (version is null)
            return new DistributionStatus(null, 0, 0, 0, 0, 0, 0);
        // pg_dist_* exist only where Citus is installed, so this statement runs only then.
        const string sql = """
            WITH t AS (
                SELECT c.oid, CASE WHEN p.partmethod = 'h' THEN 'h' WHEN p.repmodel = 't' THEN 'n' END AS partmethod, p.colocationid
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid
                 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'))
            SELECT (SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND isactive AND groupid <> 0)::int,
                   count(*) FILTER (WHERE partmethod = 'n')::int,
                   count(*) FILTER (WHERE partmethod = 'h')::int,
                   count(*) FILTER (WHERE partmethod IS NULL)::int,
                   (SELECT count(*) FROM pg_dist_shard s JOIN t h ON h.oid = s.logicalrelid WHERE h.partmethod = 'h'),
                   count(DISTINCT colocationid) FILTER (WHERE partmethod = 'h')::int
              FROM t
            """;
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.Add(new() { Value = Schema });
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new DistributionStatus(version, reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt64(4), reader.GetInt32(5));
    }

    /// <summary>
    /// On a Citus coordinator: makes <c>tenants</c>, <c>embedding_spaces</c> and the migrations table
    /// reference tables and distributes every tenant table by <c>tenant_id</c> in one colocation group,
    /// moving rows already there onto the shards. Tables already placed are left alone, so it can be run
    /// again (after a failure, or after a migration added a table); when nothing is left it changes
    /// nothing and says so. Also makes sure the application role can log in (Citus connects to the
    /// workers as the current role). Refuses on plain PostgreSQL.
    /// </summary>
    public async Task<DistributeRun> DistributeAsync(IProgress<DistributeStep>? progress = null, CancellationToken cancellationToken = default)
    {
        await using var locked = await LockAsync("Distributing", cancellationToken).ConfigureAwait(false);
        var conn = locked.Connection;
        if (await CitusVersionAsync(conn, cancellationToken).ConfigureAwait(false) is null)
            throw new ChatStoreConfigurationException(
                "This database is plain PostgreSQL: the citus extension is not installed, so there is nothing to distribute tables over. " +
                "Run distribute against the coordinator of a Citus cluster (CREATE EXTENSION citus there, and add the workers with citus_add_node); on one PostgreSQL server, ChatStore needs no distribution.");
        if (!await ScalarAsync<bool>(conn, "SELECT citus_is_coordinator()", cancellationToken).ConfigureAwait(false))
            throw new ChatStoreConfigurationException(
                "This Citus node is not the coordinator (or the coordinator is not registered: run SELECT citus_set_coordinator_host('host', port) on it). Run distribute against the coordinator.");
        var plan = await ReadDistributionPlanAsync(conn, cancellationToken).ConfigureAwait(false);
        var changes = new List<string>();
        if (await EnsureAppRoleCanLogInAsync(conn, cancellationToken).ConfigureAwait(false))
            changes.Add($"the application role {AppRole} can log in (Citus connects to the workers as it)");
        if (await EnsureSetCommandsPropagateAsync(conn, cancellationToken).ConfigureAwait(false))
            changes.Add("citus.propagate_set_commands = 'local' for this database (the tenant scope reaches the workers; connections made before keep the old value)");

        // Citus's kind of each table: 'h' distributed, 'r' reference; Citus-local tables count as not placed.
        var placement = new Dictionary<string, (char Kind, int Colocation)>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand("""
            SELECT c.relname, CASE WHEN p.partmethod = 'h' THEN 'h' ELSE 'r' END, p.colocationid
              FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND (p.partmethod = 'h' OR p.repmodel = 't')
            """, conn))
        {
            cmd.Parameters.Add(new() { Value = Schema });
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                placement[reader.GetString(0)] = (reader.GetChar(1), reader.GetInt32(2));
        }
        foreach (var (table, (kind, _)) in placement)
        {
            var wanted = plan.ReferenceTables.Contains(table) ? 'r' : 'h';
            if (kind != wanted)
                throw new ChatStoreConfigurationException(
                    $"Table {Schema}.{table} is already a Citus {(kind == 'r' ? "reference" : "distributed")} table, but ChatStore needs it {(wanted == 'r' ? "as a reference table" : $"distributed by {DistributionColumn}")}. " +
                    $"Undo it with SELECT undistribute_table('{QuotedSchema}.{Sql.QuoteIdentifier(table)}') and run distribute again.");
        }
        var groups = placement.Where(p => p.Value.Kind == 'h').Select(p => p.Value.Colocation).Distinct().Count();
        if (groups > 1)
            throw new ChatStoreConfigurationException(
                $"The distributed tables of schema {Schema} are in {groups} colocation groups, so a tenant's rows of different tables may sit on different nodes. " +
                "Put them in one with SELECT update_distributed_table_colocation(table, colocate_with => 'first table'), then run distribute again.");
        var pending = plan.ReferenceTables.Concat(plan.DistributedTables).Where(t => !placement.ContainsKey(t)).ToHashSet(StringComparer.Ordinal);
        if (pending.Count == 0)
            return new DistributeRun([], changes);

        var steps = new List<DistributeStep>();
        await using (var tx = await conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            // Foreign keys of tables still local are set aside while the tables are placed and then made again:
            // a key from a local table to a new reference table would turn the whole key graph into
            // Citus-local tables, which Citus then will not distribute. One transaction: all or nothing.
            await ExecuteAsync(conn, "SET LOCAL citus.multi_shard_modify_mode TO 'sequential'", cancellationToken).ConfigureAwait(false);
            // ChatStore's triggers touch only the row they fire for (updated_at), which is safe on a shard; Citus
            // refuses every trigger unless told so.
            await ExecuteAsync(conn, "SET LOCAL citus.enable_unsafe_triggers TO on", cancellationToken).ConfigureAwait(false);
            var keys = await ForeignKeysTouchingAsync(conn, pending, cancellationToken).ConfigureAwait(false);
            foreach (var (table, name, _) in keys)
                await ExecuteAsync(conn, $"ALTER TABLE {QuotedSchema}.{Sql.QuoteIdentifier(table)} DROP CONSTRAINT {Sql.QuoteIdentifier(name)}", cancellationToken).ConfigureAwait(false);
            foreach (var table in plan.ReferenceTables.Where(pending.Contains))
                steps.Add(await PlaceAsync(conn, table, "SELECT create_reference_table($1::regclass)", null, progress, cancellationToken).ConfigureAwait(false));
            var anchor = plan.DistributedTables.FirstOrDefault(placement.ContainsKey);
            foreach (var table in plan.DistributedTables.Where(pending.Contains))
            {
                // The first table opens a colocation group of its own; every other one joins it.
                steps.Add(await PlaceAsync(conn, table, "SELECT create_distributed_table($1::regclass, $2, colocate_with => $3)",
                    anchor is null ? "none" : $"{QuotedSchema}.{Sql.QuoteIdentifier(anchor)}", progress, cancellationToken).ConfigureAwait(false));
                anchor ??= table;
            }
            foreach (var (table, name, definition) in keys)
            {
                try
                {
                    // Citus takes one ADD CONSTRAINT per statement.
                    await ExecuteAsync(conn, $"ALTER TABLE {QuotedSchema}.{Sql.QuoteIdentifier(table)} ADD CONSTRAINT {Sql.QuoteIdentifier(name)} {definition}", cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException e)
                {
                    throw new ChatStoreException(
                        $"Citus refused the foreign key {name} of {Schema}.{table} ({definition}) once the tables were placed: {e.MessageText}. " +
                        $"Nothing was changed. A key between tenant tables must include {DistributionColumn} (FOREIGN KEY ({DistributionColumn}, …)); fix it in a migration and run distribute again.", e);
                }
            }
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        // Rows that were there before are now read from the shards; the coordinator's copies are dead weight.
        foreach (var step in steps)
        {
            await using var truncate = new NpgsqlCommand("SELECT truncate_local_data_after_distributing_table($1::regclass)", conn) { CommandTimeout = 0 };
            truncate.Parameters.Add(new() { Value = $"{QuotedSchema}.{Sql.QuoteIdentifier(step.Table)}" });
            await truncate.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await EnsureLeakproofTextMatchOnWorkersAsync(conn, cancellationToken).ConfigureAwait(false);
        return new DistributeRun(steps, changes);
    }

    /// <summary>Foreign keys of the schema's tables from or to any of <paramref name="tables"/>: table, name, definition.</summary>
    async Task<List<(string Table, string Name, string Definition)>> ForeignKeysTouchingAsync(NpgsqlConnection conn, IReadOnlyCollection<string> tables, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT c.relname, f.conname, pg_get_constraintdef(f.oid)
              FROM pg_constraint f JOIN pg_class c ON c.oid = f.conrelid JOIN pg_class p ON p.oid = f.confrelid
             WHERE f.contype = 'f' AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1)
               AND (c.relname = ANY ($2) OR (p.relnamespace = c.relnamespace AND p.relname = ANY ($2)))
             ORDER BY c.relname, f.conname
            """, conn);
        cmd.Parameters.Add(new() { Value = Schema });
        cmd.Parameters.Add(new() { Value = tables.ToArray() });
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var keys = new List<(string, string, string)>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            keys.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        return keys;
    }

    async Task<DistributeStep> PlaceAsync(NpgsqlConnection conn, string table, string sql, string? colocateWith,
        IProgress<DistributeStep>? progress, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        cmd.Parameters.Add(new() { Value = $"{QuotedSchema}.{Sql.QuoteIdentifier(table)}" });
        if (colocateWith is not null)
        {
            cmd.Parameters.Add(new() { Value = DistributionColumn });
            cmd.Parameters.Add(new() { Value = colocateWith });
        }
        try
        {
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e)
        {
            throw new ChatStoreException(
                $"Citus refused to make {Schema}.{table} {(colocateWith is null ? "a reference table" : $"a table distributed by {DistributionColumn}")}: {e.MessageText}" +
                // Citus's reason is in the detail (or Npgsql's note on how to see it, when the connection string hides details).
                (e.Detail is { Length: > 0 } detail ? $" ({detail.TrimEnd('.')})" : "") +
                ". Nothing was changed; fix the table in a migration and run distribute again.", e);
        }
        var step = new DistributeStep(table, colocateWith is null, sw.Elapsed);
        _logger.LogInformation("Made {Schema}.{Table} {Kind} in {Ms} ms", Schema, table,
            step.Reference ? "a reference table" : "a distributed table", (long)sw.Elapsed.TotalMilliseconds);
        progress?.Report(step);
        return step;
    }

    /// <summary>
    /// Citus runs a statement's shard queries on the workers as the role that ran it, so the application
    /// role must be able to log in there. It stays NOSUPERUSER NOBYPASSRLS and owns nothing.
    /// </summary>
    async Task<bool> EnsureAppRoleCanLogInAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        if (AppRole is null)
            return false;
        await using var cmd = new NpgsqlCommand("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", conn);
        cmd.Parameters.Add(new() { Value = AppRole });
        if (await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not false)
            return false;
        try
        {
            await ExecuteAsync(conn, $"ALTER ROLE {Sql.QuoteIdentifier(AppRole)} LOGIN", cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new ChatStoreConfigurationException(
                $"The application role {AppRole} cannot log in, and Citus connects to the workers as it; this connection may not change that ({e.MessageText}). " +
                $"Run ALTER ROLE {Sql.QuoteIdentifier(AppRole)} LOGIN as a superuser on the coordinator, then run distribute again.", e);
        }
    }

    /// <summary>
    /// Citus sends a transaction's <c>SET LOCAL</c> commands on to the workers only with
    /// <c>citus.propagate_set_commands = 'local'</c>; without it the shards never see the tenant, and row-level
    /// security there hides every row and refuses every write. Set for the database, once.
    /// </summary>
    static async Task<bool> EnsureSetCommandsPropagateAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        const string isSet = """
            SELECT EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
                            WHERE d.datname = current_database() AND s.setrole = 0
                              AND 'citus.propagate_set_commands=local' = ANY (s.setconfig))
            """;
        if (await ScalarAsync<bool>(conn, isSet, cancellationToken).ConfigureAwait(false))
            return false;
        var database = await ScalarAsync<string>(conn, "SELECT current_database()::text", cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(conn, $"ALTER DATABASE {Sql.QuoteIdentifier(database)} SET citus.propagate_set_commands = 'local'", cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new ChatStoreConfigurationException(
                $"The tenant scope reaches the workers only with citus.propagate_set_commands = 'local', and this connection may not set it for database {database} ({e.MessageText}). " +
                $"Run ALTER DATABASE {Sql.QuoteIdentifier(database)} SET citus.propagate_set_commands = 'local' as its owner or a superuser, then run distribute again.", e);
        }
        return true;
    }

    /// <summary>The coordinator's LEAKPROOF mark on the text-match operator (see <c>EnsureLeakproofTextMatchAsync</c>) does not reach the workers, where the shards' indexes are.</summary>
    async Task EnsureLeakproofTextMatchOnWorkersAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        if (!await ScalarAsync<bool>(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", cancellationToken).ConfigureAwait(false))
        {
            _logger.LogWarning("Tenant-wide full-text search on the workers cannot use its GIN indexes under row-level security until a superuser runs there: ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF");
            return;
        }
        await ExecuteAsync(conn, "SELECT run_command_on_workers('ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF')", cancellationToken).ConfigureAwait(false);
    }
}
