using System.CommandLine;
using ChatStore.Connection;
using Spectre.Console;

namespace ChatStore.Cli.Commands;

/// <summary>Runs a verb with a client, turning ChatStore's errors into a message and an exit code.</summary>
internal static class CliAction
{
    /// <summary>Exit code for a ChatStore error (bad input, configuration, conflict).</summary>
    public const int Failed = 1;

    public static void Set(Command command, Func<ParseResult, ChatStoreClient, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                await using var client = await GlobalOptions.ClientAsync(parse, cancellationToken);
                return await action(parse, client, cancellationToken);
            }
            catch (ChatStoreException e)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return Failed;
            }
            catch (Npgsql.NpgsqlException e)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] the database failed: {DatabaseUrl.Mask(e.Message)}");
                AnsiConsole.MarkupLine("Check DATABASE_URL (or --database-url) and that the server is running; without one, ChatStore starts its own cluster (run scripts/setup.sh first).");
                return Failed;
            }
        });
}
