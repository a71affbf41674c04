using System.Diagnostics;
using System.Globalization;

namespace ChatStore.Embedded;

/// <summary>
/// Finds and runs PostgreSQL's server tools (initdb, pg_ctl). When this process is root the
/// tools run as the <c>postgres</c> user through <c>runuser</c>, because initdb and pg_ctl
/// refuse to run as root.
/// </summary>
internal sealed class PostgresTools(string binDirectory)
{
    internal const string BinDirectoryVariable = "CHATSTORE_PG_BIN";
    const string DebianRoot = "/usr/lib/postgresql";
    const int MinimumMajorVersion = 15;

    /// <summary>The directory holding initdb and pg_ctl.</summary>
    public string BinDirectory { get; } = binDirectory;

    /// <summary>True when the tools must run as the postgres user (this process is root on Unix).</summary>
    public static bool RunAsPostgresUser { get; } = !OperatingSystem.IsWindows() && Environment.IsPrivilegedProcess;

    /// <summary>True when <paramref name="directory"/> holds both initdb and pg_ctl.</summary>
    public static bool IsBinDirectory(string directory) =>
        File.Exists(Path.Combine(directory, Executable("initdb"))) && File.Exists(Path.Combine(directory, Executable("pg_ctl")));

    /// <summary>
    /// CHATSTORE_PG_BIN when set (and only it: an explicit setting is never second-guessed), else the
    /// newest <c>/usr/lib/postgresql/N/bin</c> with N ≥ 15 (preferring <paramref name="preferredMajorVersion"/>,
    /// the version an existing cluster was created with), else <c>pg_config --bindir</c>.
    /// </summary>
    public static string? Find(int? preferredMajorVersion)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(BinDirectoryVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return IsBinDirectory(fromEnvironment) ? Path.GetFullPath(fromEnvironment) : null;

        if (Directory.Exists(DebianRoot))
        {
            var installed = Directory.EnumerateDirectories(DebianRoot)
                .Select(d => (Version: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0, Bin: Path.Combine(d, "bin")))
                .Where(c => c.Version >= MinimumMajorVersion && IsBinDirectory(c.Bin))
                .OrderByDescending(c => c.Version)
                .ToList();
            var preferred = installed.FirstOrDefault(c => c.Version == preferredMajorVersion);
            if (preferred.Bin is not null) return preferred.Bin;
            if (installed.Count > 0) return installed[0].Bin;
        }

        return FromPgConfig();
    }

    static string? FromPgConfig()
    {
        var pgConfig = FindOnPath(Executable("pg_config"));
        if (pgConfig is null) return null;
        try
        {
            using var process = Process.Start(new ProcessStartInfo(pgConfig, "--bindir")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null) return null;
            var stderr = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd().Trim();
            if (!process.WaitForExit(10_000) || process.ExitCode != 0) return null;
            _ = stderr.Result;
            return output.Length > 0 && IsBinDirectory(output) ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    static string? FindOnPath(string file) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, file))
            .FirstOrDefault(File.Exists);

    static string Executable(string name) => OperatingSystem.IsWindows() ? name + ".exe" : name;

    /// <summary>
    /// Runs <paramref name="tool"/> from the bin directory (as postgres when root) and collects its output.
    /// Deliberately not cancellable once started: killing pg_ctl half-way through a start or stop
    /// would leave the cluster in a state the next caller has to untangle.
    /// </summary>
    public Task<ToolResult> RunAsync(string tool, IReadOnlyList<string> arguments) =>
        RunProcessAsync(RunAsPostgresUser ? Runuser() : Path.Combine(BinDirectory, Executable(tool)),
            RunAsPostgresUser ? ["-u", "postgres", "--", Path.Combine(BinDirectory, Executable(tool)), .. arguments] : arguments);

    /// <summary>Gives <paramref name="path"/> to the postgres user (only meaningful when root).</summary>
    public static async Task ChownToPostgresAsync(string path)
    {
        var result = await RunProcessAsync("chown", ["postgres:", path]).ConfigureAwait(false);
        if (result.ExitCode != 0)
            throw new ChatStoreConfigurationException(
                $"Could not give {path} to the postgres user (chown exited with {result.ExitCode}: {Tail(result.StandardError, 5)}). " +
                "The embedded PostgreSQL runs as the postgres user when ChatStore runs as root; create that user (scripts/setup.sh installs PostgreSQL, which does) or run ChatStore as a regular user.");
    }

    /// <summary>
    /// The first of <paramref name="directory"/> and the directories above it that exist but that the postgres
    /// user cannot enter (search, x), or null when it can reach <paramref name="directory"/> (or its nearest
    /// existing ancestor). One process, run as the postgres user, answers for the whole path.
    /// </summary>
    public static async Task<string?> FirstUnreachableByPostgresAsync(string directory)
    {
        var existing = new List<string>();
        for (var d = directory; d is not null; d = Path.GetDirectoryName(d))
            if (Directory.Exists(d)) existing.Add(d);
        existing.Reverse();
        var result = await RunProcessAsync(Runuser(),
            ["-u", "postgres", "--", "/bin/sh", "-c", "for d; do test -x \"$d\" || { printf '%s' \"$d\"; exit 1; }; done", "sh", .. existing]).ConfigureAwait(false);
        return result.ExitCode == 0 ? null : result.StandardOutput.Length > 0 ? result.StandardOutput : directory;
    }

    static string Runuser() =>
        new[] { "/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser" }.FirstOrDefault(File.Exists) ?? "runuser";

    static async Task<ToolResult> RunProcessAsync(string fileName, IReadOnlyList<string> arguments)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // The postgres user may not be able to enter this process's working directory (e.g. /root).
            WorkingDirectory = Path.GetPathRoot(Path.GetTempPath()) ?? "/",
        };
        foreach (var argument in arguments) startInfo.ArgumentList.Add(argument);

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new ChatStoreConfigurationException($"Could not start {fileName}.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ChatStoreConfigurationException($"Could not run {fileName}: {e.Message}", e);
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().ConfigureAwait(false);
            return new ToolResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
    }

    /// <summary>The last <paramref name="lines"/> non-empty lines of <paramref name="text"/>, joined by newlines.</summary>
    public static string Tail(string text, int lines) =>
        string.Join('\n', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(lines));
}

/// <summary>What a tool run produced.</summary>
internal readonly record struct ToolResult(int ExitCode, string StandardOutput, string StandardError);
