using ChatStore.Tenancy;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Export;

/// <summary>
/// Statements built at run time from the catalog, sent as the tenant: like <see cref="TenantCommand"/>, a batch
/// that sets the role and <c>chatstore.tenant_id</c> transaction-locally (<c>SET LOCAL</c>) before its statements;
/// without a transaction of the caller's, the batch is its own (<c>BEGIN</c> … <c>COMMIT</c>: see <see cref="Commit"/>). The SQL is not
/// passed through <see cref="StoreContext.Sql"/> (that cache is for constant query text): it already
/// names the quoted schema.
/// </summary>
internal static class ScopedBatch
{
    /// <summary>A batch on <paramref name="connection"/> that starts with the tenant setting of <paramref name="scope"/>.</summary>
    public static NpgsqlBatch Create(TenantScope scope, NpgsqlConnection connection, NpgsqlTransaction? transaction = null)
    {
        var batch = new NpgsqlBatch(connection, transaction);
        if (transaction is null)
            batch.BatchCommands.Add(new NpgsqlBatchCommand(TenantCommand.Begin));
        TenantCommand.AddScope(batch, scope.Context, scope.TenantId);
        return batch;
    }

    /// <summary>Ends a batch made without a transaction of the caller's: its last command commits.</summary>
    public static void Commit(this NpgsqlBatch batch) => batch.BatchCommands.Add(new NpgsqlBatchCommand(TenantCommand.Commit));

    /// <summary>
    /// A statement that names its tenant (<c>{tenant}</c>) rendered for a batch of <paramref name="scope"/>: the tenant
    /// becomes $1, the statement's own parameters move up by one, and <paramref name="all"/> is the tenant then them.
    /// </summary>
    public static string Tenanted(TenantScope scope, string sql, NpgsqlParameter[] parameters, out NpgsqlParameter[] all)
    {
        all = [P(scope.TenantId), .. parameters];
        return StoreContext.Render(sql, Sql.QuoteIdentifier(scope.Context.Schema));
    }

    /// <summary>Adds a statement with positional parameters.</summary>
    public static NpgsqlBatchCommand Add(this NpgsqlBatch batch, string sql, params NpgsqlParameter[] parameters)
    {
        var cmd = new NpgsqlBatchCommand(sql);
        cmd.Parameters.AddRange(parameters);
        batch.BatchCommands.Add(cmd);
        return cmd;
    }

    /// <summary>A typed positional parameter (null is sent as NULL).</summary>
    public static NpgsqlParameter P<T>(T value) =>
        value is null ? new NpgsqlParameter { Value = DBNull.Value } : new NpgsqlParameter<T> { TypedValue = value };

    /// <summary>A positional parameter with an explicit type.</summary>
    public static NpgsqlParameter P<T>(T value, NpgsqlDbType type)
    {
        var p = P(value);
        p.NpgsqlDbType = type;
        return p;
    }
}
