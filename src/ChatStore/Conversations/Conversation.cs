using System.Text.Json;

namespace ChatStore.Conversations;

/// <summary>Whether a conversation is in the user's main list or put away.</summary>
public enum ConversationStatus
{
    /// <summary>In use (stored as <c>active</c>).</summary>
    Active,

    /// <summary>Put away by the user (stored as <c>archived</c>); still readable and listable.</summary>
    Archived,
}

/// <summary>A user's chat thread.</summary>
/// <param name="Id">The conversation's id.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="UserId">The user who owns it.</param>
/// <param name="Title">The title (empty until set).</param>
/// <param name="Status">Active or archived.</param>
/// <param name="Pinned">Whether the user pinned it.</param>
/// <param name="Mode">The app's active mode (for example <c>tutor</c>), or null.</param>
/// <param name="State">The mode's state or context (a JSON object).</param>
/// <param name="SubjectId">What the conversation is about, or null.</param>
/// <param name="Metadata">The app's data (a JSON object).</param>
/// <param name="LastSeq">The sequence number of the last message (0 when there is none).</param>
/// <param name="MessageCount">How many messages it holds.</param>
/// <param name="LastMessageAt">When the last message was added, or null.</param>
/// <param name="LastActivityAt">When it was last active; lists are ordered by it, newest first.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When it was last changed.</param>
/// <param name="DeletedAt">When it was soft-deleted, or null.</param>
public sealed record Conversation(
    Guid Id, Guid TenantId, Guid UserId, string Title, ConversationStatus Status, bool Pinned, string? Mode, JsonElement State,
    Guid? SubjectId, JsonElement Metadata, long LastSeq, int MessageCount, DateTimeOffset? LastMessageAt, DateTimeOffset LastActivityAt,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? DeletedAt);

/// <summary>What to create a conversation with.</summary>
public sealed record NewConversation
{
    /// <summary>The id to use; a new UUIDv7 when null.</summary>
    public Guid? Id { get; init; }

    /// <summary>The owner (required; an existing user of the tenant).</summary>
    public Guid UserId { get; init; }

    /// <summary>The title; empty when null.</summary>
    public string? Title { get; init; }

    /// <summary>The app's active mode, or null.</summary>
    public string? Mode { get; init; }

    /// <summary>The mode's state or context (a JSON object; empty when null).</summary>
    public JsonElement? State { get; init; }

    /// <summary>What the conversation is about: a subject of the same user, or null.</summary>
    public Guid? SubjectId { get; init; }

    /// <summary>The app's data (a JSON object; empty when null).</summary>
    public JsonElement? Metadata { get; init; }
}

/// <summary>Which of a user's conversations to list, and which page.</summary>
public sealed record ConversationQuery
{
    /// <summary>The page size (1 to the configured maximum page size; default 50).</summary>
    public int Limit { get; init; } = 50;

    /// <summary>The <see cref="Page{T}.NextCursor"/> of the previous page, or null for the first page.</summary>
    public string? Cursor { get; init; }

    /// <summary>Only active or only archived conversations; both when null.</summary>
    public ConversationStatus? Status { get; init; }

    /// <summary>Only pinned (true) or only unpinned (false) conversations; both when null.</summary>
    public bool? Pinned { get; init; }

    /// <summary>Only conversations about this subject.</summary>
    public Guid? SubjectId { get; init; }

    /// <summary>Only conversations last active at or after this instant.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Only conversations last active before this instant.</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>Also list soft-deleted conversations (a trash view shows those with a <see cref="Conversation.DeletedAt"/>).</summary>
    public bool IncludeDeleted { get; init; }
}

/// <summary>A public share link of a conversation. Its token is not stored (only its SHA-256 hash) and is not part of this record.</summary>
/// <param name="Id">The share's id (use it to revoke the link).</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="ConversationId">The shared conversation.</param>
/// <param name="CreatedBy">The user who shared it, when recorded.</param>
/// <param name="UpToSeq">The link shows messages up to this sequence number.</param>
/// <param name="CreatedAt">When the link was created.</param>
/// <param name="ExpiresAt">When the link stops working, or null for never.</param>
/// <param name="RevokedAt">When the link was revoked, or null.</param>
public sealed record ConversationShare(
    Guid Id, Guid TenantId, Guid ConversationId, Guid? CreatedBy, long UpToSeq, DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt);

/// <summary>A new share link and its token. The token is shown only here; it goes into the public URL.</summary>
/// <param name="Share">The share.</param>
/// <param name="Token">The secret token (<c>cs_share_…</c>, 128 random bits); the database keeps only its hash.</param>
public sealed record CreatedShare(ConversationShare Share, string Token)
{
    /// <summary>The share, with the token redacted so that logging this record does not leak it.</summary>
    public override string ToString() => $"CreatedShare {{ Share = {Share}, Token = *** }}";
}

/// <summary>
/// What a share link shows to anyone who has it: the title and the messages up to the shared
/// sequence number. Nothing about the owner (no user id, email or name).
/// </summary>
/// <param name="Title">The conversation's title.</param>
/// <param name="CreatedAt">When the conversation was created.</param>
/// <param name="Messages">The shared messages in order.</param>
public sealed record SharedConversation(string Title, DateTimeOffset CreatedAt, IReadOnlyList<SharedMessage> Messages);

/// <summary>One message of a shared conversation.</summary>
/// <param name="Seq">Its sequence number in the conversation.</param>
/// <param name="Role"><c>user</c> or <c>assistant</c>.</param>
/// <param name="Content">The text.</param>
/// <param name="CreatedAt">When it was written.</param>
/// <param name="Citations">Its citations (a JSON array).</param>
public sealed record SharedMessage(long Seq, string Role, string Content, DateTimeOffset CreatedAt, JsonElement Citations);
