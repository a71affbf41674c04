using ChatStore.Embedded;
using Npgsql;

namespace ChatStore.Tests.Embedded;

/// <summary>
/// A data directory two levels below a fresh temporary directory that does not exist yet, so that the
/// library creates (and, as root, hands over) the parents. Disposing stops any server left running on it
/// (a failed test's) and deletes everything, including the lock file and the client registry.
/// </summary>
sealed class TempDataDirectory : IAsyncDisposable
{
    public TempDataDirectory()
    {
        Root = Path.Combine(Path.GetTempPath(), $"chatstore-embedded-{Guid.NewGuid():N}");
        DataDirectory = Path.Combine(Root, "cluster", "data");
    }

    public string Root { get; }

    public string DataDirectory { get; }

    public string PidFile => Path.Combine(DataDirectory, "postmaster.pid");

    public static string BinDirectory =>
        EmbeddedPostgres.FindBinDirectory() ?? throw new InvalidOperationException("PostgreSQL is not installed: run scripts/setup.sh.");

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(PidFile))
            await new PostgresTools(BinDirectory).RunAsync("pg_ctl", ["stop", "-D", DataDirectory, "-m", "immediate", "-w"]);
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }

    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        // Unpooled: these tests stop servers under idle connections and may meet a reused port.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>True when nothing accepts connections with <paramref name="connectionString"/>.</summary>
    public static async Task<bool> RefusesConnectionsAsync(string connectionString)
    {
        var probe = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 3 }.ConnectionString;
        try
        {
            await using var connection = new NpgsqlConnection(probe);
            await connection.OpenAsync();
            return false;
        }
        catch (NpgsqlException)
        {
            return true;
        }
    }

    /// <summary>Waits until the process <paramref name="pid"/> (not a child of ours) has gone.</summary>
    public static async Task WaitForProcessToEndAsync(int pid)
    {
        for (var i = 0; i < 200 && Directory.Exists($"/proc/{pid}"); i++) await Task.Delay(50);
        Assert.False(Directory.Exists($"/proc/{pid}"), $"process {pid} is still running");
    }
}
