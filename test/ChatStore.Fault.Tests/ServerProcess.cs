using System.Diagnostics;
using System.Text;

namespace ChatStore.Fault.Tests;

/// <summary>
/// The real ChatStore service: <c>dotnet ChatStore.Cli.dll serve</c> (the path in CHATSTORE_FAULT_SERVER, built by
/// scripts/test-faults.sh) as a child process over <see cref="PgCluster"/>. <see cref="KillAsync"/> is SIGKILL: no
/// shutdown code runs.
/// </summary>
sealed class ServerProcess : IAsyncDisposable
{
    public const string OperatorKey = "fault-suite-operator-key-0123456789";

    /// <summary>The server's request timeout in the suite: an answer, 503 included, comes within it.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    readonly string _databaseUrl;
    readonly StringBuilder _output = new();
    Process? _process;

    public ServerProcess(string databaseUrl)
    {
        _databaseUrl = databaseUrl;
        Port = PgCluster.FreePort();
    }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    public int ProcessId => _process?.Id ?? 0;

    /// <summary>Starts the process and waits until <c>/healthz</c> answers.</summary>
    public async Task StartAsync()
    {
        var dll = Environment.GetEnvironmentVariable("CHATSTORE_FAULT_SERVER")
            ?? throw new InvalidOperationException("CHATSTORE_FAULT_SERVER is not set: run the fault suite through scripts/test-faults.sh.");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "exec", dll, "serve", "--urls", BaseAddress.ToString().TrimEnd('/'), "--operator-key", OperatorKey })
            start.ArgumentList.Add(a);
        start.Environment["DATABASE_URL"] = _databaseUrl;
        start.Environment["CHATSTORE_Server__RequestTimeout"] = RequestTimeout.ToString("c");
        start.Environment["CHATSTORE_Server__RateLimitPerSecond"] = "100000";
        start.Environment["CHATSTORE_Server__RateLimitBurst"] = "100000";
        start.Environment["NO_COLOR"] = "1";
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"The server exited with {_process.ExitCode} while starting:\n{Output}");
            try
            {
                if ((await http.GetAsync("/healthz")).IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
                throw new TimeoutException($"The server did not answer /healthz within 60 s:\n{Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL, and waits until the process is gone.</summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }
}
