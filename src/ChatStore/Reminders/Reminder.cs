using System.Text.Json;

namespace ChatStore.Reminders;

/// <summary>A reminder for a user, one-off or recurring.</summary>
/// <param name="Id">The reminder's id.</param>
/// <param name="UserId">The user it is for.</param>
/// <param name="ConversationId">The conversation it came from, if any.</param>
/// <param name="Title">What to remind of.</param>
/// <param name="Body">Details, if any.</param>
/// <param name="DueAt">When it is next due (UTC).</param>
/// <param name="Recurrence">The RRULE (canonical form) for a recurring reminder; null for a one-off.</param>
/// <param name="Timezone">The IANA time zone whose wall clock recurrences follow.</param>
/// <param name="Status">One of <see cref="ReminderStatus"/>.</param>
/// <param name="ClaimedAt">When a worker last claimed it.</param>
/// <param name="SentCount">How many times it was claimed for sending.</param>
/// <param name="Metadata">Free-form data (a JSON object).</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When it last changed.</param>
public sealed record Reminder(
    Guid Id, Guid UserId, Guid? ConversationId, string Title, string? Body, DateTimeOffset DueAt, string? Recurrence,
    string Timezone, string Status, DateTimeOffset? ClaimedAt, int SentCount, JsonElement Metadata,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A reminder's status.</summary>
public static class ReminderStatus
{
    /// <summary>Waiting until it is due (recurring reminders stay pending between occurrences).</summary>
    public const string Pending = "pending";

    /// <summary>A one-off reminder a worker claimed for sending.</summary>
    public const string Sent = "sent";

    /// <summary>Done: completed by the app, or a recurring reminder whose COUNT or UNTIL ran out.</summary>
    public const string Completed = "completed";

    /// <summary>Cancelled; never sent again.</summary>
    public const string Cancelled = "cancelled";

    internal static readonly string[] All = [Pending, Sent, Completed, Cancelled];
}

/// <summary>What to create a reminder with.</summary>
public sealed record NewReminder
{
    /// <summary>The id to use; a new UUIDv7 when null.</summary>
    public Guid? Id { get; init; }

    /// <summary>The user it is for (a user of the tenant).</summary>
    public required Guid UserId { get; init; }

    /// <summary>The conversation it came from (one of the user's), if any.</summary>
    public Guid? ConversationId { get; init; }

    /// <summary>What to remind of (1 to <see cref="ChatStoreLimits.MaxTitleLength"/> characters).</summary>
    public required string Title { get; init; }

    /// <summary>Details.</summary>
    public string? Body { get; init; }

    /// <summary>When it is (first) due.</summary>
    public required DateTimeOffset DueAt { get; init; }

    /// <summary>
    /// An RRULE for a recurring reminder, such as <c>FREQ=WEEKLY;INTERVAL=2;COUNT=10</c>: FREQ
    /// (MINUTELY, HOURLY, DAILY, WEEKLY, MONTHLY, YEARLY), INTERVAL, and COUNT or UNTIL; other
    /// parts are rejected. <see cref="DueAt"/> is the first occurrence. Null for a one-off.
    /// </summary>
    public string? Recurrence { get; init; }

    /// <summary>The IANA time zone (such as <c>Europe/Berlin</c>) whose wall clock recurrences keep; UTC when null.</summary>
    public string? Timezone { get; init; }

    /// <summary>Free-form data (a JSON object).</summary>
    public JsonElement? Metadata { get; init; }
}

/// <summary>Changes to a reminder; null leaves a field as it is.</summary>
public sealed record ReminderUpdate
{
    /// <summary>A new title.</summary>
    public string? Title { get; init; }

    /// <summary>A new body.</summary>
    public string? Body { get; init; }

    /// <summary>A new due time; a sent or completed reminder becomes pending again.</summary>
    public DateTimeOffset? DueAt { get; init; }

    /// <summary>A new RRULE; the empty string makes the reminder one-off. The series restarts at the due time.</summary>
    public string? Recurrence { get; init; }

    /// <summary>A new IANA time zone.</summary>
    public string? Timezone { get; init; }
}

/// <summary>A reminder a worker claimed: send it for <see cref="OccurrenceAt"/>.</summary>
/// <param name="OccurrenceAt">The due time that was reached (the occurrence to send).</param>
/// <param name="Reminder">The reminder after the claim: <c>sent</c> for a one-off; for a recurring one <c>pending</c> with the next due time, or <c>completed</c> when its COUNT or UNTIL ran out.</param>
public sealed record ClaimedReminder(DateTimeOffset OccurrenceAt, Reminder Reminder);
