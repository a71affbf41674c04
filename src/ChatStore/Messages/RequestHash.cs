using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ChatStore.Messages;

/// <summary>
/// SHA-256 of an append's canonical input, stored with an idempotency key so that a retry can be told
/// apart from a different request reusing the key. Every field is written with a tag and a length, so no
/// two different inputs share an encoding; JSON is written minified, so whitespace does not matter.
/// Computed only when a key is given.
/// </summary>
internal sealed class RequestHash : IDisposable
{
    readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    RequestHash() { }

    /// <summary>The hash of one append (<paramref name="kind"/> tells append from regenerate).</summary>
    public static byte[] Of(byte kind, Guid? id, Guid target, NewMessage m, string role, string content, string status,
        string[] domains, Guid[] documentIds)
    {
        using var h = new RequestHash();
        h.Byte(kind).Guid(id).Guid(target).Guid(m.ParentId).Text(role).Text(content).Text(status)
            .Json(m.Citations).Json(m.Metadata).Int(domains.Length);
        foreach (var d in domains) h.Text(d);
        h.Text(m.Model).Int(m.InputTokens).Int(m.OutputTokens)
            .Text(decimal.Round(m.CostUsd, 8).ToString("0.########", CultureInfo.InvariantCulture))
            .Int(m.ResponseMs ?? -1).Text(m.Error);
        var sorted = documentIds.Length > 1 ? documentIds.Order().ToArray() : documentIds;
        h.Int(sorted.Length);
        foreach (var d in sorted) h.Guid(d);
        return h._hash.GetHashAndReset();
    }

    RequestHash Byte(byte b)
    {
        _hash.AppendData([b]);
        return this;
    }

    RequestHash Int(int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        _hash.AppendData(bytes);
        return this;
    }

    RequestHash Guid(Guid? value)
    {
        Span<byte> bytes = stackalloc byte[17];
        bytes[0] = value.HasValue ? (byte)1 : (byte)0;
        (value ?? System.Guid.Empty).TryWriteBytes(bytes[1..], bigEndian: true, out _);
        _hash.AppendData(bytes);
        return this;
    }

    RequestHash Text(string? value)
    {
        if (value is null)
            return Int(-1);
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(value.Length));
        try
        {
            var n = Encoding.UTF8.GetBytes(value, buffer);
            Int(n);
            _hash.AppendData(buffer, 0, n);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return this;
    }

    RequestHash Json(JsonElement? value)
    {
        if (value is not JsonElement e || e.ValueKind == JsonValueKind.Undefined)
            return Int(-1);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
            e.WriteTo(writer);
        Int(buffer.WrittenCount);
        _hash.AppendData(buffer.WrittenSpan);
        return this;
    }

    public void Dispose() => _hash.Dispose();
}
