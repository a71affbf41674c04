namespace ChatStore.Messages;

/// <summary>A user's judgement of a message: a like or dislike, a score, or both. One per user per message.</summary>
/// <param name="Id">The feedback id.</param>
/// <param name="MessageId">The message judged.</param>
/// <param name="UserId">Who judged it.</param>
/// <param name="Rating">One of <see cref="FeedbackRating"/> (like, dislike), or null when only a score was given.</param>
/// <param name="Score">1 to 10, or null when only a rating was given.</param>
/// <param name="Comment">Free text.</param>
/// <param name="CreatedAt">When it was first given.</param>
/// <param name="UpdatedAt">When it last changed.</param>
public sealed record Feedback(
    Guid Id, Guid MessageId, Guid UserId, string? Rating, int? Score, string? Comment, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>The feedback to set: a <see cref="Rating"/>, a <see cref="Score"/> or both. It replaces the user's earlier feedback on the message.</summary>
public sealed record NewFeedback
{
    /// <summary>One of <see cref="FeedbackRating"/>.</summary>
    public string? Rating { get; init; }

    /// <summary>1 to 10.</summary>
    public int? Score { get; init; }

    /// <summary>Free text.</summary>
    public string? Comment { get; init; }
}

/// <summary>The ratings feedback can carry.</summary>
public static class FeedbackRating
{
    /// <summary>Thumbs up.</summary>
    public const string Like = "like";

    /// <summary>Thumbs down.</summary>
    public const string Dislike = "dislike";

    /// <summary>Every rating.</summary>
    public static IReadOnlyList<string> All { get; } = [Like, Dislike];
}

/// <summary>A user's correction of a message, kept for learning.</summary>
/// <param name="Id">The correction id (UUIDv7, time-ordered).</param>
/// <param name="MessageId">The message corrected.</param>
/// <param name="UserId">Who corrected it.</param>
/// <param name="OriginalContent">The message's content when it was corrected.</param>
/// <param name="CorrectedContent">What it should have said.</param>
/// <param name="Reason">Why, if given.</param>
/// <param name="CreatedAt">When.</param>
public sealed record Correction(
    Guid Id, Guid MessageId, Guid UserId, string OriginalContent, string CorrectedContent, string? Reason, DateTimeOffset CreatedAt);
