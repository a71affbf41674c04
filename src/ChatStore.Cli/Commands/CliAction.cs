using System.CommandLine;
using System.Text.RegularExpressions;
using ChatStore.Connection;
using Spectre.Console;

namespace ChatStore.Cli.Commands;

/// <summary>Runs a verb with a client, turning ChatStore's errors into a message and an exit code.</summary>
internal static partial class CliAction
{
    /// <summary>Exit code for a ChatStore error (bad input, configuration, conflict).</summary>
    public const int Failed = 1;

    /// <summary>Exit code of <c>db distribute</c> on plain PostgreSQL: there is no Citus to distribute over.</summary>
    public const int NotCitus = 3;

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
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {MaskSecrets(e.Message)}");
                return Failed;
            }
            catch (Npgsql.NpgsqlException e)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] the database failed: {MaskSecrets(e.Message)}");
                AnsiConsole.MarkupLine("Check DATABASE_URL (or --database-url) and that the server is running; without one, ChatStore starts its own cluster (run scripts/setup.sh first).");
                return Failed;
            }
        });

    /// <summary>
    /// Masks passwords inside a message (a URL's user:password@ or a Password= pair) and keeps the rest:
    /// DatabaseUrl.Mask expects a whole connection string and hides any other text entirely.
    /// </summary>
    internal static string MaskSecrets(string message) =>
        PasswordPair().Replace(UrlPassword().Replace(message, $"$1{DatabaseUrl.MaskedPassword}@"), $"$1{DatabaseUrl.MaskedPassword}");

    [GeneratedRegex(@"(://[^:/@\s]*:)[^@\s]*@")]
    private static partial Regex UrlPassword();

    [GeneratedRegex(@"(?i)\b((?:password|pwd|psw)\s*=\s*)[^;\s]*")]
    private static partial Regex PasswordPair();
}
