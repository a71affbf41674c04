using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;
using ChatStore.Embedded;
using Npgsql;

namespace ChatStore.Tests.Embedded;

/// <summary>
/// A second ChatStore process for the cross-process tests. The test assembly doubles as that process:
/// <c>dotnet exec ChatStore.Tests.dll</c> with <see cref="Variable"/> set runs <see cref="RunWhenChild"/>
/// (a module initializer, so it runs before the test SDK's empty generated <c>Main</c>), which starts an
/// <see cref="EmbeddedPostgres"/> on the given data directory, prints <c>started PORT STARTEDSERVER</c>, and
/// then obeys commands on stdin: <c>query</c>, <c>dispose</c>, <c>exit</c> (Environment.Exit without disposing).
/// In the test host the variable is unset and the initializer returns at once.
/// </summary>
sealed class ChildProcess : IAsyncDisposable
{
    const string Variable = "CHATSTORE_EMBEDDED_TEST_CHILD";
    static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(60);

    readonly Process _process;
    readonly StringBuilder _stderr = new();

    ChildProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public int Port { get; private set; }

    public bool StartedServer { get; private set; }

    public static async Task<ChildProcess> StartAsync(string dataDirectory)
    {
        var startInfo = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("exec");
        startInfo.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        startInfo.Environment[Variable] = dataDirectory;

        var child = new ChildProcess(Process.Start(startInfo)!);
        child._process.ErrorDataReceived += (_, e) => { lock (child._stderr) child._stderr.AppendLine(e.Data); };
        child._process.BeginErrorReadLine();
        var started = (await child.ReadLineAsync()).Split(' ');
        Assert.True(started is ["started", _, _], $"unexpected first line from the child: {string.Join(' ', started)}");
        child.Port = int.Parse(started[1]);
        child.StartedServer = bool.Parse(started[2]);
        return child;
    }

    /// <summary>Sends a command and returns the child's reply.</summary>
    public async Task<string> SendAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        return await ReadLineAsync();
    }

    /// <summary>Sends <c>exit</c>: the child calls Environment.Exit without disposing its instance.</summary>
    public async Task ExitWithoutDisposingAsync()
    {
        await _process.StandardInput.WriteLineAsync("exit");
        await _process.StandardInput.FlushAsync();
        await WaitForExitAsync();
    }

    /// <summary>Sends a Unix signal (INT, TERM, KILL) and waits for the child to end.</summary>
    public async Task SignalAsync(string signal)
    {
        using (var kill = Process.Start("kill", ["-s", signal, _process.Id.ToString()]))
            await kill.WaitForExitAsync();
        await WaitForExitAsync();
    }

    async Task WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(ReplyTimeout);
        // Buffered stderr lines arrive after the exit; the test only reads them when it fails.
    }

    async Task<string> ReadLineAsync()
    {
        var line = await _process.StandardOutput.ReadLineAsync().WaitAsync(ReplyTimeout);
        if (line is null)
        {
            await _process.WaitForExitAsync().WaitAsync(ReplyTimeout);
            lock (_stderr) Assert.Fail($"the child process ended (exit code {_process.ExitCode}): {_stderr}");
        }
        return line!;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    internal static string DotnetHost()
    {
        var fromCli = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromCli) && File.Exists(fromCli)) return fromCli;
        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The test assembly is also run as an executable, as the second process of the cross-process tests; see the class summary.")]
    internal static void RunWhenChild()
    {
        var dataDirectory = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(dataDirectory)) return;
        Environment.Exit(RunChild(dataDirectory));
    }

    // Synchronous on purpose: until the module initializer returns, code of this assembly must not run on
    // another thread (an async continuation here could wait for the initializer that is waiting for it).
    static int RunChild(string dataDirectory)
    {
        var embedded = EmbeddedPostgres.StartAsync(dataDirectory).GetAwaiter().GetResult();
        Console.WriteLine($"started {embedded.Port} {embedded.StartedServer}");
        while (Console.ReadLine() is { } command)
        {
            switch (command)
            {
                case "query":
                    try
                    {
                        using var connection = new NpgsqlConnection(embedded.ConnectionString);
                        connection.Open();
                        using var select = new NpgsqlCommand("SELECT 41 + 1", connection);
                        Console.WriteLine($"ok {select.ExecuteScalar()}");
                    }
                    catch (NpgsqlException e)
                    {
                        Console.WriteLine($"error {e.Message.ReplaceLineEndings(" ")}");
                    }
                    break;
                case "dispose":
                    embedded.DisposeAsync().AsTask().GetAwaiter().GetResult();
                    Console.WriteLine("disposed");
                    break;
                case "exit":
                    return 0;
                default:
                    Console.WriteLine($"unknown command {command}");
                    break;
            }
        }
        return 0;
    }
}
