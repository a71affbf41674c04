namespace ChatStore.SearchHistory;

/// <summary>A search a user ran.</summary>
/// <param name="Id">The entry's id.</param>
/// <param name="UserId">The user.</param>
/// <param name="Query">What they searched for.</param>
/// <param name="Mode">One of <see cref="SearchMode"/>.</param>
/// <param name="ResultCount">How many results it found.</param>
/// <param name="CreatedAt">When.</param>
public sealed record SearchHistoryEntry(Guid Id, Guid UserId, string Query, string Mode, int ResultCount, DateTimeOffset CreatedAt);

/// <summary>How a search matched.</summary>
public static class SearchMode
{
    /// <summary>Full-text search.</summary>
    public const string FullText = "fts";

    /// <summary>Vector (semantic) search.</summary>
    public const string Vector = "vector";

    /// <summary>Full-text and vector results fused.</summary>
    public const string Hybrid = "hybrid";

    internal static readonly string[] All = [FullText, Vector, Hybrid];
}
