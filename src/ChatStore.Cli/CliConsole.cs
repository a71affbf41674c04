using Spectre.Console;

namespace ChatStore.Cli;

/// <summary>
/// How the CLI writes: colours, progress bars and the terminal's width on a terminal; plain text with no
/// ANSI codes, no animation and no wrapping at 80 columns when output goes to a file or a pipe, or when
/// <c>NO_COLOR</c> is set (https://no-color.org).
/// </summary>
public static class CliConsole
{
    /// <summary>Lines longer than this wrap even in a file: wide enough for any table ChatStore prints.</summary>
    const int RedirectedWidth = 4096;

    /// <summary>True when standard output is a terminal.</summary>
    public static bool IsTerminal => !Console.IsOutputRedirected;

    /// <summary>Sets <see cref="AnsiConsole.Console"/> for this process's output.</summary>
    public static void Configure()
    {
        var noColor = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var plain = !IsTerminal || noColor;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = plain ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = plain ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = IsTerminal ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        if (!IsTerminal)
            console.Profile.Width = RedirectedWidth;
        AnsiConsole.Console = console;
    }
}
