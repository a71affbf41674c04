using ChatStore.Schema;
using Npgsql;

namespace ChatStore.Tests.Schema;

/// <summary>A fresh database per test: schema work needs isolation from every other test.</summary>
public abstract class SchemaTestBase : IAsyncLifetime
{
    protected string ConnectionString { get; private set; } = "";

    protected NpgsqlDataSource DataSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ConnectionString = await TestDatabase.CreateDatabaseAsync("schema");
        DataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public async Task DisposeAsync() => await DataSource.DisposeAsync();

    protected Migrator NewMigrator(string schema = "public", IEnumerable<MigrationSource>? appSources = null, NpgsqlDataSource? dataSource = null) =>
        new(dataSource ?? DataSource, schema, "chatstore_app", appSources);

    protected async Task<T> ScalarAsync<T>(string sql, params object[] args)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        foreach (var a in args) cmd.Parameters.Add(new() { Value = a });
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    protected async Task ExecuteAsync(string sql)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>pg_dump --schema-only of one schema, from the server's own pg_dump.</summary>
    protected async Task<string> DumpSchemaAsync(string schema)
    {
        var b = new NpgsqlConnectionStringBuilder(ConnectionString);
        var bin = Environment.GetEnvironmentVariable("CHATSTORE_PG_BIN") ?? "/usr/lib/postgresql/15/bin";
        var psi = new System.Diagnostics.ProcessStartInfo(Path.Combine(bin, "pg_dump"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "--schema-only", "--no-owner", $"--schema={schema}", "-h", b.Host!, "-p", b.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", b.Username!, b.Database! })
            psi.ArgumentList.Add(arg);
        using var process = System.Diagnostics.Process.Start(psi)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, error);
        // pg_dump 15.14+ brackets the dump with \restrict / \unrestrict lines carrying a random key.
        return string.Join('\n', output.Split('\n').Where(l => !l.StartsWith("\\restrict", StringComparison.Ordinal) && !l.StartsWith("\\unrestrict", StringComparison.Ordinal)));
    }
}
