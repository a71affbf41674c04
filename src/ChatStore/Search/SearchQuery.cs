using ChatStore.Embeddings;
using Microsoft.Extensions.AI;

namespace ChatStore.Search;

/// <summary>What a search result is.</summary>
public enum SearchKind
{
    /// <summary>A message.</summary>
    Message,

    /// <summary>A memory.</summary>
    Memory,

    /// <summary>A document (its file name and extracted text).</summary>
    Document,

    /// <summary>An AI analysis of a document (its category and summary).</summary>
    Analysis,

    /// <summary>A subject (vector search only: subjects have no full-text index).</summary>
    Subject,
}

/// <summary>How a vector search finds its nearest neighbours.</summary>
public enum VectorSearchMode
{
    /// <summary>
    /// Exact when the filtered candidate set is small (below <see cref="VectorSearchSettings.ExactThreshold"/>
    /// rows of the user, or of the tenant when no user is given), the approximate index otherwise.
    /// </summary>
    Auto,

    /// <summary>The space's approximate index, with pgvector's iterative scan so selective filters keep their recall.</summary>
    Index,

    /// <summary>Exact: every filtered candidate's distance, no index. Perfect recall; cost grows with the candidate set.</summary>
    Exact,
}

/// <summary>Which lists a hybrid result came from.</summary>
[Flags]
public enum HybridSources
{
    /// <summary>Neither (never returned).</summary>
    None = 0,

    /// <summary>The full-text list.</summary>
    FullText = 1,

    /// <summary>The vector list.</summary>
    Vector = 2,
}

/// <summary>Filters every search mode shares. Null filters do not filter.</summary>
public abstract record SearchFilters
{
    /// <summary>Only this user's rows.</summary>
    public Guid? UserId { get; init; }

    /// <summary>
    /// Only rows of this conversation: its messages, the documents attached to it, their analyses, the
    /// memories distilled from it (and, for vectors, embeddings carrying the conversation).
    /// </summary>
    public Guid? ConversationId { get; init; }

    /// <summary>Only rows created at or after this time.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Only rows created before this time.</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>Which kinds of rows to search (default: all the mode supports).</summary>
    public IReadOnlyList<SearchKind>? Kinds { get; init; }
}

/// <summary>
/// A full-text search. The text is read by PostgreSQL's <c>websearch_to_tsquery</c>: words, "quoted
/// phrases", <c>or</c>, and <c>-excluded</c> words; any text is valid and nothing in it is an error.
/// </summary>
public sealed record SearchQuery : SearchFilters
{
    /// <summary>What to search for (up to 10,000 characters).</summary>
    public required string Text { get; init; }

    /// <summary>Only messages with one of these roles (user, assistant, system, tool); other kinds are left out when set.</summary>
    public IReadOnlyList<string>? Roles { get; init; }

    /// <summary>
    /// Only rows with one of these statuses: messages (complete, streaming, error), documents (pending,
    /// processing, ready, failed); kinds without a status are left out when set.
    /// </summary>
    public IReadOnlyList<string>? Statuses { get; init; }

    /// <summary>The text search configuration (for example <c>english</c>, <c>simple</c>); the tenant's search language when null.</summary>
    public string? Language { get; init; }

    /// <summary>Results per page (default 20).</summary>
    public int Limit { get; init; } = 20;

    /// <summary>The <see cref="Page{T}.NextCursor"/> of the previous page.</summary>
    public string? Cursor { get; init; }

    /// <summary>Marks the start of a matched word in snippets (default <c>&lt;b&gt;</c>).</summary>
    public string HighlightStart { get; init; } = "<b>";

    /// <summary>Marks the end of a matched word in snippets (default <c>&lt;/b&gt;</c>).</summary>
    public string HighlightEnd { get; init; } = "</b>";
}

/// <summary>Settings of the vector part of a search.</summary>
public abstract record VectorSearchSettings : SearchFilters
{
    /// <summary>The space to search.</summary>
    public required EmbeddingSpace Space { get; init; }

    /// <summary>The query vector; when null, <see cref="QueryText"/> is embedded with <see cref="Generator"/>.</summary>
    public ReadOnlyMemory<float>? Vector { get; init; }

    /// <summary>
    /// Embeds the query text when no <see cref="Vector"/> is given; when null, the space's built-in
    /// embedder (<see cref="EmbeddingGenerators.ForSpace"/>) is used.
    /// </summary>
    public IEmbeddingGenerator<string, Embedding<float>>? Generator { get; init; }

    /// <summary>How neighbours are found (default <see cref="VectorSearchMode.Auto"/>).</summary>
    public VectorSearchMode Mode { get; init; } = VectorSearchMode.Auto;

    /// <summary>Auto mode searches exactly below this many candidate rows (default 2,000).</summary>
    public int ExactThreshold { get; init; } = 2000;

    /// <summary>HNSW's candidate list size per query (<c>hnsw.ef_search</c>; default 200): higher is better recall, slower.</summary>
    public int EfSearch { get; init; } = 200;

    /// <summary>The most tuples an iterative HNSW scan visits looking for rows that pass the filters (<c>hnsw.max_scan_tuples</c>; default 20,000).</summary>
    public int MaxScanTuples { get; init; } = 20_000;

    /// <summary>IVFFlat lists probed per query (<c>ivfflat.probes</c>; default 10).</summary>
    public int Probes { get; init; } = 10;

    internal abstract string? QueryText { get; }
}

/// <summary>A k-nearest-neighbour search in an embedding space, filtered by tenant (always) and the filters given.</summary>
public sealed record VectorSearchQuery : VectorSearchSettings
{
    /// <summary>Text to embed when no vector is given.</summary>
    public string? Text { get; init; }

    /// <summary>How many neighbours (default 10).</summary>
    public int K { get; init; } = 10;

    internal override string? QueryText => Text;
}

/// <summary>
/// Full-text and vector search fused by reciprocal rank: each result scores
/// Σ 1 / (<see cref="RrfK"/> + its rank in a list), over the lists it is in.
/// </summary>
public sealed record HybridSearchQuery : VectorSearchSettings
{
    /// <summary>What to search for; read by <c>websearch_to_tsquery</c> and, without a vector, embedded.</summary>
    public required string Text { get; init; }

    /// <summary>The text search configuration; the tenant's search language when null.</summary>
    public string? Language { get; init; }

    /// <summary>How many fused results (default 10).</summary>
    public int Limit { get; init; } = 10;

    /// <summary>Candidates taken from each list before fusing (default 50).</summary>
    public int Candidates { get; init; } = 50;

    /// <summary>Reciprocal rank fusion's k (default 60): larger flattens the advantage of top ranks.</summary>
    public int RrfK { get; init; } = 60;

    /// <summary>Marks the start of a matched word in snippets (default <c>&lt;b&gt;</c>).</summary>
    public string HighlightStart { get; init; } = "<b>";

    /// <summary>Marks the end of a matched word in snippets (default <c>&lt;/b&gt;</c>).</summary>
    public string HighlightEnd { get; init; } = "</b>";

    internal override string? QueryText => Text;
}

/// <summary>A full-text result.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Id">Its id (the analysis id for analyses).</param>
/// <param name="UserId">Whose it is.</param>
/// <param name="ConversationId">Its conversation, when it has one.</param>
/// <param name="DocumentId">The document, for documents and analyses.</param>
/// <param name="Role">A message's role.</param>
/// <param name="Status">A message's or document's status.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="Rank">Its <c>ts_rank_cd</c> (higher is better).</param>
/// <param name="Snippet">The best-matching passage, matched words marked.</param>
public sealed record SearchHit(SearchKind Kind, Guid Id, Guid UserId, Guid? ConversationId, Guid? DocumentId, string? Role, string? Status,
    DateTimeOffset CreatedAt, float Rank, string Snippet);

/// <summary>A vector search result: one stored chunk vector.</summary>
/// <param name="Kind">What the owner is.</param>
/// <param name="Id">The owner's id.</param>
/// <param name="EmbeddingId">The embedding's id.</param>
/// <param name="ChunkIndex">Which chunk of the owner.</param>
/// <param name="ChunkText">The chunk's text, when it was stored.</param>
/// <param name="Distance">Distance to the query in the space's metric (smaller is closer; the negative inner product for inner-product spaces).</param>
/// <param name="UserId">The owner's user.</param>
/// <param name="ConversationId">The owner's conversation, when it has one.</param>
/// <param name="CreatedAt">When the owner was created.</param>
public sealed record VectorHit(SearchKind Kind, Guid Id, Guid EmbeddingId, int ChunkIndex, string? ChunkText, double Distance, Guid? UserId,
    Guid? ConversationId, DateTimeOffset? CreatedAt);

/// <summary>A hybrid result.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Id">Its id.</param>
/// <param name="Score">The fused score, Σ 1 / (k + rank).</param>
/// <param name="FullTextRank">Its 1-based rank in the full-text list, or null when not in it.</param>
/// <param name="VectorRank">Its 1-based rank in the vector list (best chunk per row), or null when not in it.</param>
/// <param name="TextScore">Its <c>ts_rank_cd</c>, when in the full-text list.</param>
/// <param name="Distance">Its best chunk's distance, when in the vector list.</param>
/// <param name="ChunkIndex">Its best chunk, when in the vector list.</param>
/// <param name="ChunkText">The best chunk's text, when stored.</param>
/// <param name="Snippet">The best-matching passage, when in the full-text list.</param>
/// <param name="UserId">Whose it is.</param>
/// <param name="ConversationId">Its conversation, when it has one.</param>
/// <param name="DocumentId">The document, for documents and analyses.</param>
/// <param name="Role">A message's role.</param>
/// <param name="Status">A message's or document's status.</param>
/// <param name="CreatedAt">When it was created.</param>
public sealed record HybridHit(SearchKind Kind, Guid Id, double Score, int? FullTextRank, int? VectorRank, float? TextScore, double? Distance,
    int? ChunkIndex, string? ChunkText, string? Snippet, Guid UserId, Guid? ConversationId, Guid? DocumentId, string? Role, string? Status,
    DateTimeOffset CreatedAt)
{
    /// <summary>Which lists it came from.</summary>
    public HybridSources Sources => (FullTextRank is null ? HybridSources.None : HybridSources.FullText) | (VectorRank is null ? HybridSources.None : HybridSources.Vector);
}
