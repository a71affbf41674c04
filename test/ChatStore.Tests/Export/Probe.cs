using Npgsql;

namespace ChatStore.Tests.Export;

/// <summary>
/// Assertions on stored state read as the owner, driven by the catalog: a table that a later migration
/// adds is covered without changing the tests.
/// </summary>
public static class Probe
{
    /// <summary>Rows per tenant-owned table (every table of the schema with a tenant_id column) of <paramref name="tenantId"/>.</summary>
    public static async Task<Dictionary<string, long>> TenantRowsAsync(Guid tenantId, string schema = "public")
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var conn = await OpenAsync();
        foreach (var table in await ColumnTablesAsync(conn, schema, "tenant_id"))
            result[table] = await CountAsync(conn, $"SELECT count(*) FROM \"{schema}\".\"{table}\" WHERE tenant_id = $1", tenantId);
        return result;
    }

    /// <summary>
    /// Rows still connected to a user: in every table, rows whose foreign key to users is the user, rows whose
    /// primary key is one of <paramref name="ids"/> (the user's rows taken before), and rows whose foreign key
    /// points at one of them. Every table and foreign key comes from the catalog.
    /// </summary>
    public static async Task<Dictionary<string, long>> RowsConnectedToAsync(Guid userId, IReadOnlyCollection<Guid> ids, string schema = "public")
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var conn = await OpenAsync();
        var keys = new List<(string Table, string Column, string Parent)>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT c.relname::text, a.attname::text, f.relname::text
              FROM pg_constraint k
              JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
              JOIN pg_class f ON f.oid = k.confrelid
              JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
             WHERE k.contype = 'f' AND n.nspname = $1 AND cardinality(k.conkey) = 1 AND NOT c.relispartition
            """, conn))
        {
            cmd.Parameters.Add(new() { Value = schema });
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
                keys.Add((r.GetString(0), r.GetString(1), r.GetString(2)));
        }
        var idArray = ids.ToArray();
        foreach (var (table, column, parent) in keys)
        {
            var n = parent == "users"
                ? await CountAsync(conn, $"SELECT count(*) FROM \"{schema}\".\"{table}\" WHERE \"{column}\" = $1", userId)
                : await CountAsync(conn, $"SELECT count(*) FROM \"{schema}\".\"{table}\" WHERE \"{column}\" = ANY ($1)", idArray);
            result[$"{table}.{column}"] = n;
        }
        foreach (var table in await ColumnTablesAsync(conn, schema, "id"))
            result[$"{table}.id"] = await CountAsync(conn, $"SELECT count(*) FROM \"{schema}\".\"{table}\" WHERE id = ANY ($1)", idArray);
        return result;
    }

    /// <summary>The ids of every row with an id column whose user_id is <paramref name="userId"/>, in every table that has both.</summary>
    public static async Task<List<Guid>> IdsOfUserAsync(Guid userId, string schema = "public")
    {
        var ids = new List<Guid> { userId };
        await using var conn = await OpenAsync();
        var userTables = await ColumnTablesAsync(conn, schema, "user_id");
        foreach (var table in (await ColumnTablesAsync(conn, schema, "id")).Intersect(userTables))
        {
            await using var cmd = new NpgsqlCommand($"SELECT id FROM \"{schema}\".\"{table}\" WHERE user_id = $1", conn);
            cmd.Parameters.Add(new() { Value = userId });
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
                ids.Add(r.GetGuid(0));
        }
        return ids;
    }

    static async Task<List<string>> ColumnTablesAsync(NpgsqlConnection conn, string schema, string column)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT c.table_name::text FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
             WHERE c.table_schema = $1 AND c.column_name = $2 AND t.table_type = 'BASE TABLE' ORDER BY 1
            """, conn);
        cmd.Parameters.Add(new() { Value = schema });
        cmd.Parameters.Add(new() { Value = column });
        var tables = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
            tables.Add(r.GetString(0));
        return tables;
    }

    static async Task<long> CountAsync(NpgsqlConnection conn, string sql, object arg)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.Add(new() { Value = arg });
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    static async Task<NpgsqlConnection> OpenAsync()
    {
        await TestStore.ClientAsync();
        var conn = new NpgsqlConnection(TestStore.ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    /// <summary>Runs a statement as the owner.</summary>
    public static async Task ExecAsync(string sql, params object?[] args)
    {
        await using var conn = await OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 600 };
        foreach (var a in args)
            cmd.Parameters.Add(new NpgsqlParameter { Value = a ?? DBNull.Value });
        await cmd.ExecuteNonQueryAsync();
    }
}
