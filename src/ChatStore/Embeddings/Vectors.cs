using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ChatStore.Embeddings;

/// <summary>Vector checks before the database, and pgvector's binary wire format.</summary>
/// <remarks>
/// Vectors are <see cref="ReadOnlyMemory{T}"/> of <see cref="float"/> across the public API, in and out; on the
/// wire they go as <c>real[]</c> parameters cast in SQL, come back through <c>::real[]</c>, and bulk-load as this
/// format in binary COPY. The Pgvector package's Npgsql plugin (0.3.2, <c>UseVector()</c>) works with Npgsql
/// 10.0.3, but side by side (<c>scripts/bench.sh --vectors</c>: 384 dimensions, 20,000 rows under HNSW, five
/// alternating 2 s slices each on two shared cores, two runs) it was not faster: Pgvector/hand-written, median of
/// the rounds (range), first and second run: kNN top 10 1.05× (0.66–1.40×) and 0.95× (0.78–1.23×), about 100
/// queries/s either way; upsert 0.98× (0.67–1.40×) and 0.81× (0.62–2.31×); bulk load 1.00× (0.86–1.01×) and
/// 0.83× (0.74–1.06×), about 25,000–30,000 rows/s. So the hand-written path stays, and the library needs no
/// extra package.
/// </remarks>
internal static class Vectors
{
    /// <summary>
    /// Rejects empty vectors, vectors of the wrong dimension count, NaN and ±infinity, and (in cosine
    /// spaces, where the distance is undefined) the zero vector. Returns the vector as an array for a
    /// <c>real[]</c> parameter.
    /// </summary>
    public static float[] Check(ReadOnlyMemory<float> vector, EmbeddingSpace space, string field)
    {
        var span = vector.Span;
        if (span.IsEmpty)
            throw new ChatStoreValidationException(field, "empty", "is empty; a vector needs at least one dimension.");
        if (span.Length != space.Dimensions)
            throw new ChatStoreValidationException(field, "dimensions",
                $"has {span.Length} dimensions; space '{space.Name}' holds {space.Dimensions}-dimensional vectors.");
        var zero = true;
        for (var i = 0; i < span.Length; i++)
        {
            var x = span[i];
            if (float.IsNaN(x))
                throw new ChatStoreValidationException(field, "nan", $"has NaN at index {i}; every component must be a finite number.");
            if (float.IsInfinity(x))
                throw new ChatStoreValidationException(field, "infinity", $"has {(x > 0 ? "+" : "-")}infinity at index {i}; every component must be a finite number.");
            zero &= x == 0;
        }
        if (zero && space.Metric == DistanceMetric.Cosine)
            throw new ChatStoreValidationException(field, "zero_vector", "is all zeros; cosine distance is undefined for it.");
        return MemoryMarshal.TryGetArray(vector, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : span.ToArray();
    }

    /// <summary>The size of a vector in pgvector's binary format: int16 dimensions, int16 unused, big-endian float32s.</summary>
    public static int WireSize(int dimensions) => 4 + 4 * dimensions;

    /// <summary>Writes <paramref name="vector"/> in pgvector's binary format (what <c>vector_recv</c> reads).</summary>
    public static void WriteWire(ReadOnlySpan<float> vector, Span<byte> destination)
    {
        BinaryPrimitives.WriteInt16BigEndian(destination, checked((short)vector.Length));
        BinaryPrimitives.WriteInt16BigEndian(destination[2..], 0);
        var body = destination[4..];
        for (var i = 0; i < vector.Length; i++)
            BinaryPrimitives.WriteSingleBigEndian(body[(4 * i)..], vector[i]);
    }
}
