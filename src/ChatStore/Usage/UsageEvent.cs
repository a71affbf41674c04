using System.Text.Json;

namespace ChatStore.Usage;

/// <summary>One recorded action: its tokens, credits and cost.</summary>
/// <param name="Id">The event's id.</param>
/// <param name="UserId">The user who acted.</param>
/// <param name="ConversationId">The conversation, if any.</param>
/// <param name="MessageId">The message, if any.</param>
/// <param name="Action">What was done, such as <c>chat</c> or <c>embed</c>.</param>
/// <param name="Model">The model used, if any.</param>
/// <param name="InputTokens">Input (prompt) tokens.</param>
/// <param name="OutputTokens">Output (completion) tokens.</param>
/// <param name="Credits">Credits charged.</param>
/// <param name="CostUsd">Cost in US dollars.</param>
/// <param name="Metadata">Free-form data (a JSON object).</param>
/// <param name="OccurredAt">When it happened.</param>
public sealed record UsageEvent(
    Guid Id, Guid UserId, Guid? ConversationId, Guid? MessageId, string Action, string? Model,
    int InputTokens, int OutputTokens, decimal Credits, decimal CostUsd, JsonElement Metadata, DateTimeOffset OccurredAt);

/// <summary>What to record. Credits hold at most 4 decimal places; a cost is rounded to 8.</summary>
public sealed record NewUsageEvent
{
    /// <summary>The id to use; a new UUIDv7 when null.</summary>
    public Guid? Id { get; init; }

    /// <summary>The user who acted (a user of the tenant).</summary>
    public required Guid UserId { get; init; }

    /// <summary>The user's conversation, if any.</summary>
    public Guid? ConversationId { get; init; }

    /// <summary>A message of the user's (in <see cref="ConversationId"/> when that is given), if any.</summary>
    public Guid? MessageId { get; init; }

    /// <summary>What was done (1 to 100 characters), such as <c>chat</c>, <c>embed</c> or <c>analyse_document</c>.</summary>
    public required string Action { get; init; }

    /// <summary>The model used.</summary>
    public string? Model { get; init; }

    /// <summary>Input tokens (not negative).</summary>
    public int InputTokens { get; init; }

    /// <summary>Output tokens (not negative).</summary>
    public int OutputTokens { get; init; }

    /// <summary>Credits charged (not negative, at most 4 decimal places).</summary>
    public decimal Credits { get; init; }

    /// <summary>Cost in US dollars (not negative; stored to 8 decimal places).</summary>
    public decimal CostUsd { get; init; }

    /// <summary>Free-form data (a JSON object).</summary>
    public JsonElement? Metadata { get; init; }

    /// <summary>When it happened; now when null.</summary>
    public DateTimeOffset? OccurredAt { get; init; }
}

/// <summary>The result of a debit: the balance left and the usage event recorded with it, if one was given.</summary>
/// <param name="Balance">The balance after the debit.</param>
/// <param name="Usage">The usage event recorded in the same statement, or null.</param>
public sealed record CreditDebit(decimal Balance, UsageEvent? Usage);

/// <summary>What <see cref="UsageStore.TotalsAsync"/> adds up: events in [<see cref="From"/>, <see cref="To"/>), optionally of one user, grouped as asked.</summary>
public sealed record UsageTotalsQuery
{
    /// <summary>Only this user's events; every user's when null.</summary>
    public Guid? UserId { get; init; }

    /// <summary>The start of the period (inclusive).</summary>
    public required DateTimeOffset From { get; init; }

    /// <summary>The end of the period (exclusive).</summary>
    public required DateTimeOffset To { get; init; }

    /// <summary>Any of <see cref="UsageGrouping.User"/>, <see cref="UsageGrouping.Model"/>, <see cref="UsageGrouping.Day"/>; empty for one total.</summary>
    public IReadOnlyList<string> GroupBy { get; init; } = [];
}

/// <summary>The groupings of <see cref="UsageTotalsQuery.GroupBy"/>.</summary>
public static class UsageGrouping
{
    /// <summary>One row per user.</summary>
    public const string User = "user";

    /// <summary>One row per model.</summary>
    public const string Model = "model";

    /// <summary>One row per UTC day.</summary>
    public const string Day = "day";

    internal static readonly string[] All = [User, Model, Day];
}

/// <summary>Totals of one group; the grouping fields not asked for are null.</summary>
/// <param name="UserId">The user, when grouped by user.</param>
/// <param name="Model">The model, when grouped by model (null also for events without a model).</param>
/// <param name="Day">The UTC day, when grouped by day.</param>
/// <param name="InputTokens">Input tokens.</param>
/// <param name="OutputTokens">Output tokens.</param>
/// <param name="Credits">Credits.</param>
/// <param name="CostUsd">Cost in US dollars.</param>
/// <param name="EventCount">Events added up.</param>
public sealed record UsageTotal(
    Guid? UserId, string? Model, DateOnly? Day, long InputTokens, long OutputTokens, decimal Credits, decimal CostUsd, long EventCount);
