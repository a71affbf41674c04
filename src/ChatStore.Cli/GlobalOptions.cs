using System.CommandLine;
using ChatStore.Connection;
using Microsoft.Extensions.Logging;

namespace ChatStore.Cli;

/// <summary>Options every verb accepts; they override the environment and the config file.</summary>
public static class GlobalOptions
{
    /// <summary>--database-url</summary>
    public static readonly Option<string?> DatabaseUrl = new("--database-url")
    {
        Description = "PostgreSQL URL or key=value string (default: DATABASE_URL, else the embedded cluster)",
        Recursive = true,
    };

    /// <summary>--schema</summary>
    public static readonly Option<string?> Schema = new("--schema") { Description = "Schema name (default: DATABASE_SCHEMA or public)", Recursive = true };

    /// <summary>--app-role</summary>
    public static readonly Option<string?> AppRole = new("--app-role") { Description = "Application role name (default: chatstore_app)", Recursive = true };

    /// <summary>--data-dir</summary>
    public static readonly Option<string?> DataDir = new("--data-dir") { Description = "Embedded cluster data directory (default: CHATSTORE_DATA_DIR or ./.chatstore/pg; as root, when the postgres user cannot reach it, /var/lib/chatstore/<hash of the path>/pg)", Recursive = true };

    /// <summary>--config</summary>
    public static readonly Option<string?> Config = new("--config") { Description = "JSON config file (default: CHATSTORE_CONFIG or ./chatstore.json)", Recursive = true };

    /// <summary>--verbose</summary>
    public static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "Log what ChatStore does", Recursive = true };

    internal static Option[] All => [DatabaseUrl, Schema, AppRole, DataDir, Config, Verbose];

    /// <summary>The settings these options, the environment and the config file give.</summary>
    public static ChatStoreSettings Settings(ParseResult parse) => ChatStoreSettings.Load(
        new ChatStoreSettingsOverrides
        {
            DatabaseUrl = parse.GetValue(DatabaseUrl),
            Schema = parse.GetValue(Schema),
            AppRole = parse.GetValue(AppRole),
            EmbeddedDataDirectory = parse.GetValue(DataDir),
        },
        configFile: parse.GetValue(Config));

    /// <summary>A client for the parsed settings (starting the embedded cluster when there is no URL).</summary>
    public static Task<ChatStoreClient> ClientAsync(ParseResult parse, CancellationToken cancellationToken) =>
        ClientAsync(parse, Settings(parse), cancellationToken);

    /// <summary>A client for <paramref name="settings"/>, logging as the parsed --verbose asks.</summary>
    public static Task<ChatStoreClient> ClientAsync(ParseResult parse, ChatStoreSettings settings, CancellationToken cancellationToken)
    {
        var factory = LoggerFactory.Create(b => b
            .AddSimpleConsole(o => o.SingleLine = true)
            .SetMinimumLevel(parse.GetValue(Verbose) ? LogLevel.Information : LogLevel.Warning)
            .AddFilter("Npgsql", LogLevel.Warning));
        return ChatStoreClient.CreateAsync(settings, loggerFactory: factory, cancellationToken: cancellationToken);
    }
}
