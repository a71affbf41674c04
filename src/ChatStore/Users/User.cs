using System.Text.Json;

namespace ChatStore.Users;

/// <summary>A person using a tenant's app.</summary>
public sealed record User(
    Guid Id, Guid TenantId, string? ExternalId, string? Email, string? Name, string Role,
    string? SsoProvider, string? SsoId, JsonElement Info, DateTimeOffset? LastLoginAt,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? DeletedAt);

/// <summary>What to create a user with. Every field is optional except that a role, when given, must be in the tenant's role set.</summary>
public sealed record NewUser
{
    /// <summary>The id to use; a new UUIDv7 when null.</summary>
    public Guid? Id { get; init; }

    /// <summary>The app's own id for the user (unique per tenant).</summary>
    public string? ExternalId { get; init; }

    /// <summary>Email (unique per tenant, case-insensitive).</summary>
    public string? Email { get; init; }

    /// <summary>Display name.</summary>
    public string? Name { get; init; }

    /// <summary>A role from the tenant's role set; the tenant's default role when null.</summary>
    public string? Role { get; init; }

    /// <summary>Single sign-on provider (set together with <see cref="SsoId"/>).</summary>
    public string? SsoProvider { get; init; }

    /// <summary>The user's id at the SSO provider.</summary>
    public string? SsoId { get; init; }

    /// <summary>Free-form profile data (a JSON object).</summary>
    public JsonElement? Info { get; init; }
}

/// <summary>Changes to a user; null leaves a field as it is.</summary>
public sealed record UserUpdate
{
    /// <summary>A new email.</summary>
    public string? Email { get; init; }

    /// <summary>A new name.</summary>
    public string? Name { get; init; }

    /// <summary>A new role from the tenant's role set.</summary>
    public string? Role { get; init; }

    /// <summary>A new external id.</summary>
    public string? ExternalId { get; init; }

    /// <summary>Replaces the profile data (a JSON object).</summary>
    public JsonElement? Info { get; init; }
}
