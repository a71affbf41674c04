using System.Text;
using System.Numerics;
using System.Text.Json;

namespace ChatStore;

/// <summary>
/// Checks input before it reaches the database, so bad input fails with a
/// <see cref="ChatStoreValidationException"/> naming the field and the rule, and changes nothing.
/// </summary>
internal static class Validate
{
    /// <summary>Rejects NUL characters and unpaired surrogates (PostgreSQL text cannot hold them) and text longer than <paramref name="maxLength"/> characters.</summary>
    public static string? Text(string? value, string field, int maxLength, bool required = false)
    {
        if (value is null)
        {
            if (required) throw new ChatStoreValidationException(field, "required", "is required.");
            return null;
        }
        if (required && value.Length == 0)
            throw new ChatStoreValidationException(field, "required", "must not be empty.");
        if (value.Length > maxLength)
            throw new ChatStoreValidationException(field, "max_length", $"is {value.Length} characters long; the limit is {maxLength}.");
        CheckChars(value, field);
        return value;
    }

    /// <summary>Like <see cref="Text"/> for a value that must be present and non-empty.</summary>
    public static string Required(string? value, string field, int maxLength) => Text(value, field, maxLength, required: true)!;

    static void CheckChars(string value, string field)
    {
        var span = value.AsSpan();
        var nul = span.IndexOf('\0');
        if (nul >= 0)
            throw new ChatStoreValidationException(field, "nul_character", $"contains a NUL character (U+0000) at index {nul}; PostgreSQL text cannot store it.");
        for (var i = 0; i < span.Length; i++)
        {
            var c = span[i];
            if (!char.IsSurrogate(c)) continue;
            if (char.IsHighSurrogate(c) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                i++;
                continue;
            }
            throw new ChatStoreValidationException(field, "unpaired_surrogate", $"contains an unpaired UTF-16 surrogate (U+{(int)c:X4}) at index {i}; it is not valid Unicode.");
        }
    }

    /// <summary>Checks every string (keys and values) in a JSON value and its size; returns the JSON text to store.</summary>
    public static string? Json(JsonElement? value, string field, int maxBytes, JsonValueKind? kind = null)
    {
        if (value is not JsonElement element || element.ValueKind == JsonValueKind.Undefined)
            return null;
        if (kind is JsonValueKind k && element.ValueKind != k)
            throw new ChatStoreValidationException(field, "json_type", $"must be a JSON {k.ToString().ToLowerInvariant()}, not {element.ValueKind.ToString().ToLowerInvariant()}.");
        Walk(element, field, 0);
        var text = element.GetRawText();
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > maxBytes)
            throw new ChatStoreValidationException(field, "max_size", $"is {bytes} bytes of JSON; the limit is {maxBytes}.");
        return text;
    }

    static void Walk(JsonElement element, string path, int depth)
    {
        if (depth > 64)
            throw new ChatStoreValidationException(path, "max_depth", "nests deeper than 64 levels.");
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = p.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        throw new ChatStoreValidationException(path, "unpaired_surrogate", "has a key with an escaped unpaired UTF-16 surrogate; it is not valid Unicode.");
                    }
                    CheckChars(name, $"{path}.{name}");
                    Walk(p.Value, $"{path}.{name}", depth + 1);
                }
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                    Walk(item, $"{path}[{i++}]", depth + 1);
                break;
            case JsonValueKind.String:
                string s;
                try
                {
                    s = element.GetString()!;
                }
                catch (InvalidOperationException)
                {
                    throw new ChatStoreValidationException(path, "unpaired_surrogate", "contains an escaped unpaired UTF-16 surrogate; it is not valid Unicode.");
                }
                // Raw JSON may hold a \u0000 or lone \ud800 escape, which jsonb rejects.
                CheckChars(s, path);
                break;
        }
    }

    /// <summary>Rejects values outside [min, max].</summary>
    public static T Range<T>(T value, string field, T min, T max) where T : IComparable<T>
    {
        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
            throw new ChatStoreValidationException(field, "range", $"must be between {min} and {max}; got {value}.");
        return value;
    }

    /// <summary>Rejects negative values.</summary>
    public static T NotNegative<T>(T value, string field) where T : IComparable<T>, INumberBase<T>
    {
        if (value.CompareTo(T.Zero) < 0)
            throw new ChatStoreValidationException(field, "not_negative", $"must not be negative; got {value}.");
        return value;
    }

    /// <summary>Rejects a value that is not one of <paramref name="allowed"/>.</summary>
    public static string OneOf(string? value, string field, IReadOnlyCollection<string> allowed)
    {
        if (value is null || !allowed.Contains(value))
            throw new ChatStoreValidationException(field, "enum", $"must be one of {string.Join(", ", allowed)}; got '{value}'.");
        return value;
    }

    /// <summary>Page sizes: 1..<paramref name="max"/>.</summary>
    public static int PageSize(int value, int max, string field = "limit") => Range(value, field, 1, max);

    /// <summary>Rejects the empty GUID.</summary>
    public static Guid Id(Guid value, string field)
    {
        if (value == Guid.Empty)
            throw new ChatStoreValidationException(field, "required", "must be a non-empty id.");
        return value;
    }

    /// <summary>Checks each string of a list.</summary>
    public static string[] Texts(IReadOnlyList<string>? values, string field, int maxItems, int maxLength)
    {
        if (values is null) return [];
        if (values.Count > maxItems)
            throw new ChatStoreValidationException(field, "max_items", $"has {values.Count} items; the limit is {maxItems}.");
        var result = new string[values.Count];
        for (var i = 0; i < values.Count; i++)
            result[i] = Required(values[i], $"{field}[{i}]", maxLength);
        return result;
    }
}
