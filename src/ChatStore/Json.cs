using System.Text.Json;
using Npgsql;

namespace ChatStore;

/// <summary>Reading jsonb columns into immutable <see cref="JsonElement"/> values.</summary>
internal static class Json
{
    static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>The jsonb column <paramref name="ordinal"/> as a detached element (an empty object when NULL).</summary>
    public static JsonElement Read(NpgsqlDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
            return EmptyObject;
        using var doc = JsonDocument.Parse(reader.GetString(ordinal));
        return doc.RootElement.Clone();
    }

    /// <summary>Parses JSON text into a detached element.</summary>
    public static JsonElement Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }
}
