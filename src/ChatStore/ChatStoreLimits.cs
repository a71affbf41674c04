namespace ChatStore;

/// <summary>Size caps applied to input before it reaches the database. Every cap is configurable.</summary>
public sealed record ChatStoreLimits
{
    /// <summary>Characters in a message's content (default 2,000,000).</summary>
    public int MaxContentLength { get; init; } = 2_000_000;

    /// <summary>Characters in a title or name (default 500).</summary>
    public int MaxTitleLength { get; init; } = 500;

    /// <summary>Characters in a short text such as a model name, key or role (default 200).</summary>
    public int MaxShortTextLength { get; init; } = 200;

    /// <summary>UTF-8 bytes of a JSON value such as metadata, state or citations (default 256 KiB).</summary>
    public int MaxJsonBytes { get; init; } = 256 * 1024;

    /// <summary>Characters of a document's extracted text (default 10,000,000).</summary>
    public int MaxDocumentTextLength { get; init; } = 10_000_000;

    /// <summary>Items in a list-valued field such as domains or document links (default 100).</summary>
    public int MaxListItems { get; init; } = 100;

    /// <summary>The largest page a list operation returns (default 500).</summary>
    public int MaxPageSize { get; init; } = 500;
}
