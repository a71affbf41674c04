using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ChatStore.Embeddings;

/// <summary>Vector checks before the database, and pgvector's binary wire format.</summary>
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
