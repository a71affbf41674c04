using System.Globalization;
using System.Text;
using Microsoft.Extensions.AI;

namespace ChatStore.Embeddings;

/// <summary>
/// An offline, deterministic embedder with no model weights: feature hashing of word tokens, word
/// bigrams and character n-grams of each word (signed, so collisions cancel rather than add up),
/// with sublinear term weights, L2-normalised. Texts that share words and word pieces get close
/// vectors; it knows no synonyms. The default embedder, and the one tests and offline installs use.
/// </summary>
public sealed class LocalHashingEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The model id spaces of this embedder are registered with (with any dimension count).</summary>
    public const string DefaultModelId = "chatstore-hashing-v1";

    readonly int _minGram;
    readonly int _maxGram;

    /// <summary>Creates the embedder.</summary>
    /// <param name="dimensions">Vector dimensions (16–16000, default 384).</param>
    /// <param name="minGram">Shortest character n-gram (default 3).</param>
    /// <param name="maxGram">Longest character n-gram (default 5).</param>
    public LocalHashingEmbeddingGenerator(int dimensions = 384, int minGram = 3, int maxGram = 5)
    {
        Dimensions = Validate.Range(dimensions, "dimensions", 16, 16000);
        _minGram = Validate.Range(minGram, "minGram", 1, 10);
        _maxGram = Validate.Range(maxGram, "maxGram", minGram, 10);
        Metadata = new EmbeddingGeneratorMetadata("chatstore-local", null, DefaultModelId, dimensions);
    }

    /// <summary>The dimensions of every vector it makes.</summary>
    public int Dimensions { get; }

    /// <summary>Describes the embedder.</summary>
    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <summary>Embeds each text.</summary>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is int d && d != Dimensions)
            throw new ChatStoreValidationException("dimensions", "mismatch", $"this embedder makes {Dimensions}-dimensional vectors; {d} were asked for.");
        var result = new GeneratedEmbeddings<Embedding<float>>();
        foreach (var value in values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            result.Add(new Embedding<float>(Embed(value ?? "")) { ModelId = DefaultModelId, CreatedAt = DateTimeOffset.UtcNow });
        }
        return Task.FromResult(result);
    }

    /// <summary>Embeds one text.</summary>
    public float[] Embed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        string? previous = null;
        foreach (var word in Words(text))
        {
            Count(counts, "w:" + word);
            if (previous is not null)
                Count(counts, "b:" + previous + " " + word);
            previous = word;
            var padded = "<" + word + ">";
            var runes = padded.EnumerateRunes().Select(r => r.ToString()).ToArray();
            for (var n = _minGram; n <= _maxGram; n++)
                for (var i = 0; i + n <= runes.Length; i++)
                    Count(counts, "c:" + string.Concat(runes.AsSpan(i, n)));
        }
        if (counts.Count == 0)
            counts["empty"] = 1; // so an empty text still has a direction (cosine needs one)

        var vector = new float[Dimensions];
        foreach (var (feature, count) in counts)
        {
            var weight = (1f + MathF.Log(count)) * feature[0] switch { 'w' => 1f, 'b' => 0.5f, 'c' => 0.35f, _ => 1f };
            var h = Hash(feature);
            var index = (int)(h % (uint)Dimensions);
            var sign = (h >> 63) == 0 ? 1f : -1f;
            vector[index] += sign * weight;
        }
        var norm = 0d;
        foreach (var x in vector) norm += x * x;
        if (norm == 0)
        {
            vector[0] = 1; // all features cancelled out: keep a direction
            return vector;
        }
        var scale = (float)(1 / Math.Sqrt(norm));
        for (var i = 0; i < vector.Length; i++) vector[i] *= scale;
        return vector;
    }

    static void Count(Dictionary<string, int> counts, string feature) =>
        counts[feature] = counts.TryGetValue(feature, out var n) ? n + 1 : 1;

    /// <summary>Lower-cased runs of letters and digits (Unicode-aware, so "Über" and "naïve" are words).</summary>
    static IEnumerable<string> Words(string text)
    {
        var sb = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            var letter = Rune.IsLetterOrDigit(rune) || category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark;
            if (letter)
            {
                sb.Append(Rune.ToLowerInvariant(rune).ToString());
                continue;
            }
            if (sb.Length > 0)
            {
                yield return sb.ToString();
                sb.Clear();
            }
        }
        if (sb.Length > 0)
            yield return sb.ToString();
    }

    /// <summary>64-bit FNV-1a of the feature's UTF-8 bytes, finished with a 64-bit mix: stable across processes and platforms.</summary>
    static ulong Hash(string feature)
    {
        var h = 14695981039346656037UL;
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetByteCount(feature) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(feature, buffer)] : Encoding.UTF8.GetBytes(feature);
        foreach (var b in bytes)
        {
            h ^= b;
            h *= 1099511628211UL;
        }
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h;
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType.IsInstanceOfType(this) ? this
            : serviceKey is null && serviceType == typeof(EmbeddingGeneratorMetadata) ? Metadata
            : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}

/// <summary>Finds the embedder a space needs.</summary>
public static class EmbeddingGenerators
{
    /// <summary>
    /// The built-in embedder for <paramref name="space"/> when its model is
    /// <see cref="LocalHashingEmbeddingGenerator.DefaultModelId"/>; null for other models, whose
    /// embedder the app supplies (for example an <see cref="OpenAiCompatibleEmbeddingGenerator"/>).
    /// </summary>
    public static IEmbeddingGenerator<string, Embedding<float>>? ForSpace(EmbeddingSpace space)
    {
        ArgumentNullException.ThrowIfNull(space);
        return space.Model == LocalHashingEmbeddingGenerator.DefaultModelId && space.Dimensions >= 16
            ? new LocalHashingEmbeddingGenerator(space.Dimensions)
            : null;
    }
}
