using System.Net.Sockets;
using ChatStore.Connection;
using Npgsql;
using Spectre.Console;

namespace ChatStore.Cli.Commands;

/// <summary>The <c>chatstore</c> exit codes: one per class of failure, so that scripts can tell them apart.</summary>
public static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>A check found problems (<c>db verify</c> drift, <c>db status</c> with edited or missing files), or an unexpected error.</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong: an unknown verb or option, a missing or malformed argument, an unknown migration source.</summary>
    public const int Usage = 2;

    /// <summary>The configuration is wrong: DATABASE_URL, CHATSTORE_* variables, the config file, the password, the database name, PostgreSQL binaries or the data directory.</summary>
    public const int Configuration = 3;

    /// <summary>The database cannot be reached (refused, timed out, shutting down or starting up); trying again later may work.</summary>
    public const int Unreachable = 4;

    /// <summary>The migrations applied to the schema conflict with the request or the migration files (nothing to roll back, an edited or missing migration).</summary>
    public const int MigrationConflict = 5;

    /// <summary>What the command names does not exist (a tenant, a user, a file).</summary>
    public const int NotFound = 6;

    /// <summary>An input file or value breaks a rule (a malformed import file).</summary>
    public const int InvalidInput = 7;

    /// <summary>The data conflicts with what is stored (an import of a user who already exists).</summary>
    public const int Conflict = 8;

    /// <summary>The table printed at the end of <c>chatstore --help</c>.</summary>
    public const string Help = """
        Exit codes:
          0  done
          1  a check found problems (db verify, db status), or an unexpected error
          2  usage: unknown verb or option, missing or malformed argument, unknown migration source
          3  configuration: DATABASE_URL, CHATSTORE_* variables, config file, password, database name, data directory
          4  database unreachable: refused, timed out, shutting down or starting up (retry later)
          5  migration conflict: nothing to roll back, a migration edited or missing since it was applied
          6  not found: the tenant, user or file named does not exist
          7  invalid input: an import file or value breaks a rule
          8  conflict: the data conflicts with what is stored (the user already exists)
        Every failure prints its cause and what to do next on standard error; passwords are masked.
        """;
}

/// <summary>Turns an exception into the exit code of its class and a message with its cause and the next step.</summary>
internal static class CliFailure
{
    /// <summary>Prints the failure to standard error and returns its exit code.</summary>
    public static int Report(Exception exception, string? connectionString)
    {
        var (code, message) = Describe(exception, connectionString);
        Print(message);
        return code;
    }

    /// <summary>Prints <c>error: message</c> (secrets masked) to standard error.</summary>
    public static void Print(string message)
    {
        // Plain text when standard error is a file or a pipe, or NO_COLOR is set.
        var plain = Console.IsErrorRedirected || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var error = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Error),
            Ansi = plain ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = plain ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
        });
        error.Profile.Width = Math.Max(error.Profile.Width, 200);
        error.MarkupLineInterpolated($"[red]error:[/] {DatabaseUrl.MaskSecrets(message)}");
    }

    /// <summary>The exit code and the message for <paramref name="exception"/>.</summary>
    public static (int Code, string Message) Describe(Exception exception, string? connectionString) => exception switch
    {
        ChatStoreMigrationConflictException e => (ExitCodes.MigrationConflict, e.Message),
        ChatStoreConfigurationException e => (ExitCodes.Configuration, FlagNames(e.Message)),
        ChatStoreNotFoundException e => (ExitCodes.NotFound, $"{e.Message} Check the id (and --tenant: ids are per tenant)."),
        ChatStoreConflictException e => (ExitCodes.Conflict, e.Message),
        ChatStoreValidationException { Rule: "unknown", Field: "source" } e => (ExitCodes.Usage, $"--{e.Message}"),
        ChatStoreValidationException e => (ExitCodes.Usage, $"{e.Message} ({e.Rule}). Run with --help to see what each option takes."),
        PostgresException e => Postgres(e, connectionString),
        NpgsqlException e when e.InnerException is SocketException or TimeoutException || e.IsTransient =>
            (ExitCodes.Unreachable, $"could not connect to {Endpoint(connectionString)}: is PostgreSQL running? ({Inner(e)}) Start it, or fix the host and port in DATABASE_URL (or --database-url)."),
        NpgsqlException e => (ExitCodes.Unreachable, $"the database connection failed: {Inner(e)}. Check DATABASE_URL (or --database-url) and that PostgreSQL is running."),
        UnauthorizedAccessException e => (ExitCodes.Configuration, $"{e.Message} Run as a user who may read and write it, or choose another path."),
        IOException e => (ExitCodes.Failed, $"{e.Message} Check the path and the free disk space."),
        ChatStoreException e => (ExitCodes.Failed, e.Message),
        _ => (ExitCodes.Failed, $"{exception.GetType().Name}: {exception.Message} This is a bug in ChatStore; run again with --verbose and report it."),
    };

    static (int, string) Postgres(PostgresException e, string? connectionString)
    {
        var user = connectionString is null ? "postgres" : new NpgsqlConnectionStringBuilder(connectionString).Username ?? Environment.UserName;
        var database = connectionString is null ? ChatStoreClient.EmbeddedDatabaseName : new NpgsqlConnectionStringBuilder(connectionString).Database ?? user;
        return e.SqlState switch
        {
            PostgresErrorCodes.InvalidPassword =>
                (ExitCodes.Configuration, $"password authentication failed for user {user}: check DATABASE_URL (or --database-url): the user name and password must be a login role of the server."),
            PostgresErrorCodes.InvalidAuthorizationSpecification =>
                (ExitCodes.Configuration, $"PostgreSQL refused user {user}: {e.MessageText}. Check the user in DATABASE_URL, and that pg_hba.conf lets it connect from here."),
            PostgresErrorCodes.InvalidCatalogName =>
                (ExitCodes.Configuration, $"database \"{database}\" does not exist on {Endpoint(connectionString)}: create it (createdb {database}) or fix the database name in DATABASE_URL."),
            PostgresErrorCodes.InsufficientPrivilege =>
                (ExitCodes.Configuration, $"permission denied: {e.MessageText}. Run migrations as the schema's owner (a role that may create in the database), not as the application role."),
            PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown =>
                (ExitCodes.Unreachable, $"PostgreSQL on {Endpoint(connectionString)} is not accepting connections now: {e.MessageText}. Try again shortly."),
            PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName or PostgresErrorCodes.UndefinedColumn or PostgresErrorCodes.UndefinedFunction =>
                (ExitCodes.Configuration, $"{e.MessageText}: the schema is not initialised or is behind this ChatStore. Run `chatstore db init` (or `chatstore db migrate`) with the same --schema."),
            _ when e.SqlState.StartsWith("08", StringComparison.Ordinal) =>
                (ExitCodes.Unreachable, $"the connection to {Endpoint(connectionString)} failed: {e.MessageText}. Check that PostgreSQL is running and try again."),
            _ => (ExitCodes.Failed, $"PostgreSQL refused the statement: {e.MessageText} (SQLSTATE {e.SqlState}). Run again with --verbose to see what ChatStore did."),
        };
    }

    // Settings errors name the override they came from; on the command line that is a flag.
    static string FlagNames(string message) => message
        .Replace("ChatStoreSettingsOverrides.DatabaseUrl", "--database-url", StringComparison.Ordinal)
        .Replace("ChatStoreSettingsOverrides.Schema", "--schema", StringComparison.Ordinal)
        .Replace("ChatStoreSettingsOverrides.AppRole", "--app-role", StringComparison.Ordinal)
        .Replace("ChatStoreSettingsOverrides.EmbeddedDataDirectory", "--data-dir", StringComparison.Ordinal);

    static string Endpoint(string? connectionString)
    {
        if (connectionString is null)
            return "the embedded cluster";
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}";
    }

    static string Inner(Exception e)
    {
        var innermost = e;
        while (innermost.InnerException is not null)
            innermost = innermost.InnerException;
        return innermost == e ? e.Message : $"{e.Message.TrimEnd('.')}: {innermost.Message.TrimEnd('.')}";
    }
}
