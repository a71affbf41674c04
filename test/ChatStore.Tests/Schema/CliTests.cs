using System.Diagnostics;
using Npgsql;

namespace ChatStore.Tests.Schema;

/// <summary>The <c>chatstore</c> CLI as an operator meets it: a child process, its output and its exit code.</summary>
public sealed class CliTests : SchemaTestBase
{
    [Fact]
    public async Task The_cli_refuses_db_distribute_on_plain_PostgreSQL_with_exit_code_3_and_says_why()
    {
        await NewMigrator().InitAsync();

        var (exitCode, output) = await RunCliAsync(ConnectionString, "db", "distribute");

        Assert.True(exitCode == 3, $"exit code {exitCode}: {output}");
        Assert.Contains("plain PostgreSQL", output, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", output, StringComparison.Ordinal);
        var (statusExit, status) = await RunCliAsync(ConnectionString, "db", "status");
        Assert.True(statusExit == 0, status);
        Assert.Contains("Citus: not installed", status, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cli_error_shows_its_message_with_the_password_masked()
    {
        await NewMigrator().InitAsync();
        var url = new NpgsqlConnectionStringBuilder(ConnectionString) { Password = "Zq9-SecretPw" }.ConnectionString;

        var (exitCode, output) = await RunCliAsync(url, "db", "migrate", "--to", "9999");

        Assert.True(exitCode == ChatStore.Cli.Commands.ExitCodes.Usage, $"exit code {exitCode}: {output}");
        Assert.Contains("has no migration with version 9999", output, StringComparison.Ordinal);
        Assert.DoesNotContain("not a valid connection string", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Zq9-SecretPw", output, StringComparison.Ordinal);
    }

    /// <summary>Runs the <c>chatstore</c> CLI (built next to the tests) as a child process against this test's database.</summary>
    async Task<(int ExitCode, string Output)> RunCliAsync(string databaseUrl, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ChatStore.Cli.dll"));
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment["DATABASE_URL"] = databaseUrl;
        start.Environment["NO_COLOR"] = "1";
        start.Environment["COLUMNS"] = "200";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        return (process.ExitCode, await stdout + await stderr);
    }
}
