using System.Text.RegularExpressions;
using Npgsql;

namespace ChatStore.Schema;

/// <summary>One way the live schema differs from what its applied migrations define.</summary>
/// <param name="Kind">table, column, constraint, index, trigger, policy, function, extension, role or migration.</param>
/// <param name="Object">The object, for example <c>messages.messages_search_idx</c>.</param>
/// <param name="Expected">What the migrations define (null when the object should not exist).</param>
/// <param name="Actual">What the database has (null when the object is missing).</param>
public sealed record SchemaDifference(string Kind, string Object, string? Expected, string? Actual)
{
    /// <inheritdoc />
    public override string ToString() => (Expected, Actual) switch
    {
        (null, _) => $"{Kind} {Object}: not defined by any migration, but present: {Actual}",
        (_, null) => $"{Kind} {Object}: missing; expected {Expected}",
        _ => $"{Kind} {Object}: expected {Expected}, found {Actual}",
    };
}

/// <summary>The result of <see cref="Migrator.VerifyAsync"/>: no differences means no drift.</summary>
public sealed record VerifyReport(string Schema, IReadOnlyList<SchemaDifference> Differences)
{
    /// <summary>True when the live schema matches its migrations exactly.</summary>
    public bool Ok => Differences.Count == 0;
}

public sealed partial class Migrator
{
    /// <summary>
    /// Compares the live catalog with what the applied migrations define: tables, columns and types,
    /// constraints, indexes and their validity, triggers, row-level security (enabled and forced)
    /// with its policies, functions, the extensions and the application role; also reports
    /// edited and missing migration files. The expected side is built by running the applied
    /// migrations into a scratch schema inside a transaction that is rolled back.
    /// </summary>
    public async Task<VerifyReport> VerifyAsync(CancellationToken cancellationToken = default)
    {
        var differences = new List<SchemaDifference>();
        var status = await StatusAsync(cancellationToken).ConfigureAwait(false);
        foreach (var e in status.Entries)
        {
            if (e.State == MigrationState.ChecksumMismatch)
                differences.Add(new("migration", $"{e.Source} {e.Version:D4}_{e.Name}", "the checksum recorded when it was applied", "a file that was edited since"));
            else if (e.State == MigrationState.Missing)
                differences.Add(new("migration", $"{e.Source} {e.Version:D4}_{e.Name}", "a migration file", null));
        }

        await using var conn = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (extension, _) in Extensions)
            if (!await ExtensionExistsAsync(conn, extension, cancellationToken).ConfigureAwait(false))
                differences.Add(new("extension", extension, "installed", null));
        if (AppRole is not null)
        {
            await using var role = new NpgsqlCommand("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1", conn);
            role.Parameters.Add(new() { Value = AppRole });
            await using var reader = await role.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                differences.Add(new("role", AppRole, "NOSUPERUSER NOBYPASSRLS", null));
            else if (reader.GetBoolean(0) || reader.GetBoolean(1))
                differences.Add(new("role", AppRole, "NOSUPERUSER NOBYPASSRLS", reader.GetBoolean(0) ? "SUPERUSER" : "BYPASSRLS"));
        }
        if (!await SchemaExistsAsync(conn, cancellationToken).ConfigureAwait(false))
        {
            differences.Add(new("schema", Schema, "present", null));
            return new VerifyReport(Schema, differences);
        }

        var actual = await SnapshotAsync(conn, Schema, cancellationToken).ConfigureAwait(false);
        Dictionary<string, string> expected;
        var applied = status.Entries.Where(e => e.State is MigrationState.Applied or MigrationState.ChecksumMismatch).ToList();
        var scratch = $"chatstore_verify_{Guid.NewGuid():N}"[..32];
        await using (var tx = await conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            await ExecuteAsync(conn, $"CREATE SCHEMA {Sql.QuoteIdentifier(scratch)}", cancellationToken).ConfigureAwait(false);
            foreach (var e in applied)
            {
                var m = Sources.First(s => s.Name == e.Source).Migrations.First(m => m.Version == e.Version);
                // Concurrent index builds cannot run in a transaction; the resulting definition is the same.
                var sql = Concurrently().Replace(Render(m.Up, Sql.QuoteIdentifier(scratch)), "");
                await ExecuteScriptAsync(conn, sql, cancellationToken).ConfigureAwait(false);
            }
            expected = await SnapshotAsync(conn, scratch, cancellationToken).ConfigureAwait(false);
            await tx.RollbackAsync(cancellationToken).ConfigureAwait(false);
        }

        differences.AddRange(await VerifySpaceIndexesAsync(conn, cancellationToken).ConfigureAwait(false));

        foreach (var (key, definition) in expected.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var (kind, name) = Split(key);
            if (!actual.TryGetValue(key, out var live))
                differences.Add(new(kind, name, definition, null));
            else if (live != definition)
                differences.Add(new(kind, name, definition, live));
        }
        foreach (var (key, definition) in actual.Where(p => !expected.ContainsKey(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var (kind, name) = Split(key);
            differences.Add(new(kind, name, null, definition));
        }
        return new VerifyReport(Schema, differences);

        static (string, string) Split(string key) => (key[..key.IndexOf(':', StringComparison.Ordinal)], key[(key.IndexOf(':', StringComparison.Ordinal) + 1)..]);
    }

    /// <summary>Every registered embedding space with an index kind has its partial index, valid; no index is left of a dropped space.</summary>
    async Task<List<SchemaDifference>> VerifySpaceIndexesAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        const string sql = """
            WITH spaces AS (
                SELECT 'embeddings_space_' || replace(id::text, '-', '') AS index_name, name
                  FROM {schema}.embedding_spaces WHERE index_kind <> 'none'),
            indexes AS (
                SELECT ic.relname AS index_name, i.indisvalid
                  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                 WHERE i.indrelid = to_regclass($1) AND ic.relname ~ '^embeddings_space_[0-9a-f]{32}$')
            SELECT coalesce(s.index_name, x.index_name), s.name, x.indisvalid
              FROM spaces s FULL JOIN indexes x ON x.index_name = s.index_name
             WHERE s.index_name IS NULL OR x.index_name IS NULL OR NOT x.indisvalid
            """;
        var differences = new List<SchemaDifference>();
        if (!await ScalarAsync<bool>(conn, "SELECT to_regclass($1) IS NOT NULL", cancellationToken, $"{QuotedSchema}.embedding_spaces").ConfigureAwait(false))
            return differences;
        await using var cmd = new NpgsqlCommand(sql.Replace("{schema}", QuotedSchema, StringComparison.Ordinal), conn);
        cmd.Parameters.Add(new() { Value = $"{QuotedSchema}.embeddings" });
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var index = $"embeddings.{reader.GetString(0)}";
            if (reader.IsDBNull(1))
                differences.Add(new("index", index, null, "an index of no registered embedding space"));
            else if (reader.IsDBNull(2))
                differences.Add(new("index", index, $"the index of embedding space '{reader.GetString(1)}'", null));
            else
                differences.Add(new("index", index, $"a valid index of embedding space '{reader.GetString(1)}'", "INVALID (an interrupted build; re-register the space or rebuild its index)"));
        }
        return differences;
    }

    /// <summary>
    /// The catalog of one schema as key → definition, with the schema's own name taken out of
    /// definitions so a scratch schema and the live one compare equal.
    /// </summary>
    static async Task<Dictionary<string, string>> SnapshotAsync(NpgsqlConnection conn, string schema, CancellationToken cancellationToken)
    {
        const string catalog = """
            WITH s AS (SELECT oid, quote_ident(nspname) || '.' AS prefix FROM pg_namespace WHERE nspname = $1),
            t AS (
                SELECT c.oid, c.relname, c.relrowsecurity, c.relforcerowsecurity, c.relkind
                  FROM pg_class c, s
                 WHERE c.relnamespace = s.oid AND c.relkind IN ('r', 'p', 'v', 'm') AND c.relname <> 'chatstore_migrations'
                   -- An extension's own tables and views (pg_stat_statements created in this schema, say) are not ChatStore's.
                   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'))
            SELECT 'table:' || t.relname,
                   format('kind=%s rls=%s forced=%s', t.relkind, t.relrowsecurity, t.relforcerowsecurity)
              FROM t
            UNION ALL
            SELECT 'column:' || t.relname || '.' || a.attname,
                   format_type(a.atttypid, a.atttypmod)
                   || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
                   || CASE WHEN a.attgenerated = 's' THEN ' GENERATED ' ELSE CASE WHEN d.adbin IS NOT NULL THEN ' DEFAULT ' ELSE '' END END
                   || coalesce(replace(pg_get_expr(d.adbin, d.adrelid), s.prefix, ''), '')
                   || CASE WHEN a.attidentity <> '' THEN ' IDENTITY' ELSE '' END
              FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
              LEFT JOIN pg_attrdef d ON d.adrelid = t.oid AND d.adnum = a.attnum, s
            UNION ALL
            SELECT 'constraint:' || t.relname || '.' || con.conname, replace(pg_get_constraintdef(con.oid), s.prefix, '')
              FROM t JOIN pg_constraint con ON con.conrelid = t.oid, s
            UNION ALL
            SELECT 'index:' || t.relname || '.' || ic.relname,
                   replace(pg_get_indexdef(i.indexrelid), s.prefix, '') || CASE WHEN i.indisvalid THEN '' ELSE ' (INVALID)' END
              FROM t JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class ic ON ic.oid = i.indexrelid, s
             -- Embedding space indexes come from registrations, not migrations; checked separately.
             WHERE NOT (t.relname = 'embeddings' AND ic.relname ~ '^embeddings_space_[0-9a-f]{32}$')
            UNION ALL
            SELECT 'trigger:' || t.relname || '.' || tg.tgname,
                   replace(pg_get_triggerdef(tg.oid), s.prefix, '') || CASE tg.tgenabled WHEN 'D' THEN ' (DISABLED)' ELSE '' END
              FROM t JOIN pg_trigger tg ON tg.tgrelid = t.oid AND NOT tg.tgisinternal, s
            UNION ALL
            SELECT 'policy:' || t.relname || '.' || p.polname,
                   format('%s %s TO %s USING %s WITH CHECK %s',
                          CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END, p.polcmd,
                          (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END, ',' ORDER BY r) FROM unnest(p.polroles) r),
                          replace(pg_get_expr(p.polqual, p.polrelid), s.prefix, ''),
                          replace(pg_get_expr(p.polwithcheck, p.polrelid), s.prefix, ''))
              FROM t JOIN pg_policy p ON p.polrelid = t.oid, s
            UNION ALL
            SELECT 'function:' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', md5(p.prosrc)
              FROM pg_proc p, s WHERE p.pronamespace = s.oid
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
            """;
        await using var cmd = new NpgsqlCommand(catalog, conn);
        cmd.Parameters.Add(new() { Value = schema });
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            result[reader.GetString(0)] = reader.IsDBNull(1) ? "" : reader.GetString(1);
        return result;
    }

    [GeneratedRegex(@"\bCONCURRENTLY\b", RegexOptions.IgnoreCase)]
    private static partial Regex Concurrently();
}
