namespace ChatStore;

/// <summary>The base of every error ChatStore raises on purpose.</summary>
public class ChatStoreException : Exception
{
    /// <summary>Creates the error with a message that says what was wrong and what to do.</summary>
    public ChatStoreException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>Input broke a rule; nothing was changed. <see cref="Field"/> names the input, <see cref="Rule"/> the rule.</summary>
public sealed class ChatStoreValidationException : ChatStoreException
{
    /// <summary>Creates the error for <paramref name="field"/> breaking <paramref name="rule"/>.</summary>
    public ChatStoreValidationException(string field, string rule, string message)
        : base($"{field}: {message}")
    {
        Field = field;
        Rule = rule;
    }

    /// <summary>The input that broke the rule, as the caller named it (for example <c>content</c> or <c>metadata.tags[2]</c>).</summary>
    public string Field { get; }

    /// <summary>A stable, machine-readable rule name such as <c>max_length</c>, <c>nul_character</c> or <c>enum</c>.</summary>
    public string Rule { get; }
}

/// <summary>The entity does not exist for this tenant (or user). Never says whether it exists elsewhere.</summary>
public sealed class ChatStoreNotFoundException : ChatStoreException
{
    /// <summary>Creates the error for <paramref name="entity"/> <paramref name="id"/>.</summary>
    public ChatStoreNotFoundException(string entity, object id)
        : base($"{entity} {id} was not found.")
    {
        Entity = entity;
        Id = id.ToString() ?? "";
    }

    /// <summary>The kind of entity, for example <c>conversation</c>.</summary>
    public string Entity { get; }

    /// <summary>The id that was looked up.</summary>
    public string Id { get; }
}

/// <summary>The operation conflicts with stored state (a duplicate, a reused idempotency key with other content, a balance that would go below zero).</summary>
public sealed class ChatStoreConflictException : ChatStoreException
{
    /// <summary>Creates the error.</summary>
    public ChatStoreConflictException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>ChatStore is set up wrongly: a malformed DATABASE_URL, missing PostgreSQL binaries, a migration that does not match its checksum. The message says what to do.</summary>
public sealed class ChatStoreConfigurationException : ChatStoreException
{
    /// <summary>Creates the error.</summary>
    public ChatStoreConfigurationException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>
/// The migrations applied to the schema conflict with the request or with the migration files: a file changed
/// after it was applied, an applied migration whose file or down script is gone. The message says what to do.
/// </summary>
public sealed class ChatStoreMigrationConflictException : ChatStoreException
{
    /// <summary>Creates the error.</summary>
    public ChatStoreMigrationConflictException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>
/// The database login lacks a privilege the operation needs: migrations, new embedding spaces and their
/// indexes need the schema owner, and the service's least-privilege login is only a member of the
/// application role. <see cref="RequiredRole"/> names the role to connect as.
/// </summary>
public sealed class ChatStorePermissionException : ChatStoreException
{
    /// <summary>Creates the error; <paramref name="requiredRole"/> is the role that may do it (the schema owner), when known.</summary>
    public ChatStorePermissionException(string message, string? requiredRole, Exception? innerException = null) : base(message, innerException) =>
        RequiredRole = requiredRole;

    /// <summary>The role to connect as for this operation (the schema owner), when known.</summary>
    public string? RequiredRole { get; }
}
