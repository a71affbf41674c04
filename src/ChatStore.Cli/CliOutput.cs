using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace ChatStore.Cli;

/// <summary>What the operator verbs print: a table for people, or one JSON document with <c>--json</c> for scripts.</summary>
internal static class CliOutput
{
    /// <summary>--json: print the result as JSON on standard output, nothing else.</summary>
    public static Option<bool> JsonOption() => new("--json") { Description = "Print the result as JSON (for scripts) instead of a table" };

    static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Writes <paramref name="value"/> as JSON to standard output.</summary>
    public static void Json<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));

    /// <summary>A table of <paramref name="rows"/> with <paramref name="columns"/> (values escaped).</summary>
    public static void Table<T>(IEnumerable<T> rows, params (string Header, Func<T, object?> Value)[] columns)
    {
        var table = new Table().AddColumns(columns.Select(c => c.Header).ToArray());
        foreach (var row in rows)
            table.AddRow(columns.Select(c => Markup.Escape(Text(c.Value(row)))).ToArray());
        AnsiConsole.Write(table);
    }

    /// <summary>One record as name/value lines.</summary>
    public static void Record(params (string Name, object? Value)[] fields)
    {
        var grid = new Grid().AddColumn().AddColumn();
        foreach (var (name, value) in fields)
            grid.AddRow(Markup.Escape(name), Markup.Escape(Text(value)));
        AnsiConsole.Write(grid);
    }

    public static string Text(object? value) => value switch
    {
        null => "",
        DateTimeOffset t => t.ToString("u", CultureInfo.InvariantCulture),
        IEnumerable<string> list => string.Join(", ", list),
        JsonElement e => e.GetRawText(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>A command that only groups <paramref name="subcommands"/>.</summary>
    public static Command Group(string name, string description, params Command[] subcommands)
    {
        var group = new Command(name, description);
        foreach (var subcommand in subcommands)
            group.Subcommands.Add(subcommand);
        return group;
    }

    /// <summary>Up to <paramref name="wanted"/> items, reading pages of at most 100 from <paramref name="page"/> (limit, cursor).</summary>
    public static async Task<List<T>> CollectAsync<T>(int wanted, Func<int, string?, Task<Page<T>>> page)
    {
        var list = new List<T>();
        string? cursor = null;
        do
        {
            var next = await page(Math.Min(100, Math.Max(1, wanted - list.Count)), cursor);
            list.AddRange(next.Items);
            cursor = next.NextCursor;
        }
        while (cursor is not null && list.Count < wanted);
        return list;
    }
}
