using System.CommandLine;
using Spectre.Console;

namespace ChatStore.Cli.Commands;

/// <summary><c>chatstore export</c> / <c>chatstore import</c>: a user's whole data as JSON Lines, or a whole tenant's (see <see cref="TenantTransfer"/>).</summary>
internal static class ExportCommands
{
    public static IEnumerable<Command> Build()
    {
        var tenant = new Option<Guid>("--tenant") { Description = "The tenant id", Required = true };
        var user = new Option<Guid?>("--user") { Description = "The user id (without it: every user of the tenant, one file each in the --out folder)" };
        var output = new Option<string?>("--out") { Description = "File to write (default: standard output); with no --user, the folder to write" };
        var exportJson = CliOutput.JsonOption();
        var export = new Command("export", "Write a user's whole data, or a whole tenant's, as JSON Lines") { tenant, user, output, exportJson };
        export.Validators.Add(result =>
        {
            if (result.GetResult(user) is null && result.GetResult(output) is null)
                result.AddError("A whole-tenant export (no --user) writes one file per user: give the folder with --out.");
        });
        CliAction.Set(export, async (parse, client, ct) =>
        {
            var path = parse.GetValue(output);
            if (parse.GetValue(user) is not { } userId)
                return await TenantTransfer.ExportAsync(client, parse.GetValue(tenant), path!, parse.GetValue(exportJson), ct);
            await using var stream = path is null ? Console.OpenStandardOutput() : File.Create(path);
            var counts = await client.ForTenant(parse.GetValue(tenant)).Export.ExportUserAsync(userId, stream, ct);
            if (parse.GetValue(exportJson) && path is not null)
                CliOutput.Json(new { file = path, tables = counts });
            else if (path is not null)
                Report($"Exported to {path}", counts);
            return 0;
        });

        var importTenant = new Option<Guid>("--tenant") { Description = "The tenant to import into", Required = true };
        var input = new Option<string>("--in") { Description = "A JSON Lines file written by `chatstore export`, or the folder a whole-tenant export wrote", Required = true };
        var importJson = CliOutput.JsonOption();
        var import = new Command("import", "Import users exported by `chatstore export` into a tenant, each user in one transaction") { importTenant, input, importJson };
        CliAction.Set(import, async (parse, client, ct) =>
        {
            var path = parse.GetValue(input)!;
            if (Directory.Exists(path))
                return await TenantTransfer.ImportAsync(client, parse.GetValue(importTenant), path, parse.GetValue(importJson), ct);
            if (!File.Exists(path))
            {
                CliFailure.Print($"{path} does not exist. Give the file `chatstore export --out` wrote.");
                return ExitCodes.NotFound;
            }
            await using var stream = File.OpenRead(path);
            var scope = client.ForTenant(parse.GetValue(importTenant));
            Export.UserImport result;
            try
            {
                if (parse.GetValue(importJson))
                {
                    CliOutput.Json(await scope.Export.ImportUserAsync(stream, ct));
                    return 0;
                }
                result = await AnsiConsole.Status().StartAsync($"Importing {path}…", _ => scope.Export.ImportUserAsync(stream, ct));
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
