using Npgsql;

namespace ChatStore.Tests;

/// <summary>The PostgreSQL server the tests run against, from CHATSTORE_TEST_DATABASE_URL (set by scripts/test.sh).</summary>
public static class TestDatabase
{
    /// <summary>A connection string for the server's maintenance database.</summary>
    public static string ServerConnectionString { get; } = Resolve();

    static string Resolve()
    {
        var url = Environment.GetEnvironmentVariable("CHATSTORE_TEST_DATABASE_URL")
            ?? throw new InvalidOperationException("CHATSTORE_TEST_DATABASE_URL is not set: run the tests through scripts/test.sh, which starts PostgreSQL.");
        var uri = new Uri(url);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port,
            Username = Uri.UnescapeDataString(uri.UserInfo.Split(':')[0]),
            Database = uri.AbsolutePath.TrimStart('/'),
            IncludeErrorDetail = true,
        };
        return builder.ConnectionString;
    }

    /// <summary>Creates a new, empty database with a unique name and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix = "t")
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 33)];
        await using (var conn = new NpgsqlConnection(ServerConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
    }
}
