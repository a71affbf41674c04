using System.Text.Json;

namespace ChatStore.Documents;

/// <summary>An uploaded document: where it is stored, its size and hash, its processing status.</summary>
/// <param name="Id">The document id.</param>
/// <param name="TenantId">The tenant.</param>
/// <param name="UserId">The user who uploaded it.</param>
/// <param name="ConversationId">The conversation it was uploaded in, if any.</param>
/// <param name="Filename">The file name.</param>
/// <param name="MimeType">The media type, for example <c>application/pdf</c>.</param>
/// <param name="SizeBytes">The size in bytes.</param>
/// <param name="Sha256">The SHA-256 digest of the content (32 bytes), if known.</param>
/// <param name="StorageUri">Where the content is stored (the store keeps no file content).</param>
/// <param name="Status">One of <see cref="DocumentStatuses.All"/>.</param>
/// <param name="Error">Why processing failed, while <see cref="Status"/> is <c>failed</c>.</param>
/// <param name="HasExtractedText">Whether extracted text is stored; read it with <see cref="DocumentStore.GetExtractedTextAsync"/>.</param>
/// <param name="Metadata">Free-form data (a JSON object).</param>
/// <param name="LastAnalysisVersion">The version of the latest analysis; 0 when there is none.</param>
/// <param name="Language">The text search configuration its text is indexed with (the tenant's search language).</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When it last changed.</param>
/// <param name="DeletedAt">When it was soft-deleted; null while it is not.</param>
public sealed record Document(
    Guid Id, Guid TenantId, Guid UserId, Guid? ConversationId, string Filename, string MimeType, long SizeBytes,
    ReadOnlyMemory<byte>? Sha256, string? StorageUri, string Status, string? Error, bool HasExtractedText, JsonElement Metadata,
    int LastAnalysisVersion, string Language, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? DeletedAt);

/// <summary>
/// A document's processing statuses: <c>pending</c> → <c>processing</c> → <c>ready</c> or <c>failed</c>, and
/// <c>failed</c> → <c>processing</c> to retry.
/// </summary>
public static class DocumentStatuses
{
    /// <summary>Uploaded, not processed yet.</summary>
    public const string Pending = "pending";

    /// <summary>Being processed (text extraction, analysis).</summary>
    public const string Processing = "processing";

    /// <summary>Processed.</summary>
    public const string Ready = "ready";

    /// <summary>Processing failed; see <see cref="Document.Error"/>. It may be processed again.</summary>
    public const string Failed = "failed";

    /// <summary>Every status.</summary>
    public static IReadOnlyList<string> All { get; } = [Pending, Processing, Ready, Failed];
}

/// <summary>What to create a document with.</summary>
public sealed record NewDocument
{
    /// <summary>The user who uploaded it (required).</summary>
    public required Guid UserId { get; init; }

    /// <summary>The conversation it was uploaded in; it must belong to the user.</summary>
    public Guid? ConversationId { get; init; }

    /// <summary>The file name (required, up to 1,000 characters).</summary>
    public required string Filename { get; init; }

    /// <summary>The media type, <c>type/subtype</c> (default <c>application/octet-stream</c>).</summary>
    public string? MimeType { get; init; }

    /// <summary>The size in bytes (not negative).</summary>
    public long SizeBytes { get; init; }

    /// <summary>The SHA-256 digest of the content: exactly 32 bytes, or null. It is copied when the document is created.</summary>
    public byte[]? Sha256 { get; init; }

    /// <summary>Where the content is stored.</summary>
    public string? StorageUri { get; init; }

    /// <summary>Free-form data (a JSON object).</summary>
    public JsonElement? Metadata { get; init; }
}

/// <summary>Which of a user's documents to list, newest first.</summary>
public sealed record DocumentQuery
{
    /// <summary>The page size, 1 to the configured maximum (default 50).</summary>
    public int Limit { get; init; } = 50;

    /// <summary>The <see cref="Page{T}.NextCursor"/> of the previous page; null for the first page.</summary>
    public string? Cursor { get; init; }

    /// <summary>Only documents with this status.</summary>
    public string? Status { get; init; }
}

/// <summary>A versioned AI analysis of a document.</summary>
/// <param name="Id">The analysis id.</param>
/// <param name="DocumentId">The document.</param>
/// <param name="Version">1 for the first analysis of the document, then 2, 3, … with no gaps.</param>
/// <param name="Category">What the document is, as the analysis classified it.</param>
/// <param name="Summary">A summary (full-text indexed with the category).</param>
/// <param name="Result">The analysis result (a JSON object).</param>
/// <param name="Provider">The AI provider.</param>
/// <param name="Model">The model.</param>
/// <param name="TraceId">The provider's or app's trace id for the call.</param>
/// <param name="CreatedAt">When it was added.</param>
public sealed record DocumentAnalysis(
    Guid Id, Guid DocumentId, int Version, string? Category, string Summary, JsonElement Result,
    string? Provider, string? Model, string? TraceId, DateTimeOffset CreatedAt);

/// <summary>What to add an analysis with; every field is optional.</summary>
public sealed record NewAnalysis
{
    /// <summary>What the document is, as the analysis classified it.</summary>
    public string? Category { get; init; }

    /// <summary>A summary (default empty).</summary>
    public string? Summary { get; init; }

    /// <summary>The analysis result (a JSON object; default empty).</summary>
    public JsonElement? Result { get; init; }

    /// <summary>The AI provider.</summary>
    public string? Provider { get; init; }

    /// <summary>The model.</summary>
    public string? Model { get; init; }

    /// <summary>The provider's or app's trace id for the call.</summary>
    public string? TraceId { get; init; }
}
