using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ChatStore.Embedded;

/// <summary>
/// ChatStore's embedded default: a private PostgreSQL cluster in a data directory of its own, created on
/// first use, started on 127.0.0.1 and a free port, shared by every process that opens the same directory,
/// and stopped (<c>pg_ctl stop -m fast</c>) when the last of them lets go.
/// </summary>
/// <remarks>
/// <para>Next to the data directory live <c>&lt;dataDirectory&gt;.lock</c>, an exclusive lock that serialises
/// every start and stop decision, and <c>&lt;dataDirectory&gt;.clients/</c>, one file per live instance; files
/// of processes that have died are pruned. The server log is <c>&lt;dataDirectory&gt;/server.log</c>.</para>
/// <para>When the process is root the server runs as the <c>postgres</c> user (initdb and pg_ctl refuse root):
/// the data directory and any parent directories created for it are given to that user, and every existing
/// directory above it must be searchable by it.</para>
/// <para>Besides <see cref="DisposeAsync"/>, live instances are released when the process ends normally
/// (<see cref="AppDomain.ProcessExit"/>), on Ctrl+C (<see cref="Console.CancelKeyPress"/>) and on SIGTERM, unless
/// a handler that ran earlier cancelled the termination. A process that is killed outright cannot release; the
/// next process to start or release on the directory prunes its registration.</para>
/// <para>The cluster trusts every connection from 127.0.0.1 as the superuser <c>postgres</c>: it is meant for
/// a developer machine or a single-tenant host, not a machine shared with untrusted local users.</para>
/// </remarks>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    internal const string BinariesNotFoundMessage =
        "PostgreSQL server binaries (initdb, pg_ctl) were not found. Run scripts/setup.sh to install PostgreSQL and pgvector, or set DATABASE_URL to use an existing server.";

    const string LogFileName = "server.log";
    const string PidFileName = "postmaster.pid";
    static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(2);
    static readonly TimeSpan ExitLockTimeout = TimeSpan.FromSeconds(10);
    static readonly ConcurrentDictionary<EmbeddedPostgres, byte> LiveInstances = new();
    static int s_exitHandlersRegistered;
    static PosixSignalRegistration? s_terminateRegistration; // Held so that it is never finalized (which unregisters it).

    readonly PostgresTools _tools;
    readonly ILogger _logger;
    readonly string _clientId;
    int _released;

    EmbeddedPostgres(PostgresTools tools, ILogger logger, string dataDirectory, int port, bool startedServer, string clientId)
    {
        _tools = tools;
        _logger = logger;
        _clientId = clientId;
        DataDirectory = dataDirectory;
        Port = port;
        StartedServer = startedServer;
        ConnectionString = ConnectionStringFor(port, probe: false);
    }

    /// <summary>An Npgsql connection string for the cluster's <c>postgres</c> database as the superuser <c>postgres</c>.</summary>
    public string ConnectionString { get; }

    /// <summary>The TCP port the server listens on, on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The absolute path of the cluster's data directory.</summary>
    public string DataDirectory { get; }

    /// <summary>True when this instance started the server; false when it joined one that was already running.</summary>
    public bool StartedServer { get; }

    /// <summary>The server's log file, <c>&lt;dataDirectory&gt;/server.log</c>.</summary>
    public string LogFile => Path.Combine(DataDirectory, LogFileName);

    string RegistryDirectory => DataDirectory + ".clients";

    /// <summary>
    /// The directory holding PostgreSQL's initdb and pg_ctl: the CHATSTORE_PG_BIN environment variable when set,
    /// else the newest <c>/usr/lib/postgresql/N/bin</c> with N ≥ 15, else <c>pg_config --bindir</c>; null when
    /// none of them has both tools.
    /// </summary>
    public static string? FindBinDirectory() => PostgresTools.Find(preferredMajorVersion: null);

    /// <summary>
    /// Uses the cluster in <paramref name="dataDirectory"/>: creates it (and its parent directories) on first use,
    /// joins its server when another instance or process already runs it, and starts it otherwise.
    /// </summary>
    /// <param name="dataDirectory">The cluster's data directory; relative paths resolve against the current directory.</param>
    /// <param name="logger">Receives start, reuse and stop messages.</param>
    /// <param name="cancellationToken">Observed while waiting for another process's start or stop and between steps.</param>
    /// <exception cref="ChatStoreConfigurationException">The PostgreSQL binaries are missing, or initdb or pg_ctl failed (the message has their output and the server log's tail).</exception>
    public static Task<EmbeddedPostgres> StartAsync(string dataDirectory, ILogger? logger = null, CancellationToken cancellationToken = default) =>
        StartAsync(dataDirectory, binDirectory: null, logger, cancellationToken);

    /// <summary>As the public overload, with the bin directory given instead of discovered (for tests).</summary>
    internal static Task<EmbeddedPostgres> StartAsync(string dataDirectory, string? binDirectory, ILogger? logger, CancellationToken cancellationToken) =>
        StartAsync(dataDirectory, binDirectory, relocateWhenUnreachable: false, logger, cancellationToken);

    /// <summary>
    /// The directory under which a root process keeps the embedded cluster of a default data directory that
    /// the postgres user cannot reach (a clone in <c>/root</c>): <c>/var/lib/chatstore/&lt;hash of the path&gt;/pg</c>.
    /// </summary>
    public const string RelocatedDataRoot = "/var/lib/chatstore";

    /// <summary>Where the cluster of <paramref name="dataDirectory"/> lives when it is relocated under <see cref="RelocatedDataRoot"/>.</summary>
    public static string RelocatedDataDirectory(string dataDirectory)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDirectory));
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(full)))[..16];
        return Path.Combine(RelocatedDataRoot, hash, "pg");
    }

    /// <summary>
    /// Starts the cluster of <paramref name="dataDirectory"/>. When the process is root and the postgres user
    /// cannot reach that directory: with <paramref name="relocateWhenUnreachable"/> (the default data directory),
    /// the cluster lives in <see cref="RelocatedDataDirectory"/> instead, kept across runs, and the log says where;
    /// otherwise the start fails with a message naming the directory the postgres user cannot enter.
    /// </summary>
    internal static async Task<EmbeddedPostgres> StartAsync(string dataDirectory, string? binDirectory, bool relocateWhenUnreachable, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        logger ??= NullLogger.Instance;
        var directory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDirectory));
        if (PostgresTools.RunAsPostgresUser && await PostgresTools.FirstUnreachableByPostgresAsync(directory).ConfigureAwait(false) is { } blocked)
        {
            if (!relocateWhenUnreachable)
                throw new ChatStoreConfigurationException(
                    $"the postgres user cannot enter {blocked}, so the embedded PostgreSQL (which runs as postgres when ChatStore runs as root) cannot use {directory}: " +
                    "move the data directory (--data-dir or CHATSTORE_DATA_DIR) to a path the postgres user can reach, or run as a regular user.");
            var relocated = RelocatedDataDirectory(directory);
            logger.LogWarning(
                "ChatStore runs as root and the postgres user cannot enter {Blocked}: the embedded cluster's files are in {Relocated} instead of {DataDirectory} " +
                "(kept across runs; --data-dir or CHATSTORE_DATA_DIR chooses another place)", blocked, relocated, directory);
            directory = relocated;
        }

        var bin = binDirectory ?? PostgresTools.Find(ReadClusterVersion(directory));
        if (bin is null || !PostgresTools.IsBinDirectory(bin))
            throw new ChatStoreConfigurationException(BinariesNotFoundMessage + BinDirectoryVariableHint(binDirectory));
        var tools = new PostgresTools(bin);

        await CreateParentDirectoriesAsync(directory).ConfigureAwait(false);
        using (await DataDirectoryLock.AcquireAsync(directory + ".lock", LockTimeout, cancellationToken).ConfigureAwait(false))
        {
            if (!File.Exists(Path.Combine(directory, "PG_VERSION")))
                await InitializeClusterAsync(tools, directory, logger).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();

            var runningPort = await FindRunningServerAsync(directory, cancellationToken).ConfigureAwait(false);
            var port = runningPort ?? await StartServerAsync(tools, directory, cancellationToken).ConfigureAwait(false);
            var clientId = ClientRegistry.Register(directory + ".clients");

            var instance = new EmbeddedPostgres(tools, logger, directory, port, startedServer: runningPort is null, clientId);
            LiveInstances.TryAdd(instance, 0);
            EnsureExitHandlers();

            if (instance.StartedServer)
                logger.LogInformation("Started embedded PostgreSQL on 127.0.0.1:{Port} (data: {DataDirectory})", port, directory);
            else
                logger.LogInformation("Using embedded PostgreSQL already running on 127.0.0.1:{Port} (data: {DataDirectory})", port, directory);
            return instance;
        }
    }

    /// <summary>
    /// Releases this instance's use of the server; the server is stopped when no live instance in any process
    /// uses it any more. Calling it again does nothing.
    /// </summary>
    /// <exception cref="ChatStoreConfigurationException">pg_ctl could not stop a server that is still running.</exception>
    public async ValueTask DisposeAsync() => await ReleaseAsync(LockTimeout).ConfigureAwait(false);

    async Task ReleaseAsync(TimeSpan lockTimeout)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        LiveInstances.TryRemove(this, out _);

        // Leaving is safe without the lock; the decision to stop is not.
        ClientRegistry.Unregister(RegistryDirectory, _clientId);
        using (await DataDirectoryLock.AcquireAsync(DataDirectory + ".lock", lockTimeout, CancellationToken.None).ConfigureAwait(false))
        {
            var remaining = ClientRegistry.PruneAndCount(RegistryDirectory);
            if (remaining > 0)
            {
                _logger.LogDebug("Embedded PostgreSQL (data: {DataDirectory}) stays up for {Count} other user(s)", DataDirectory, remaining);
                return;
            }
            if (!File.Exists(Path.Combine(DataDirectory, PidFileName))) return;

            var result = await _tools.RunAsync("pg_ctl", ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "-s"]).ConfigureAwait(false);
            if (result.ExitCode != 0)
            {
                // A postmaster.pid left by a server that crashed cannot be stopped, and need not be.
                if (await FindRunningServerAsync(DataDirectory, CancellationToken.None).ConfigureAwait(false) is null)
                {
                    _logger.LogWarning("Embedded PostgreSQL (data: {DataDirectory}) was not running any more", DataDirectory);
                    return;
                }
                throw ToolFailure("pg_ctl stop", DataDirectory, result, LogFile, logOffset: null);
            }
            _logger.LogInformation("Stopped embedded PostgreSQL (data: {DataDirectory})", DataDirectory);
        }
    }

    static async Task CreateParentDirectoriesAsync(string directory)
    {
        var parent = Path.GetDirectoryName(directory);
        if (parent is null) return;
        var missing = new List<string>();
        for (var d = parent; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d)) missing.Add(d);
        Directory.CreateDirectory(parent);

        // So that the postgres user can reach the data directory whatever this process's umask.
        if (PostgresTools.RunAsPostgresUser)
            for (var i = missing.Count - 1; i >= 0; i--)
                await PostgresTools.ChownToPostgresAsync(missing[i]).ConfigureAwait(false);
    }

    static async Task InitializeClusterAsync(PostgresTools tools, string directory, ILogger logger)
    {
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
            else Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        if (PostgresTools.RunAsPostgresUser)
            await PostgresTools.ChownToPostgresAsync(directory).ConfigureAwait(false);

        var result = await tools.RunAsync("initdb", ["-D", directory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"]).ConfigureAwait(false);
        if (result.ExitCode != 0) throw ToolFailure("initdb", directory, result, logFile: null, logOffset: null);
        logger.LogInformation("Created embedded PostgreSQL cluster in {DataDirectory}", directory);
    }

    /// <summary>
    /// The port of the server running on <paramref name="directory"/>, or null. A postmaster.pid is trusted only
    /// when a server answers on its port and reads back the same postmaster.pid from its own data directory, so
    /// a stale file whose port another server has since taken is not mistaken for ours.
    /// </summary>
    static async Task<int?> FindRunningServerAsync(string directory, CancellationToken cancellationToken)
    {
        string[] lines;
        try
        {
            lines = await File.ReadAllLinesAsync(Path.Combine(directory, PidFileName), cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        // postmaster.pid: pid, data directory, start time, port, socket directory, listen address, shmem key, status.
        if (lines.Length < 4 || !int.TryParse(lines[3].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is <= 0 or > 65535)
            return null;

        try
        {
            await using var connection = new NpgsqlConnection(ConnectionStringFor(port, probe: true));
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT pg_read_file('postmaster.pid')", connection);
            var served = (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string ?? "").Split('\n');
            return served.Length >= 3 && served.Take(3).SequenceEqual(lines.Take(3)) ? port : null;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return null;
        }
    }

    static async Task<int> StartServerAsync(PostgresTools tools, string directory, CancellationToken cancellationToken)
    {
        var logFile = Path.Combine(directory, LogFileName);
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var logOffset = File.Exists(logFile) ? new FileInfo(logFile).Length : 0;
            var result = await tools.RunAsync("pg_ctl",
                ["start", "-D", directory, "-l", logFile, "-w", "-t", "120", "-s", "-o", ServerOptions(directory, port)]).ConfigureAwait(false);
            if (result.ExitCode == 0) return port;

            // Another program may take the port between our probe and the server's bind, and the children of
            // a server that was killed may hold its shared memory for a moment: both pass on retry.
            var log = ReadLog(logFile, logOffset);
            var transient = log.Contains("could not bind", StringComparison.Ordinal)
                || log.Contains("could not create any TCP/IP sockets", StringComparison.Ordinal)
                || log.Contains("pre-existing shared memory block", StringComparison.Ordinal);
            if (!transient || attempt == 5) throw ToolFailure("pg_ctl start", directory, result, logFile, logOffset);
            await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The options pg_ctl passes to postgres through <c>/bin/sh</c>, hence the quoting.</summary>
    static string ServerOptions(string directory, int port)
    {
        // A Unix socket path must fit in sockaddr_un (107 bytes); deeper directories get TCP only.
        var socketDirectory = Encoding.UTF8.GetByteCount(directory) + "/.s.PGSQL.65535".Length <= 107 ? directory : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"-c listen_addresses=127.0.0.1 -p {port} -k {ShellQuote(socketDirectory)} -c max_connections=200");
    }

    static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    static string ConnectionStringFor(int port, bool probe)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "postgres",
            Database = "postgres",
        };
        if (probe)
        {
            builder.Pooling = false;
            builder.Timeout = 5;
            builder.CommandTimeout = 5;
        }
        return builder.ConnectionString;
    }

    static int? ReadClusterVersion(string directory)
    {
        try
        {
            return int.TryParse(File.ReadAllText(Path.Combine(directory, "PG_VERSION")).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
                ? version
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    static string BinDirectoryVariableHint(string? binDirectory)
    {
        if (binDirectory is not null) return $" ({binDirectory} does not hold them.)";
        var fromEnvironment = Environment.GetEnvironmentVariable(PostgresTools.BinDirectoryVariable);
        return string.IsNullOrWhiteSpace(fromEnvironment)
            ? ""
            : $" ({PostgresTools.BinDirectoryVariable} is set to {fromEnvironment}, which does not hold them.)";
    }

    static string ReadLog(string logFile, long offset)
    {
        try
        {
            using var stream = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    static ChatStoreConfigurationException ToolFailure(string what, string directory, ToolResult result, string? logFile, long? logOffset)
    {
        var message = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"{what} failed (exit code {result.ExitCode}) for the embedded PostgreSQL in {directory}."));
        var output = PostgresTools.Tail(result.StandardError.Trim().Length > 0 ? result.StandardError : result.StandardOutput, 10);
        if (output.Length > 0) message.Append('\n').Append(output);
        if (logFile is not null)
        {
            message.Append("\nServer log: ").Append(logFile);
            var tail = PostgresTools.Tail(ReadLog(logFile, logOffset ?? 0), 15);
            if (tail.Length > 0) message.Append(", ending:\n").Append(tail);
        }
        if (PostgresTools.RunAsPostgresUser)
            message.Append("\nChatStore runs as root, so PostgreSQL runs as the postgres user: that user must own the data directory and be able to search (x) every directory above it.");
        return new ChatStoreConfigurationException(message.ToString());
    }

    static void EnsureExitHandlers()
    {
        if (Interlocked.Exchange(ref s_exitHandlersRegistered, 1) != 0) return;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ReleaseAllAtExit();
        if (OperatingSystem.IsBrowser() || OperatingSystem.IsWasi() || OperatingSystem.IsAndroid() || OperatingSystem.IsIOS() || OperatingSystem.IsTvOS())
            return;
        Console.CancelKeyPress += OnCancelKeyPress;
        try
        {
            // Since .NET 10 the runtime no longer turns SIGTERM (docker stop, systemd, kill) into ProcessExit.
            s_terminateRegistration = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnTerminate);
        }
        catch (PlatformNotSupportedException)
        {
            // ProcessExit and Ctrl+C remain.
        }
    }

    // A handler that ran before ours and cancelled the termination (a host shutting down gracefully) keeps the
    // process, and the server, going; ProcessExit releases the server when the process ends. Otherwise the
    // process ends right after the handlers, so release now.
    static void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        if (!e.Cancel) ReleaseAllAtExit();
    }

    static void OnTerminate(PosixSignalContext context)
    {
        if (!context.Cancel) ReleaseAllAtExit();
    }

    static void ReleaseAllAtExit()
    {
        foreach (var instance in LiveInstances.Keys)
        {
            try
            {
                instance.ReleaseAsync(ExitLockTimeout).GetAwaiter().GetResult();
            }
#pragma warning disable CA1031 // The process is ending: a failure must not stop the other instances' release.
            catch (Exception e)
#pragma warning restore CA1031
            {
                try
                {
                    instance._logger.LogWarning(e, "Could not release embedded PostgreSQL (data: {DataDirectory}) at process exit", instance.DataDirectory);
                }
                catch (ObjectDisposedException)
                {
                    // The logging provider has already shut down.
                }
            }
        }
    }
}
