using Npgsql;

namespace ChatStore.Export;

/// <summary>
/// One statement that deletes the root rows of an <see cref="OwnershipSql"/> and every row hanging off them,
/// a DELETE per table and owning key, all in one snapshot: the counts are exact, and the ON DELETE actions
/// that run at the statement's end find the children already gone. Rows that only point at a deleted row (a
/// foreign key that does not own them: a document's conversation, a usage event's message) and are not deleted
/// themselves have the reference cleared in the same statement. Built once, run as often as needed.
/// </summary>
internal sealed class DeleteStatement
{
    readonly string _sql;
    readonly IReadOnlyList<TableInfo> _tables;

    public DeleteStatement(OwnershipSql sql)
    {
        _tables = sql.Tables;
        var sources = new List<string>();
        for (var i = 0; i < _tables.Count; i++)
        {
            foreach (var name in sql.AddDeletes(_tables[i]))
                sources.Add($"SELECT {i} AS i FROM {name}");
        }
        ClearReferences(sql);
        _sql = $"{sql.With}\nSELECT i, count(*) FROM ({string.Join("\nUNION ALL ", sources)}) s GROUP BY i";
    }

    /// <summary>
    /// One UPDATE per table with pointing foreign keys into tables rows are deleted from, setting each reference into a
    /// deleted row to NULL on the rows that stay (the work ON DELETE SET NULL would do, which a key that leads with
    /// tenant_id cannot have). One statement per table, since a statement changes a row once: a usage event that
    /// points at a deleted conversation and at one of its messages loses both references in the same UPDATE.
    /// </summary>
    void ClearReferences(OwnershipSql sql)
    {
        var deleted = _tables.ToHashSet();
        foreach (var table in sql.Model.Order)
        {
            var keys = table.ForeignKeys.Where(fk => !fk.Owns && deleted.Contains(fk.Parent)).ToList();
            if (keys.Count == 0)
                continue;
            var set = new List<string>();
            var points = new List<string>();
            foreach (var fk in keys)
            {
                var on = string.Join(" AND ", fk.Columns.Zip(fk.ParentColumns, (c, p) => $"k.{Sql.QuoteIdentifier(p)} = t.{Sql.QuoteIdentifier(c)}"));
                var match = $"EXISTS (SELECT 1 FROM {sql.KeySet(fk.Parent, fk.ParentColumns)} k WHERE {on})";
                points.Add(match);
                set.AddRange(fk.Columns.Select(c => $"{Sql.QuoteIdentifier(c)} = CASE WHEN {match} THEN NULL ELSE t.{Sql.QuoteIdentifier(c)} END"));
            }
            var stays = "";
            if (deleted.Contains(table) && table.PrimaryKey.Count > 0)
            {
                stays = $" AND NOT EXISTS (SELECT 1 FROM {sql.KeySet(table, table.PrimaryKey)} s WHERE "
                    + string.Join(" AND ", table.PrimaryKey.Select(c => $"s.{Sql.QuoteIdentifier(c)} = t.{Sql.QuoteIdentifier(c)}")) + ")";
            }
            sql.AddCte(sql.Name("n"),
                $"UPDATE {table.Quoted} t SET {string.Join(", ", set)} WHERE {OwnershipSql.TenantCondition} AND ({string.Join(" OR ", points)}){stays}",
                materialized: false);
        }
    }

    /// <summary>The root table.</summary>
    public TableInfo Root => _tables[0];

    /// <summary>Runs the statement as the tenant in one round trip (its own transaction); returns the rows deleted per table, zeros included.</summary>
    public async Task<Dictionary<string, long>> RunAsync(TenantScope scope, NpgsqlConnection conn, NpgsqlParameter[] parameters, CancellationToken cancellationToken)
    {
        var counts = _tables.ToDictionary(t => t.Name, _ => 0L, StringComparer.Ordinal);
        await using var batch = ScopedBatch.Create(scope, conn);
        batch.Timeout = UserDataModel.BulkTimeout(conn);
        batch.Add(ScopedBatch.Tenanted(scope, _sql, parameters, out var all), all);
        batch.Commit();
        try
        {
            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    counts[_tables[reader.GetInt32(0)].Name] = reader.GetInt64(1);
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            throw new ChatStoreConflictException(
                $"Rows of table {e.TableName} still reference the rows being deleted ({e.ConstraintName}), and that table is not tenant-owned " +
                "(no tenant_id column), so ChatStore cannot tell whose they are. Give it a tenant_id column or an ON DELETE action.", e);
        }
        return counts;
    }
}
