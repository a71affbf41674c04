using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using ChatStore.Cli.Commands;

namespace ChatStore.Cli;

/// <summary>The <c>chatstore</c> command tree.</summary>
public static class ChatStoreCli
{
    /// <summary>Builds the root command with every verb.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("ChatStore: the conversation and memory store for AI chat apps, on PostgreSQL with pgvector.");
        foreach (var option in GlobalOptions.All)
            root.Options.Add(option);
        root.Subcommands.Add(DbCommands.Build());
        root.Subcommands.Add(ServeCommand.Build());
        root.Subcommands.Add(SearchCommands.Build());
        root.Subcommands.Add(EmbeddingsCommands.Build());
        root.Subcommands.Add(TenantsCommand.Build());
        root.Subcommands.Add(KeysCommand.Build());
        root.Subcommands.Add(UsersCommand.Build());
        foreach (var command in ExportCommands.Build())
            root.Subcommands.Add(command);
        foreach (var help in root.Options.OfType<HelpOption>())
            help.Action = new HelpWithExitCodes((HelpAction)help.Action!);
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; a command line that does not parse exits with <see cref="ExitCodes.Usage"/>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var parse = Build().Parse(args);
        var code = await parse.InvokeAsync();
        return parse.Errors.Count > 0 ? ExitCodes.Usage : code;
    }

    /// <summary>The standard help, then the exit codes.</summary>
    sealed class HelpWithExitCodes(HelpAction inner) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var result = inner.Invoke(parseResult);
            parseResult.InvocationConfiguration.Output.WriteLine(ExitCodes.Help);
            return result;
        }
    }
}
