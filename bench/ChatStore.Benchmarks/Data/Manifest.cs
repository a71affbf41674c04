namespace ChatStore.Benchmarks.Data;

/// <summary>What a run needs to know about the dataset: ids by role, search terms, the embedding space.</summary>
public sealed record Manifest
{
    public required string Spec { get; init; }
    public required Guid[] Tenants { get; init; }
    /// <summary>Users of each tenant, by tenant index.</summary>
    public required Guid[][] Users { get; init; }
    /// <summary>Conversations of <see cref="DatasetSpec.LongLength"/> messages (tenant 0).</summary>
    public required ConversationRef[] Long { get; init; }
    /// <summary>Conversations of <see cref="DatasetSpec.ShortLength"/> messages.</summary>
    public required ConversationRef[] Short { get; init; }
    /// <summary>The other conversations, most popular first: history reads pick from them with a Zipf law.</summary>
    public required ConversationRef[] Regular { get; init; }
    public required int LongLength { get; init; }
    public required int ShortLength { get; init; }
    /// <summary>The tenant whose messages full-text search runs over.</summary>
    public required int SearchTenant { get; init; }
    /// <summary>Search terms by class (rare, mid, common), with their document frequency in the search tenant.</summary>
    public required Dictionary<string, TermRef[]> Terms { get; init; }
    /// <summary>The tenant that receives imports (fresh conversations are made for each run).</summary>
    public required int ImportTenant { get; init; }
    public required Guid SpaceId { get; init; }
    public required int Dimensions { get; init; }
    /// <summary>kNN filter classes: (name, tenant index, user or null, rows it keeps).</summary>
    public required VectorClass[] VectorClasses { get; init; }
    public required int Queries { get; init; }
    /// <summary>Sample message texts for appends and imports.</summary>
    public required string[] Texts { get; init; }
}

public sealed record ConversationRef(Guid Id, int Tenant, Guid User, int Length);

public sealed record TermRef(string Term, int Documents);

public sealed record VectorClass(string Name, int Tenant, Guid? User, int Rows);

/// <summary>A kNN query and its exact answers, one list per <see cref="VectorClass"/>.</summary>
public sealed record VectorQuery(int Index, int Cluster, string Text, float[] Vector, Guid[][] Truth);
