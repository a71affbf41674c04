using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ChatStore.Fault.Tests;

/// <summary>
/// A PostgreSQL cluster of the suite's own under a temporary directory, durable (fsync, synchronous_commit and
/// full_page_writes on), on 127.0.0.1 and a free port. <see cref="KillAsync"/> stops it the way a crash does
/// (<c>pg_ctl -m immediate</c>: no checkpoint, crash recovery at the next start).
/// </summary>
sealed class PgCluster : IAsyncDisposable
{
    readonly string _bin;
    readonly string _root;

    PgCluster(string bin, string root, int port)
    {
        _bin = bin;
        _root = root;
        Port = port;
    }

    public int Port { get; }

    string DataDirectory => Path.Combine(_root, "data");

    /// <summary>A superuser connection string to the database <paramref name="database"/>.</summary>
    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "postgres", Database = database, Pooling = false, Timeout = 5 }.ConnectionString;

    public static async Task<PgCluster> StartAsync()
    {
        var bin = Environment.GetEnvironmentVariable("CHATSTORE_PG_BIN")
            ?? throw new InvalidOperationException("CHATSTORE_PG_BIN is not set: run the fault suite through scripts/test-faults.sh.");
        var root = Directory.CreateTempSubdirectory("chatstore-faults.").FullName;
        if (Environment.IsPrivilegedProcess)
            await RunAsync("chown", "postgres:", root);
        var cluster = new PgCluster(bin, root, FreePort());
        await cluster.PgAsync("initdb", "-D", cluster.DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale");
        await cluster.RestartAsync();
        return cluster;
    }

    /// <summary>Starts the cluster and waits until it accepts connections (after crash recovery, if it was killed).</summary>
    public Task RestartAsync() => PgAsync("pg_ctl", "-D", DataDirectory, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60", "start", "-o",
        $"-c listen_addresses=127.0.0.1 -p {Port} -k {_root} -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c max_connections=200");

    /// <summary>Kills the server the way a crash does: every process at once, nothing flushed beyond what commits already made durable.</summary>
    public Task KillAsync() => PgAsync("pg_ctl", "-D", DataDirectory, "-m", "immediate", "stop");

    /// <summary>The server log's last lines, for a failure message.</summary>
    public string LogTail(int lines = 30)
    {
        var log = Path.Combine(_root, "server.log");
        return File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(lines)) : "(no server log)";
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }
        Directory.Delete(_root, recursive: true);
    }

    Task PgAsync(string tool, params string[] args) =>
        Environment.IsPrivilegedProcess
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args])
            : RunAsync(Path.Combine(_bin, tool), args);

    static async Task RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await stdout}{await stderr}");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
