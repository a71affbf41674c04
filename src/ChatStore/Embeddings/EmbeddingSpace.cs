namespace ChatStore.Embeddings;

/// <summary>How distance between two vectors of a space is measured.</summary>
public enum DistanceMetric
{
    /// <summary>Cosine distance (1 − cosine similarity), pgvector's <c>&lt;=&gt;</c>.</summary>
    Cosine,

    /// <summary>Euclidean distance, pgvector's <c>&lt;-&gt;</c>.</summary>
    L2,

    /// <summary>Negative inner product, pgvector's <c>&lt;#&gt;</c> (smaller is closer; for normalised vectors it ranks like cosine).</summary>
    InnerProduct,
}

/// <summary>The approximate index a space's vectors get.</summary>
public enum VectorIndexKind
{
    /// <summary>A graph index (pgvector HNSW): best recall and speed; builds slower.</summary>
    Hnsw,

    /// <summary>An inverted-file index (pgvector IVFFlat): quick to build; build it after loading data.</summary>
    IvfFlat,

    /// <summary>No index: every search is exact.</summary>
    None,
}

/// <summary>
/// An embedding space: vectors of one model, dimension count and metric. Spaces are shared by all
/// tenants; each has its own partial expression index on the embeddings table. Get one from
/// <see cref="EmbeddingSpaceStore"/> (<c>client.Embeddings</c>) or <c>scope.Embeddings.GetSpaceAsync</c>.
/// </summary>
public sealed record EmbeddingSpace
{
    internal EmbeddingSpace(Guid id, string name, string model, int dimensions, DistanceMetric metric, VectorIndexKind indexKind,
        VectorIndexParameters indexParameters, DateTimeOffset createdAt)
    {
        Id = id;
        Name = name;
        Model = model;
        Dimensions = dimensions;
        Metric = metric;
        IndexKind = indexKind;
        IndexParameters = indexParameters;
        CreatedAt = createdAt;
    }

    /// <summary>The space's id.</summary>
    public Guid Id { get; }

    /// <summary>The space's unique name (lower-case letters, digits, <c>_ . -</c>).</summary>
    public string Name { get; }

    /// <summary>The model whose vectors the space holds (for example <c>text-embedding-3-small</c> or <see cref="LocalHashingEmbeddingGenerator.DefaultModelId"/>).</summary>
    public string Model { get; }

    /// <summary>The number of dimensions of every vector in the space.</summary>
    public int Dimensions { get; }

    /// <summary>The distance metric.</summary>
    public DistanceMetric Metric { get; }

    /// <summary>The index kind.</summary>
    public VectorIndexKind IndexKind { get; }

    /// <summary>The index's build parameters.</summary>
    public VectorIndexParameters IndexParameters { get; }

    /// <summary>When the space was registered.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>The name of the space's vector index (none when <see cref="IndexKind"/> is <see cref="VectorIndexKind.None"/>).</summary>
    public string IndexName => $"embeddings_space_{Id:N}";
}

/// <summary>Build parameters of a space's vector index; null means pgvector's default.</summary>
public sealed record VectorIndexParameters
{
    /// <summary>HNSW: connections per node (2–100, pgvector's default 16).</summary>
    public int? M { get; init; }

    /// <summary>HNSW: candidate list size while building (4–1000 and at least 2 × m, default 64).</summary>
    public int? EfConstruction { get; init; }

    /// <summary>IVFFlat: number of lists (1–32768, default 100).</summary>
    public int? Lists { get; init; }
}

/// <summary>What to register a space with.</summary>
public sealed record NewEmbeddingSpace
{
    /// <summary>The unique name: 1–63 characters of lower-case letters, digits, <c>_ . -</c>, starting with a letter or digit.</summary>
    public required string Name { get; init; }

    /// <summary>The model whose vectors the space holds.</summary>
    public required string Model { get; init; }

    /// <summary>Dimensions (1–16000; at most 2000 with an index).</summary>
    public required int Dimensions { get; init; }

    /// <summary>The distance metric (default cosine).</summary>
    public DistanceMetric Metric { get; init; } = DistanceMetric.Cosine;

    /// <summary>The index kind (default HNSW).</summary>
    public VectorIndexKind IndexKind { get; init; } = VectorIndexKind.Hnsw;

    /// <summary>Index build parameters (defaults when null).</summary>
    public VectorIndexParameters? IndexParameters { get; init; }
}

/// <summary>The kinds of rows an embedding can belong to.</summary>
public enum EmbeddingOwnerKind
{
    /// <summary>A message.</summary>
    Message,

    /// <summary>A memory.</summary>
    Memory,

    /// <summary>A document (one vector per chunk of its text).</summary>
    Document,

    /// <summary>A document analysis.</summary>
    Analysis,

    /// <summary>A subject.</summary>
    Subject,
}

/// <summary>The one row an embedding belongs to. Deleting that row deletes its embeddings.</summary>
/// <param name="Kind">What kind of row.</param>
/// <param name="Id">The row's id.</param>
public readonly record struct EmbeddingOwner(EmbeddingOwnerKind Kind, Guid Id)
{
    /// <summary>A message.</summary>
    public static EmbeddingOwner Message(Guid id) => new(EmbeddingOwnerKind.Message, id);

    /// <summary>A memory.</summary>
    public static EmbeddingOwner Memory(Guid id) => new(EmbeddingOwnerKind.Memory, id);

    /// <summary>A document (chunks are told apart by their chunk index).</summary>
    public static EmbeddingOwner Document(Guid id) => new(EmbeddingOwnerKind.Document, id);

    /// <summary>A document analysis.</summary>
    public static EmbeddingOwner Analysis(Guid id) => new(EmbeddingOwnerKind.Analysis, id);

    /// <summary>A subject.</summary>
    public static EmbeddingOwner Subject(Guid id) => new(EmbeddingOwnerKind.Subject, id);

    /// <inheritdoc />
    public override string ToString() => $"{EmbeddingKinds.Name(Kind)} {Id}";
}

/// <summary>A stored embedding.</summary>
/// <param name="Id">The embedding's id.</param>
/// <param name="SpaceId">Its space.</param>
/// <param name="Owner">The row it belongs to.</param>
/// <param name="UserId">The owner's user (copied from the owner for filtering).</param>
/// <param name="ConversationId">The owner's conversation, when it has one.</param>
/// <param name="ChunkIndex">Which chunk of the owner's text (0 for whole rows).</param>
/// <param name="ChunkText">The text that was embedded, when it was stored.</param>
/// <param name="Vector">The vector (empty when not read back).</param>
/// <param name="CreatedAt">When the vector was stored or last replaced.</param>
public sealed record StoredEmbedding(Guid Id, Guid SpaceId, EmbeddingOwner Owner, Guid? UserId, Guid? ConversationId, int ChunkIndex,
    string? ChunkText, ReadOnlyMemory<float> Vector, DateTimeOffset CreatedAt);

/// <summary>One row for <c>EmbeddingStore.BulkLoadAsync</c>.</summary>
/// <param name="Owner">The row the vector belongs to.</param>
/// <param name="Vector">The vector, of the space's dimensions.</param>
/// <param name="ChunkIndex">Which chunk of the owner's text.</param>
/// <param name="ChunkText">The embedded text, to store alongside (optional).</param>
public sealed record EmbeddingRow(EmbeddingOwner Owner, ReadOnlyMemory<float> Vector, int ChunkIndex = 0, string? ChunkText = null);

/// <summary>Names of owner kinds, metrics and index kinds as stored and shown.</summary>
internal static class EmbeddingKinds
{
    public static string Name(EmbeddingOwnerKind kind) => kind switch
    {
        EmbeddingOwnerKind.Message => "message",
        EmbeddingOwnerKind.Memory => "memory",
        EmbeddingOwnerKind.Document => "document",
        EmbeddingOwnerKind.Analysis => "analysis",
        EmbeddingOwnerKind.Subject => "subject",
        _ => throw new ChatStoreValidationException("owner.kind", "enum", $"is not an owner kind: {kind}."),
    };

    public static EmbeddingOwnerKind Parse(string name) => name switch
    {
        "message" => EmbeddingOwnerKind.Message,
        "memory" => EmbeddingOwnerKind.Memory,
        "document" => EmbeddingOwnerKind.Document,
        "analysis" => EmbeddingOwnerKind.Analysis,
        _ => EmbeddingOwnerKind.Subject,
    };

    public static string Name(DistanceMetric metric) => metric switch
    {
        DistanceMetric.Cosine => "cosine",
        DistanceMetric.L2 => "l2",
        DistanceMetric.InnerProduct => "inner_product",
        _ => throw new ChatStoreValidationException("metric", "enum", $"must be cosine, l2 or inner_product; got {metric}."),
    };

    public static DistanceMetric ParseMetric(string name) => name switch
    {
        "l2" => DistanceMetric.L2,
        "inner_product" => DistanceMetric.InnerProduct,
        _ => DistanceMetric.Cosine,
    };

    public static string Name(VectorIndexKind kind) => kind switch
    {
        VectorIndexKind.Hnsw => "hnsw",
        VectorIndexKind.IvfFlat => "ivfflat",
        VectorIndexKind.None => "none",
        _ => throw new ChatStoreValidationException("indexKind", "enum", $"must be hnsw, ivfflat or none; got {kind}."),
    };

    public static VectorIndexKind ParseIndex(string name) => name switch
    {
        "hnsw" => VectorIndexKind.Hnsw,
        "ivfflat" => VectorIndexKind.IvfFlat,
        _ => VectorIndexKind.None,
    };

    /// <summary>pgvector's distance operator for the metric.</summary>
    public static string Operator(DistanceMetric metric) => metric switch
    {
        DistanceMetric.L2 => "<->",
        DistanceMetric.InnerProduct => "<#>",
        _ => "<=>",
    };

    /// <summary>pgvector's operator class for the metric.</summary>
    public static string OperatorClass(DistanceMetric metric) => metric switch
    {
        DistanceMetric.L2 => "vector_l2_ops",
        DistanceMetric.InnerProduct => "vector_ip_ops",
        _ => "vector_cosine_ops",
    };
}

/// <summary>Where a space's vector index stands.</summary>
public enum VectorIndexState
{
    /// <summary>The space has no index by design (<see cref="VectorIndexKind.None"/>): searches are exact.</summary>
    None,
    /// <summary>Built and used by searches.</summary>
    Ready,
    /// <summary>Being built (CREATE INDEX CONCURRENTLY is running).</summary>
    Building,
    /// <summary>An interrupted build left it unusable: rebuild it (<c>chatstore embeddings build-index</c>).</summary>
    Invalid,
    /// <summary>Not built yet (a deferred index): searches are exact until it is built.</summary>
    Missing,
}

/// <summary>A space with its index state and size (see <see cref="EmbeddingSpaceStore.ListSpaceStatsAsync"/>).</summary>
/// <param name="Space">The space.</param>
/// <param name="IndexState">Where its vector index stands.</param>
/// <param name="EstimatedRows">The rows its index holds as PostgreSQL estimates them, or null when unknown.</param>
/// <param name="BuildPhase">The phase of a build in progress (PostgreSQL's name for it), or null.</param>
public sealed record EmbeddingSpaceStats(EmbeddingSpace Space, VectorIndexState IndexState, long? EstimatedRows, string? BuildPhase);
