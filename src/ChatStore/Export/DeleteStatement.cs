using Npgsql;

namespace ChatStore.Export;

/// <summary>
/// One statement that deletes the root rows of an <see cref="OwnershipSql"/> and every row hanging off them,
/// a DELETE per table and owning key, all in one snapshot: the counts are exact, and the ON DELETE actions
/// that run at the statement's end find the children already gone. Built once, run as often as needed.
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
        _sql = $"{sql.With}\nSELECT i, count(*) FROM ({string.Join("\nUNION ALL ", sources)}) s GROUP BY i";
    }

    /// <summary>The root table.</summary>
    public TableInfo Root => _tables[0];

    /// <summary>Runs the statement as the tenant in one round trip (its own transaction); returns the rows deleted per table, zeros included.</summary>
    public async Task<Dictionary<string, long>> RunAsync(TenantScope scope, NpgsqlConnection conn, NpgsqlParameter[] parameters, CancellationToken cancellationToken)
    {
        var counts = _tables.ToDictionary(t => t.Name, _ => 0L, StringComparer.Ordinal);
        await using var batch = ScopedBatch.Create(scope, conn);
        batch.Timeout = UserDataModel.BulkTimeout(conn);
        batch.Add(_sql, parameters);
        try
        {
            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
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
