using System.Diagnostics;
using System.Text;
using ChatStore.Tests.Embedded;

namespace ChatStore.Tests.Cli;

/// <summary>What one run of the <c>chatstore</c> CLI printed and how it ended.</summary>
public sealed record CliResult(int ExitCode, string Out, string Err)
{
    /// <summary>Standard output and error together, for assertion messages.</summary>
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";

    /// <summary>Standard output's lines, without empty ones.</summary>
    public IReadOnlyList<string> Lines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// Runs the <c>chatstore</c> CLI as its user does: a child process (<c>dotnet exec ChatStore.Cli.dll</c>, built
/// next to the tests) with its output redirected, so it is not a terminal. The child gets none of this process's
/// ChatStore settings (DATABASE_URL, CHATSTORE_*, NO_COLOR) unless the test gives them.
/// </summary>
public static class CliProcess
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>Runs the CLI with <paramref name="args"/> and the extra <paramref name="environment"/> (a null value unsets).</summary>
    public static async Task<CliResult> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        using var process = Process.Start(StartInfo(args, environment))!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs the CLI against the shared test database.</summary>
    public static async Task<CliResult> RunOnTestStoreAsync(params string[] args)
    {
        await TestStore.ClientAsync();
        return await RunAsync([.. args, "--database-url", TestStore.ConnectionString], null);
    }

    /// <summary>Starts the CLI and leaves it running (for <c>serve</c>); the caller reads its output and kills it.</summary>
    public static Process Start(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var process = Process.Start(StartInfo(args, environment))!;
        process.StandardInput.Close();
        return process;
    }

    static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment)
    {
        var startInfo = new ProcessStartInfo(ChildProcess.DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("exec");
        startInfo.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ChatStore.Cli.dll"));
        foreach (var arg in args)
            startInfo.ArgumentList.Add(arg);
        foreach (var name in startInfo.Environment.Keys.ToList())
        {
            if (name.StartsWith("CHATSTORE_", StringComparison.Ordinal) || name.StartsWith("DATABASE_", StringComparison.Ordinal) || name == "NO_COLOR")
                startInfo.Environment.Remove(name);
        }
        if (Environment.GetEnvironmentVariable("CHATSTORE_PG_BIN") is { } bin)
            startInfo.Environment["CHATSTORE_PG_BIN"] = bin;
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
                startInfo.Environment.Remove(name);
            else
                startInfo.Environment[name] = value;
        }
        return startInfo;
    }
}
