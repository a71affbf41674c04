using ChatStore.Tenancy;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Export;

/// <summary>
/// Statements built at run time from the catalog, sent as the tenant: like <see cref="TenantCommand"/>, a batch
/// whose first command sets the role and <c>chatstore.tenant_id</c> transaction-locally. The SQL is not
/// passed through <see cref="StoreContext.Sql"/> (that cache is for constant query text): it already
/// names the quoted schema.
/// </summary>
internal static class ScopedBatch
{
    /// <summary>A batch on <paramref name="connection"/> that starts with the tenant setting of <paramref name="scope"/>.</summary>
    public static NpgsqlBatch Create(TenantScope scope, NpgsqlConnection connection, NpgsqlTransaction? transaction = null)
    {
        var batch = new NpgsqlBatch(connection, transaction);
        var set = new NpgsqlBatchCommand(TenantCommand.ScopeSql);
        TenantCommand.AddScope(set.Parameters, scope.Context, scope.TenantId);
        batch.BatchCommands.Add(set);
        return batch;
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
