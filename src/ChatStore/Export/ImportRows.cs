using System.Text.Json;

namespace ChatStore.Export;

/// <summary>One checked row of an import: its table, the columns it sets, and its JSON.</summary>
internal sealed record ParsedRow(TableInfo Table, IReadOnlyList<string> Columns, string Signature, string Json, int Index);

/// <summary>
/// Parses and checks the row lines of an import as they stream by, so a bad file fails at its first bad
/// row, with the row and column named, before the database sees it:
/// <list type="bullet">
/// <item>a table of a user's data, columns the import writes, each once;</item>
/// <item>every string (keys and values) free of NUL characters and unpaired surrogates;</item>
/// <item>every key to users is the exported user (or null), every key to another table of the export points at
/// a row earlier in the file (an export puts referenced rows first), and every row hangs off the user or
/// an earlier row through an owning key. So the import creates the user's data and nothing else: no row of
/// another user, no row attached to rows that already exist in the tenant.</item>
/// </list>
/// The keys that later rows may reference are remembered (a set of ids per table: memory in proportion to the rows).
/// </summary>
internal sealed class ImportRows(UserDataModel model, Guid userId)
{
    readonly Dictionary<string, int> _indexes = new(StringComparer.Ordinal);
    readonly Dictionary<(TableInfo Table, string Column), HashSet<string>> _keys = Referenced(model);

    public ParsedRow Parse(ReadOnlyMemory<byte> line, int lineNumber)
    {
        var where = $"line {lineNumber}";
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new ChatStoreValidationException(where, "json", $"is not JSON: {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("row", out var row) || row.ValueKind != JsonValueKind.Object)
                throw new ChatStoreValidationException(where, "format", "must be {\"type\":\"<table>\",\"row\":{…}}.");
            var name = type.GetString()!;
            var table = model.Exported.FirstOrDefault(t => t.Name == name)
                ?? throw new ChatStoreValidationException(where + ".type", "unknown_table", $"'{name}' is not a table of a user's data in this schema.");
            var index = _indexes.GetValueOrDefault(name);
            _indexes[name] = index + 1;
            var path = $"{name}[{index}]";

            var columns = new List<string>();
            foreach (var property in row.EnumerateObject())
            {
                var column = table.Column(property.Name);
                if (column is null || column.Generated || column.Name == "tenant_id")
                    throw new ChatStoreValidationException($"{path}.{property.Name}", "unknown_column", $"is not a column of {name} that an import writes.");
                if (columns.Contains(column.Quoted))
                    throw new ChatStoreValidationException($"{path}.{property.Name}", "duplicate_column", "appears twice in the row.");
                columns.Add(column.Quoted);
            }
            var json = Validate.Json(row, path, int.MaxValue)!;

            if (ReferenceEquals(table, model.Users))
            {
                var key = table.PrimaryKey[0];
                if (!(row.TryGetProperty(key, out var id) && id.ValueKind == JsonValueKind.String && id.TryGetGuid(out var g) && g == userId))
                    throw new ChatStoreValidationException($"{path}.{key}", "header", "must be the header's userId.");
            }
            else
            {
                CheckReferences(table, row, path);
            }
            foreach (var ((t, column), set) in _keys)
            {
                if (ReferenceEquals(t, table) && Key(row, column) is { } value)
                    set.Add(value);
            }
            return new ParsedRow(table, columns, string.Join(",", columns), json, index);
        }
    }

    void CheckReferences(TableInfo table, JsonElement row, string path)
    {
        var owned = false;
        foreach (var fk in table.ForeignKeys)
        {
            if (fk.Columns.Count != 1 || !model.Exported.Contains(fk.Parent))
                continue;
            var column = fk.Columns[0];
            if (Key(row, column) is not { } value)
                continue;
            if (ReferenceEquals(fk.Parent, model.Users))
            {
                if (value != userId.ToString("N"))
                    throw new ChatStoreValidationException($"{path}.{column}", "other_user", $"must be the exported user {userId} (or null): an import holds one user's data only.");
            }
            else if (!_keys[(fk.Parent, fk.ParentColumns[0])].Contains(value))
            {
                throw new ChatStoreValidationException($"{path}.{column}", "reference",
                    $"points at a {fk.Parent.Name} row that is not earlier in the export: an import may only reference the user's own rows.");
            }
            owned |= fk.Owns;
        }
        if (!owned)
            throw new ChatStoreValidationException(path, "not_the_users", "references neither the user nor a row of the user's: it is not part of the user's data.");
    }

    /// <summary>A key value for comparison (ids in one spelling), or null when the column is absent or null.</summary>
    static string? Key(JsonElement row, string column)
    {
        if (!row.TryGetProperty(column, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        return value.ValueKind == JsonValueKind.String && value.TryGetGuid(out var id) ? id.ToString("N") : value.GetRawText();
    }

    /// <summary>The columns of exported tables that keys of other exported tables reference.</summary>
    static Dictionary<(TableInfo, string), HashSet<string>> Referenced(UserDataModel model)
    {
        var keys = new Dictionary<(TableInfo, string), HashSet<string>>();
        foreach (var fk in model.Exported.SelectMany(t => t.ForeignKeys))
        {
            if (fk.Columns.Count == 1 && model.Exported.Contains(fk.Parent) && !ReferenceEquals(fk.Parent, model.Users))
                keys.TryAdd((fk.Parent, fk.ParentColumns[0]), new HashSet<string>(StringComparer.Ordinal));
        }
        return keys;
    }
}
