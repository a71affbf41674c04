using System.Threading.Channels;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace ChatStore.Embeddings;

/// <summary>How an <see cref="EmbeddingIndexer"/> batches work.</summary>
public sealed record EmbeddingIndexerOptions
{
    /// <summary>Rows waiting at most; <see cref="EmbeddingIndexer.TryEnqueue"/> returns false beyond it (default 10,000).</summary>
    public int Capacity { get; init; } = 10_000;

    /// <summary>Texts per generator call and store round trip (default 64).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>How long a batch waits to fill before it is embedded anyway (default 50 ms).</summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Characters per document chunk (default 2,000) and their overlap (default 200).</summary>
    public int ChunkLength { get; init; } = 2000;

    /// <summary>Characters shared by neighbouring document chunks (default 200).</summary>
    public int ChunkOverlap { get; init; } = 200;
}

/// <summary>
/// Embeds rows on write, in the background, so the append path is not slowed: the app calls
/// <see cref="TryEnqueue"/> after a message or memory is stored (a non-blocking write to a bounded
/// channel) and hosts <see cref="RunAsync"/> (for example in a BackgroundService). Rows the queue
/// could not take, or that were written while no indexer ran, are picked up by
/// <see cref="EmbeddingStore.ReindexAsync"/>.
/// </summary>
public sealed class EmbeddingIndexer
{
    readonly ChatStoreClient _client;
    readonly EmbeddingSpace _space;
    readonly IEmbeddingGenerator<string, Embedding<float>> _generator;
    readonly EmbeddingIndexerOptions _options;
    readonly Channel<Item> _queue;
    readonly ILogger _logger;
    long _indexed;
    long _failed;

    readonly record struct Item(Guid TenantId, EmbeddingOwner Owner, int ChunkIndex, string Text);

    /// <summary>Creates an indexer for one space.</summary>
    public EmbeddingIndexer(ChatStoreClient client, EmbeddingSpace space, IEmbeddingGenerator<string, Embedding<float>> generator,
        EmbeddingIndexerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(generator);
        _client = client;
        _space = space;
        _generator = generator;
        _options = options ?? new EmbeddingIndexerOptions();
        Validate.Range(_options.Capacity, "capacity", 1, 10_000_000);
        Validate.Range(_options.BatchSize, "batchSize", 1, 10_000);
        Validate.Range(_options.ChunkLength, "chunkLength", 100, 100_000);
        Validate.Range(_options.ChunkOverlap, "chunkOverlap", 0, _options.ChunkLength / 2);
        _queue = Channel.CreateBounded<Item>(new BoundedChannelOptions(_options.Capacity)
        {
            FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = false,
        });
        _logger = client.Context.LoggerFactory.CreateLogger<EmbeddingIndexer>();
    }

    /// <summary>Vectors stored so far.</summary>
    public long Indexed => Interlocked.Read(ref _indexed);

    /// <summary>Rows that could not be embedded or stored (an owner deleted meanwhile, a generator failure); reindex catches them up.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>
    /// Queues a row's text for embedding; never blocks. Returns false when the queue is full or
    /// completed (the row is left for <see cref="EmbeddingStore.ReindexAsync"/>). Documents are split
    /// into chunks.
    /// </summary>
    public bool TryEnqueue(Guid tenantId, EmbeddingOwner owner, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (tenantId == Guid.Empty || owner.Id == Guid.Empty || text.Length == 0)
            return false;
        if (owner.Kind != EmbeddingOwnerKind.Document)
            return _queue.Writer.TryWrite(new Item(tenantId, owner, 0, text));
        var i = 0;
        var all = true;
        foreach (var chunk in TextChunks.Split(text, _options.ChunkLength, _options.ChunkOverlap))
            all &= _queue.Writer.TryWrite(new Item(tenantId, owner, i++, chunk));
        return all;
    }

    /// <summary>Stops taking rows; <see cref="RunAsync"/> finishes the queued ones and returns.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>Embeds and stores queued rows until <see cref="Complete"/> is called and the queue drains, or until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        var reader = _queue.Reader;
        var batch = new List<Item>(_options.BatchSize);
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            using (var linger = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                linger.CancelAfter(_options.Linger);
                try
                {
                    while (batch.Count < _options.BatchSize)
                    {
                        if (reader.TryRead(out var item))
                            batch.Add(item);
                        else if (!await reader.WaitToReadAsync(linger.Token).ConfigureAwait(false))
                            break;
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The linger ran out: embed what there is.
                }
            }
            if (batch.Count > 0)
                await ProcessAsync(batch, cancellationToken).ConfigureAwait(false);
            batch.Clear();
        }
    }

    async Task ProcessAsync(List<Item> batch, CancellationToken cancellationToken)
    {
        GeneratedEmbeddings<Embedding<float>> vectors;
        try
        {
            vectors = await _generator.GenerateAsync(batch.Select(b => b.Text), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (vectors.Count != batch.Count)
                throw new ChatStoreException($"The embedding generator returned {vectors.Count} vectors for {batch.Count} texts.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Interlocked.Add(ref _failed, batch.Count);
            _logger.LogWarning(e, "Embedding {Count} rows for space {Space} failed; reindex will pick them up", batch.Count, _space.Name);
            return;
        }
        foreach (var group in batch.Select((item, i) => (item, vector: vectors[i].Vector)).GroupBy(x => x.item.TenantId))
        {
            var embeddings = _client.ForTenant(group.Key).Embeddings;
            var rows = group.Select(x => new EmbeddingRow(x.item.Owner, x.vector, x.item.ChunkIndex,
                x.item.Owner.Kind == EmbeddingOwnerKind.Document ? x.item.Text : null)).ToList();
            try
            {
                Interlocked.Add(ref _indexed, await embeddings.BulkLoadAsync(_space, rows, null, cancellationToken).ConfigureAwait(false));
                continue;
            }
            catch (ChatStoreException)
            {
                // One row's owner is gone (deleted since it was queued) or invalid: store the rest one by one.
            }
            foreach (var row in rows)
            {
                try
                {
                    await embeddings.UpsertAsync(_space, row.Owner, row.Vector, row.ChunkIndex, row.ChunkText, cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref _indexed);
                }
                catch (ChatStoreException e)
                {
                    Interlocked.Increment(ref _failed);
                    _logger.LogDebug(e, "Skipped the vector of {Owner}", row.Owner);
                }
            }
        }
    }
}
