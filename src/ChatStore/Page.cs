using System.Buffers.Binary;
using System.Buffers.Text;

namespace ChatStore;

/// <summary>One page of a list, newest or first items first, with the cursor of the next page (null on the last page).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor)
{
    /// <summary>Whether a further page exists (<see cref="NextCursor"/> is not null).</summary>
    public bool HasMore => NextCursor is not null;
}

/// <summary>Builds pages from keyset queries that read one row more than the page size.</summary>
internal static class Page
{
    /// <summary>The first <paramref name="limit"/> rows, with a cursor at the last of them when a further row was read.</summary>
    public static Page<T> Of<T>(List<T> items, int limit, Func<T, string> cursor)
    {
        if (items.Count <= limit)
            return new Page<T>(items, null);
        items.RemoveAt(items.Count - 1);
        return new Page<T>(items, cursor(items[^1]));
    }
}

/// <summary>Opaque keyset cursors: a position (a timestamp and/or a number) and an id, base64url-encoded.</summary>
internal static class Cursor
{
    /// <summary>Encodes a (value, id) position. <paramref name="value"/> is a timestamp's ticks or a sequence number.</summary>
    public static string Encode(long value, Guid id)
    {
        Span<byte> bytes = stackalloc byte[24];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        id.TryWriteBytes(bytes[8..], bigEndian: true, out _);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>Encodes a timestamp and id position.</summary>
    public static string Encode(DateTimeOffset at, Guid id) => Encode(at.UtcTicks, id);

    /// <summary>Decodes a cursor; a malformed one is a validation error on <paramref name="field"/>.</summary>
    public static (long Value, Guid Id) Decode(string cursor, string field = "cursor")
    {
        Span<byte> bytes = stackalloc byte[24];
        if (cursor.Length != 32 || !Base64Url.TryDecodeFromChars(cursor, bytes, out var written) || written != 24)
            throw new ChatStoreValidationException(field, "cursor", "is not a cursor this store returned.");
        return (BinaryPrimitives.ReadInt64BigEndian(bytes), new Guid(bytes[8..], bigEndian: true));
    }

    /// <summary>Decodes a timestamp and id cursor.</summary>
    public static (DateTimeOffset At, Guid Id) DecodeTime(string cursor, string field = "cursor")
    {
        var (ticks, id) = Decode(cursor, field);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
            throw new ChatStoreValidationException(field, "cursor", "is not a cursor this store returned.");
        return (new DateTimeOffset(ticks, TimeSpan.Zero), id);
    }
}
