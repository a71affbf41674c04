using Npgsql;

namespace ChatStore.Schema;

/// <summary>Who owns a schema, and the error for a login that is not it (or a member of it).</summary>
internal static class SchemaOwner
{
    /// <summary>The owner of <paramref name="schema"/> (the database's owner for a schema owned by pg_database_owner), the login, and whether the login can act as the owner; null when the schema does not exist.</summary>
    public static async Task<(string Owner, string Login, bool IsOwner)?> CheckAsync(NpgsqlConnection conn, string schema, CancellationToken cancellationToken)
    {
        // PostgreSQL 15's public schema belongs to pg_database_owner, which stands for the database's owner: name that role.
        const string sql = """
            SELECT CASE WHEN n.nspowner = 'pg_database_owner'::regrole
                        THEN (SELECT d.datdba::regrole::text FROM pg_database d WHERE d.datname = current_database())
                        ELSE n.nspowner::regrole::text END,
                   current_user::text, pg_has_role(current_user, n.nspowner, 'USAGE')
              FROM pg_namespace n WHERE n.nspname = $1
            """;
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.Add(new() { Value = schema });
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            return null;
        return (reader.GetString(0), reader.GetString(1), reader.GetBoolean(2));
    }

    /// <summary>The error for <paramref name="action"/> attempted by a login that is not the owner of <paramref name="schema"/>.</summary>
    public static ChatStorePermissionException NotOwner(string action, string schema, string owner, string login, Exception? inner = null) =>
        new($"{action} needs the owner of schema {schema}, role {owner}; this connection logs in as {login}, which is not {owner} nor a member of it. " +
            $"Run it connected as {owner}. The service itself needs only the application role: `chatstore db grant --to {login}`, run as {owner}, gives {login} what it needs.",
            owner, inner);

    /// <summary>Turns a permission error of <paramref name="action"/> into <see cref="NotOwner"/> when the login is not the owner.</summary>
    public static async Task<ChatStoreException> PermissionErrorAsync(NpgsqlDataSource dataSource, string schema, string action, PostgresException e)
    {
        await using var conn = await dataSource.OpenConnectionAsync().ConfigureAwait(false);
        var check = await CheckAsync(conn, schema, CancellationToken.None).ConfigureAwait(false);
        return check is { IsOwner: false } c
            ? NotOwner(action, schema, c.Owner, c.Login, e)
            : new ChatStorePermissionException($"{action} was refused by PostgreSQL: {e.MessageText}. Grant the missing privilege to the login, or run it as the schema's owner.", check?.Owner, e);
    }
}
