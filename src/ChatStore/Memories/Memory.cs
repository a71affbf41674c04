using System.Text.Json;

namespace ChatStore.Memories;

/// <summary>A fact, preference or other note about a user, distilled from their conversations.</summary>
/// <param name="Id">The memory id (one version of it: an update makes a new version with a new id).</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="UserId">The user the memory is about.</param>
/// <param name="Content">The text, as it was given.</param>
/// <param name="Kind">One of <see cref="MemoryKinds.All"/>.</param>
/// <param name="Importance">0 (trivia) to 1 (essential).</param>
/// <param name="ExternalId">The app's own id for the memory (unique among the user's live memories).</param>
/// <param name="SupersededBy">The id of the version that replaced this one; null for the current version.</param>
/// <param name="Metadata">Free-form data (a JSON object).</param>
/// <param name="Language">The text search configuration its content is indexed with (the tenant's search language).</param>
/// <param name="CreatedAt">When this version was created.</param>
/// <param name="UpdatedAt">When this row last changed.</param>
/// <param name="DeletedAt">When it was soft-deleted; null while it is not.</param>
public sealed record Memory(
    Guid Id, Guid TenantId, Guid UserId, string Content, string Kind, float Importance, string? ExternalId,
    Guid? SupersededBy, JsonElement Metadata, string Language, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? DeletedAt);

/// <summary>The outcome of <see cref="MemoryStore.AddAsync"/>: the stored memory and whether it is new.</summary>
/// <param name="Memory">The new memory, or the user's existing live memory with the same normalised content.</param>
/// <param name="Created">True when the memory was created; false when an existing one was returned (its new sources were linked to it).</param>
public sealed record AddMemoryResult(Memory Memory, bool Created);

/// <summary>The kinds of memory.</summary>
public static class MemoryKinds
{
    /// <summary>Something true about the user ("has a dog named Rex").</summary>
    public const string Fact = "fact";

    /// <summary>Something the user likes or wants ("prefers short answers").</summary>
    public const string Preference = "preference";

    /// <summary>An instruction to the assistant ("always answer in French").</summary>
    public const string Instruction = "instruction";

    /// <summary>Something the user is working towards.</summary>
    public const string Goal = "goal";

    /// <summary>Something that happened.</summary>
    public const string Episode = "episode";

    /// <summary>A summary of conversations.</summary>
    public const string Summary = "summary";

    /// <summary>Every kind.</summary>
    public static IReadOnlyList<string> All { get; } = [Fact, Preference, Instruction, Goal, Episode, Summary];
}

/// <summary>A conversation (and optionally one of its messages) a memory was distilled from.</summary>
/// <param name="ConversationId">The conversation; it must belong to the memory's user.</param>
/// <param name="MessageId">A message of that conversation, or null for the conversation as a whole.</param>
public sealed record MemorySourceRef(Guid ConversationId, Guid? MessageId = null);

/// <summary>A stored link from a memory to a conversation or message it was distilled from.</summary>
/// <param name="MemoryId">The memory version the link belongs to.</param>
/// <param name="ConversationId">The conversation.</param>
/// <param name="MessageId">The message, or null for the conversation as a whole.</param>
/// <param name="CreatedAt">When the link was made.</param>
public sealed record MemorySource(Guid MemoryId, Guid ConversationId, Guid? MessageId, DateTimeOffset CreatedAt);

/// <summary>What to add a memory with.</summary>
public sealed record NewMemory
{
    /// <summary>The user the memory is about (required).</summary>
    public required Guid UserId { get; init; }

    /// <summary>
    /// The text (required, not only whitespace). Memories are deduplicated per user by a hash of the normalised
    /// content: Unicode NFKC, trimmed, whitespace runs collapsed to one space, lower-cased.
    /// </summary>
    public required string Content { get; init; }

    /// <summary>One of <see cref="MemoryKinds.All"/> (default <see cref="MemoryKinds.Fact"/>).</summary>
    public string Kind { get; init; } = MemoryKinds.Fact;

    /// <summary>0 to 1 (default 0.5).</summary>
    public float Importance { get; init; } = 0.5f;

    /// <summary>The app's own id for the memory (unique among the user's live memories).</summary>
    public string? ExternalId { get; init; }

    /// <summary>Free-form data (a JSON object).</summary>
    public JsonElement? Metadata { get; init; }

    /// <summary>The conversations and messages the memory was distilled from; all must belong to the user.</summary>
    public IReadOnlyList<MemorySourceRef>? Sources { get; init; }
}

/// <summary>Changes to a memory; null leaves a field as it is. An update makes a new version.</summary>
public sealed record MemoryUpdate
{
    /// <summary>New text (not only whitespace).</summary>
    public string? Content { get; init; }

    /// <summary>A new kind, one of <see cref="MemoryKinds.All"/>.</summary>
    public string? Kind { get; init; }

    /// <summary>A new importance, 0 to 1.</summary>
    public float? Importance { get; init; }

    /// <summary>Replaces the metadata (a JSON object).</summary>
    public JsonElement? Metadata { get; init; }
}

/// <summary>Which of a user's memories to list, newest first.</summary>
public sealed record MemoryQuery
{
    /// <summary>The page size, 1 to the configured maximum (default 50).</summary>
    public int Limit { get; init; } = 50;

    /// <summary>The <see cref="Page{T}.NextCursor"/> of the previous page; null for the first page.</summary>
    public string? Cursor { get; init; }

    /// <summary>Only memories of this kind.</summary>
    public string? Kind { get; init; }

    /// <summary>Only memories at least this important (0 to 1).</summary>
    public float? MinImportance { get; init; }

    /// <summary>Also earlier versions that an update replaced (default false: current versions only).</summary>
    public bool IncludeSuperseded { get; init; }

    /// <summary>Also soft-deleted memories (default false).</summary>
    public bool IncludeDeleted { get; init; }
}
