using System.CommandLine;
using Spectre.Console;

namespace ChatStore.Cli.Commands;

/// <summary><c>chatstore export</c> / <c>chatstore import</c>: a user's whole data as JSON Lines.</summary>
internal static class ExportCommands
{
    public static IEnumerable<Command> Build()
    {
        var tenant = new Option<Guid>("--tenant") { Description = "The tenant id", Required = true };
        var user = new Option<Guid>("--user") { Description = "The user id", Required = true };
        var output = new Option<string?>("--out") { Description = "File to write (default: standard output)" };
        var export = new Command("export", "Write a user's whole data as JSON Lines") { tenant, user, output };
        CliAction.Set(export, async (parse, client, ct) =>
        {
            var path = parse.GetValue(output);
            await using var stream = path is null ? Console.OpenStandardOutput() : File.Create(path);
            var counts = await client.ForTenant(parse.GetValue(tenant)).Export.ExportUserAsync(parse.GetValue(user), stream, ct);
            if (path is not null)
                Report($"Exported to {path}", counts);
            return 0;
        });

        var importTenant = new Option<Guid>("--tenant") { Description = "The tenant to import into", Required = true };
        var input = new Option<string>("--in") { Description = "A JSON Lines file written by `chatstore export`", Required = true };
        var import = new Command("import", "Import a user exported by `chatstore export` into a tenant, in one transaction") { importTenant, input };
        CliAction.Set(import, async (parse, client, ct) =>
        {
            var path = parse.GetValue(input)!;
            if (!File.Exists(path))
            {
                CliFailure.Print($"{path} does not exist. Give the file `chatstore export --out` wrote.");
                return ExitCodes.NotFound;
            }
            await using var stream = File.OpenRead(path);
            Export.UserImport result;
            try
            {
                result = await AnsiConsole.Status().StartAsync($"Importing {path}…",
                    _ => client.ForTenant(parse.GetValue(importTenant)).Export.ImportUserAsync(stream, ct));
            }
            catch (ChatStoreValidationException e)
            {
                CliFailure.Print($"{path} is not a valid export: {e.Message} ({e.Rule}). Nothing was imported; give a file `chatstore export` wrote, unedited.");
                return ExitCodes.InvalidInput;
            }
            Report($"Imported user {result.UserId}", result.Rows);
            return 0;
        });
        return [export, import];
    }

    static void Report(string title, IReadOnlyDictionary<string, long> counts)
    {
        var table = new Table().AddColumns("Table", "Rows");
        foreach (var (name, rows) in counts.Where(c => c.Value > 0).OrderBy(c => c.Key, StringComparer.Ordinal))
            table.AddRow(Markup.Escape(name), rows.ToString(System.Globalization.CultureInfo.InvariantCulture));
        AnsiConsole.MarkupLine(Markup.Escape(title));
        AnsiConsole.Write(table);
    }
}
