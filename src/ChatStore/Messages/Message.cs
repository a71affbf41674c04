using System.Text.Json;

namespace ChatStore.Messages;

/// <summary>
/// One message of a conversation. <see cref="Seq"/> numbers a conversation's messages 1, 2, 3, … with
/// no gap, in the order they were appended.
/// </summary>
/// <param name="Id">The message id (UUIDv7, time-ordered).</param>
/// <param name="ConversationId">The conversation it belongs to.</param>
/// <param name="UserId">The conversation's user (every message of a conversation carries its owner, whatever the role).</param>
/// <param name="Seq">The position in the conversation, from 1, gapless.</param>
/// <param name="Role">Who wrote it: one of <see cref="MessageRole"/> (user, assistant, system, tool).</param>
/// <param name="Content">The text; while <see cref="Status"/> is streaming, the part received so far.</param>
/// <param name="Status">One of <see cref="MessageStatus"/> (complete, streaming, error).</param>
/// <param name="ParentId">The message this one answers again (regenerations), if any.</param>
/// <param name="Citations">Sources the answer cites (a JSON array, empty when none).</param>
/// <param name="Metadata">Free-form data (a JSON object, empty when none).</param>
/// <param name="Domains">Topic labels the app attached.</param>
/// <param name="Model">The model that wrote it, for assistant messages.</param>
/// <param name="InputTokens">Prompt tokens spent.</param>
/// <param name="OutputTokens">Completion tokens spent.</param>
/// <param name="CostUsd">What it cost in US dollars (8 decimal places).</param>
/// <param name="ResponseMs">How long the model took, in milliseconds.</param>
/// <param name="Error">Why generation failed, when <see cref="Status"/> is error.</param>
/// <param name="IdempotencyKey">The key it was appended with, if any.</param>
/// <param name="CreatedAt">When it was appended.</param>
/// <param name="UpdatedAt">When it last changed (a chunk, a completion, an edit, a deletion).</param>
/// <param name="EditedAt">When its content was last edited, if ever.</param>
/// <param name="DeletedAt">When it was soft-deleted, if it is.</param>
public sealed record Message(
    Guid Id, Guid ConversationId, Guid UserId, long Seq, string Role, string Content, string Status, Guid? ParentId,
    JsonElement Citations, JsonElement Metadata, IReadOnlyList<string> Domains, string? Model,
    int InputTokens, int OutputTokens, decimal CostUsd, int? ResponseMs, string? Error, string? IdempotencyKey,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? EditedAt, DateTimeOffset? DeletedAt);

/// <summary>What a message is made of, as given to append or import. Only <see cref="Role"/> is required.</summary>
public abstract record MessageInput
{
    /// <summary>The id to use; a new UUIDv7 when null.</summary>
    public Guid? Id { get; init; }

    /// <summary>Who wrote it: one of <see cref="MessageRole"/>.</summary>
    public required string Role { get; init; }

    /// <summary>The text (empty by default, for instance when a streamed answer starts).</summary>
    public string Content { get; init; } = "";

    /// <summary>One of <see cref="MessageStatus"/>; complete when null. An appended message with status streaming takes chunks later.</summary>
    public string? Status { get; init; }

    /// <summary>Sources cited (a JSON array).</summary>
    public JsonElement? Citations { get; init; }

    /// <summary>Free-form data (a JSON object).</summary>
    public JsonElement? Metadata { get; init; }

    /// <summary>Topic labels.</summary>
    public IReadOnlyList<string>? Domains { get; init; }

    /// <summary>The model that wrote it.</summary>
    public string? Model { get; init; }

    /// <summary>Prompt tokens spent (not negative).</summary>
    public int InputTokens { get; init; }

    /// <summary>Completion tokens spent (not negative).</summary>
    public int OutputTokens { get; init; }

    /// <summary>Cost in US dollars (not negative; stored with 8 decimal places).</summary>
    public decimal CostUsd { get; init; }

    /// <summary>How long the model took, in milliseconds (not negative).</summary>
    public int? ResponseMs { get; init; }

    /// <summary>Why generation failed (with status error).</summary>
    public string? Error { get; init; }
}

/// <summary>What to append. Only <see cref="MessageInput.Role"/> is required.</summary>
public sealed record NewMessage : MessageInput
{
    /// <summary>The message this one answers again, in the same conversation (set by <see cref="MessageStore.RegenerateAsync"/>).</summary>
    public Guid? ParentId { get; init; }

    /// <summary>
    /// Makes the append safe to retry: a second append with the same key (unique per tenant) and the same
    /// input returns the first message and stores nothing; the same key with other input is a
    /// <see cref="ChatStoreConflictException"/>.
    /// </summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>Documents (of the conversation's user) to link to the message in the same statement.</summary>
    public IReadOnlyList<Guid>? DocumentIds { get; init; }
}

/// <summary>The end of a streamed message. Null fields keep their value.</summary>
public sealed record MessageCompletion
{
    /// <summary>Replaces the streamed content (for instance with a cleaned-up final text).</summary>
    public string? Content { get; init; }

    /// <summary>The model that wrote it.</summary>
    public string? Model { get; init; }

    /// <summary>Prompt tokens spent.</summary>
    public int? InputTokens { get; init; }

    /// <summary>Completion tokens spent.</summary>
    public int? OutputTokens { get; init; }

    /// <summary>Cost in US dollars.</summary>
    public decimal? CostUsd { get; init; }

    /// <summary>How long the model took, in milliseconds.</summary>
    public int? ResponseMs { get; init; }

    /// <summary>Replaces the citations (a JSON array).</summary>
    public JsonElement? Citations { get; init; }

    /// <summary>Merged into the metadata: its top-level keys replace the stored ones (a JSON object).</summary>
    public JsonElement? Metadata { get; init; }
}

/// <summary>Which part of a conversation's history to read.</summary>
public sealed record HistoryQuery
{
    /// <summary>How many messages at most (default 50).</summary>
    public int Limit { get; init; } = 50;

    /// <summary>Only messages before this seq: the <see cref="Limit"/> latest of them (paging back).</summary>
    public long? BeforeSeq { get; init; }

    /// <summary>Only messages after this seq: the <see cref="Limit"/> earliest of them (paging forward, or catching up).</summary>
    public long? AfterSeq { get; init; }

    /// <summary>Include soft-deleted messages (default false).</summary>
    public bool IncludeDeleted { get; init; }
}

/// <summary>Messages of a conversation in ascending <see cref="Message.Seq"/> order.</summary>
/// <param name="Messages">The messages, oldest first.</param>
/// <param name="HasMore">
/// Whether more messages lie beyond this page in the direction read: older ones when reading the latest
/// or before a seq, newer ones when reading after a seq.
/// </param>
public sealed record MessageHistory(IReadOnlyList<Message> Messages, bool HasMore);

/// <summary>The roles a message can have.</summary>
public static class MessageRole
{
    /// <summary>The person chatting.</summary>
    public const string User = "user";

    /// <summary>The AI.</summary>
    public const string Assistant = "assistant";

    /// <summary>Instructions for the AI.</summary>
    public const string System = "system";

    /// <summary>A tool's result.</summary>
    public const string Tool = "tool";

    /// <summary>Every role.</summary>
    public static IReadOnlyList<string> All { get; } = [User, Assistant, System, Tool];
}

/// <summary>The states of a message.</summary>
public static class MessageStatus
{
    /// <summary>Whole (the default).</summary>
    public const string Complete = "complete";

    /// <summary>Being written: chunks are appended until it is completed or fails.</summary>
    public const string Streaming = "streaming";

    /// <summary>Generation failed; <see cref="Message.Error"/> says why.</summary>
    public const string Error = "error";

    /// <summary>Every status.</summary>
    public static IReadOnlyList<string> All { get; } = [Complete, Streaming, Error];
}
