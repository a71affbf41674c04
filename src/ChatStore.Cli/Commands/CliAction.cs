using System.CommandLine;
using ChatStore.Connection;

namespace ChatStore.Cli.Commands;

/// <summary>Runs a verb with a client, turning every failure into its cause, the next step and the exit code of its class.</summary>
internal static class CliAction
{
    /// <summary>Exit code for a check that found problems.</summary>
    public const int Failed = ExitCodes.Failed;

    /// <summary>Exit code of <c>db distribute</c> on plain PostgreSQL: there is no Citus to distribute over.</summary>
    public const int NotCitus = ExitCodes.Configuration;

    public static void Set(Command command, Func<ParseResult, ChatStoreClient, CancellationToken, Task<int>> action) =>
        command.SetAction((parse, cancellationToken) => RunAsync(parse, async settings =>
        {
            await using var client = await GlobalOptions.ClientAsync(parse, settings, cancellationToken);
            return await action(parse, client, cancellationToken);
        }));

    /// <summary>Loads the settings and runs <paramref name="action"/>, reporting any failure.</summary>
    public static async Task<int> RunAsync(ParseResult parse, Func<ChatStoreSettings, Task<int>> action)
    {
        ChatStoreSettings? settings = null;
        try
        {
            settings = GlobalOptions.Settings(parse);
            return await action(settings);
        }
        catch (OperationCanceledException)
        {
            CliFailure.Print("cancelled.");
            return ExitCodes.Failed;
        }
#pragma warning disable CA1031 // The CLI's last line: every failure becomes a message and an exit code.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return CliFailure.Report(e, settings?.ConnectionString);
        }
    }
}
