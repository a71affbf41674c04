using System.CommandLine;
using Spectre.Console;

namespace ChatStore.Cli.Commands;

/// <summary><c>chatstore db grant --to LOGIN</c>: lets a least-privilege login run the service.</summary>
internal static class DbGrantCommand
{
    public static Command Build()
    {
        var to = new Option<string>("--to") { Description = "The existing login role the service connects as", Required = true };
        var command = new Command("grant",
            "Give an existing login role what the service needs (membership in the application role, USAGE on the schema, " +
            "SELECT on the migration history, default privileges for later tables); run as the schema owner. The login cannot migrate or register embedding spaces.")
        { to };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var login = parse.GetValue(to)!;
            await client.Migrator.GrantAsync(login, ct);
            AnsiConsole.MarkupLineInterpolated($"[green]Granted:[/] {login} may now run the service on schema {client.Schema} as {client.Migrator.AppRole}. Migrations and new embedding spaces still need the owner.");
            return 0;
        });
        return command;
    }
}
