using System.Text.Json;

namespace ChatStore.Subjects;

/// <summary>What a user's conversations are about: a dog profile, a property, a student.</summary>
/// <param name="Id">The subject's id.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="UserId">The user the subject belongs to.</param>
/// <param name="Kind">The app's kind of subject, for example <c>dog</c> or <c>property</c>.</param>
/// <param name="Name">Display name.</param>
/// <param name="Attributes">The app's data about the subject (a JSON object).</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When it was last changed.</param>
/// <param name="DeletedAt">When it was soft-deleted, or null.</param>
public sealed record Subject(
    Guid Id, Guid TenantId, Guid UserId, string Kind, string Name, JsonElement Attributes,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? DeletedAt);

/// <summary>What to create a subject with.</summary>
public sealed record NewSubject
{
    /// <summary>The id to use; a new UUIDv7 when null.</summary>
    public Guid? Id { get; init; }

    /// <summary>The user the subject belongs to (required; must exist in the tenant).</summary>
    public Guid UserId { get; init; }

    /// <summary>The app's kind of subject (required, up to 100 characters).</summary>
    public string? Kind { get; init; }

    /// <summary>Display name (required, up to 500 characters).</summary>
    public string? Name { get; init; }

    /// <summary>The app's data about the subject (a JSON object; empty when null).</summary>
    public JsonElement? Attributes { get; init; }
}

/// <summary>Changes to a subject; null leaves a field as it is.</summary>
public sealed record SubjectUpdate
{
    /// <summary>A new name.</summary>
    public string? Name { get; init; }

    /// <summary>Replaces the attributes (a JSON object).</summary>
    public JsonElement? Attributes { get; init; }
}
