using System.CommandLine;
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
        return root;
    }
}
