namespace ChatStore.Tenants;

/// <summary>An organisation or app using ChatStore.</summary>
/// <param name="Id">The tenant id.</param>
/// <param name="Name">A display name.</param>
/// <param name="Roles">The roles its users may have (for example educator, coach, admin).</param>
/// <param name="DefaultRole">The role a user gets when none is given.</param>
/// <param name="SearchLanguage">The PostgreSQL text search configuration for its content (for example <c>english</c> or <c>simple</c>).</param>
/// <param name="RetentionInactiveDays">Conversations untouched this many days are deleted by retention (null: kept).</param>
/// <param name="RetentionPurgeDeletedDays">Soft-deleted rows are purged after this many days (null: kept).</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When it last changed.</param>
public sealed record Tenant(
    Guid Id, string Name, IReadOnlyList<string> Roles, string DefaultRole, string SearchLanguage,
    int? RetentionInactiveDays, int? RetentionPurgeDeletedDays, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>What to create a tenant with.</summary>
public sealed record NewTenant
{
    /// <summary>The id to use; a new one when null.</summary>
    public Guid? Id { get; init; }

    /// <summary>A display name (required).</summary>
    public required string Name { get; init; }

    /// <summary>The tenant's role set (default: user, admin).</summary>
    public IReadOnlyList<string>? Roles { get; init; }

    /// <summary>The default role (default: the first role).</summary>
    public string? DefaultRole { get; init; }

    /// <summary>The text search configuration (default <c>english</c>).</summary>
    public string? SearchLanguage { get; init; }
}

/// <summary>Changes to a tenant; null leaves a field as it is.</summary>
public sealed record TenantUpdate
{
    /// <summary>A new name.</summary>
    public string? Name { get; init; }

    /// <summary>A new role set.</summary>
    public IReadOnlyList<string>? Roles { get; init; }

    /// <summary>A new default role (must be in the role set).</summary>
    public string? DefaultRole { get; init; }

    /// <summary>A new text search configuration; applies to content written from now on.</summary>
    public string? SearchLanguage { get; init; }

    /// <summary>Retention: delete conversations untouched for this many days (0 clears the policy).</summary>
    public int? RetentionInactiveDays { get; init; }

    /// <summary>Retention: purge soft-deleted rows after this many days (-1 clears the policy).</summary>
    public int? RetentionPurgeDeletedDays { get; init; }
}

/// <summary>A tenant API key as listed (the secret is never shown again).</summary>
public sealed record ApiKey(Guid Id, Guid TenantId, string Name, string Prefix, IReadOnlyList<string> Scopes,
    DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt);

/// <summary>A newly created API key: <see cref="Secret"/> is returned this once and stored only as a hash.</summary>
public sealed record CreatedApiKey(ApiKey Key, string Secret);

/// <summary>What a tenant holds (see <see cref="TenantStore.CountsAsync"/>).</summary>
/// <param name="Users">Live users.</param>
/// <param name="Conversations">Live conversations.</param>
/// <param name="Messages">Live messages in live conversations.</param>
/// <param name="Memories">Current memories (not deleted, not superseded).</param>
/// <param name="Documents">Live documents.</param>
/// <param name="ApiKeys">API keys not revoked.</param>
public sealed record TenantCounts(long Users, long Conversations, long Messages, long Memories, long Documents, long ApiKeys);
