using Microsoft.Extensions.Logging;
using Npgsql;

namespace ChatStore.Schema;

public sealed partial class Migrator
{
    /// <summary>
    /// Gives an existing login role exactly what the service needs to run as it, so the service need not
    /// log in as the schema owner: membership in the application role (every table privilege the service
    /// uses, under row-level security), USAGE on the schema, SELECT on the migration history (for status
    /// and readiness), and default privileges so that tables and sequences the owner creates later in the
    /// schema (an app's own migrations) are usable by the application role without another grant. Safe to
    /// run again. Runs as the schema owner; the login cannot migrate, register embedding spaces or build
    /// their indexes, and is told so.
    /// </summary>
    /// <param name="loginRole">The login role the service connects as; it must exist.</param>
    /// <param name="cancellationToken">Cancels the grant (nothing is changed).</param>
    /// <exception cref="ChatStoreConfigurationException">Role switching is off, or the schema is not initialised.</exception>
    /// <exception cref="ChatStoreValidationException">The role does not exist.</exception>
    /// <exception cref="ChatStorePermissionException">This connection is not the schema owner, or may not grant the application role.</exception>
    public async Task GrantAsync(string loginRole, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(loginRole))
            throw new ChatStoreValidationException("to", "required", "Name the login role to grant to.");
        if (AppRole is null)
            throw new ChatStoreConfigurationException("Role switching is off (no application role), so there is no role to grant: set CHATSTORE_APP_ROLE or --app-role.");

        await using var locked = await LockAsync("Granting access to", cancellationToken).ConfigureAwait(false);
        var conn = locked.Connection;
        if (!await HistoryExistsAsync(conn, cancellationToken).ConfigureAwait(false) || !await RoleExistsAsync(conn, cancellationToken).ConfigureAwait(false))
            throw new ChatStoreConfigurationException($"Schema {Schema} is not initialised: run `chatstore db init` as its owner first, then grant.");
        if (!await ScalarAsync<bool>(conn, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", cancellationToken, loginRole).ConfigureAwait(false))
            throw new ChatStoreValidationException("to", "unknown_role",
                $"Role {loginRole} does not exist. Create the login first (CREATE ROLE {Sql.QuoteIdentifier(loginRole)} LOGIN PASSWORD '…'), then grant.");
        var owner = (await SchemaOwner.CheckAsync(conn, Schema, cancellationToken).ConfigureAwait(false))!.Value.Owner;

        var login = Sql.QuoteIdentifier(loginRole);
        var app = Sql.QuoteIdentifier(AppRole);
        var ownerRole = Sql.QuoteIdentifier(owner);
        await using var tx = await conn.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(conn, $"""
                GRANT {app} TO {login};
                GRANT USAGE ON SCHEMA {QuotedSchema} TO {login};
                GRANT SELECT ON {QuotedSchema}.{HistoryTable} TO {login};
                ALTER DEFAULT PRIVILEGES FOR ROLE {ownerRole} IN SCHEMA {QuotedSchema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app};
                ALTER DEFAULT PRIVILEGES FOR ROLE {ownerRole} IN SCHEMA {QuotedSchema} GRANT USAGE, SELECT ON SEQUENCES TO {app}
                """, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new ChatStorePermissionException(
                $"Granting {AppRole} to {loginRole} was refused: {e.MessageText}. Run the grant as a role that may grant {AppRole} (the role that created it, one with CREATEROLE, or a superuser).",
                owner, e);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Granted {Login} the application role {AppRole}, USAGE on schema {Schema} and SELECT on its migration history", loginRole, AppRole, Schema);
    }
}
