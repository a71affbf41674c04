using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace ChatStore.Tests.Cli;

/// <summary><c>chatstore serve --demo</c> as a newcomer runs it (through scripts/run.sh): a child process, its output read.</summary>
public sealed partial class ServeCommandTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Serve_demo_prints_the_console_and_docs_urls_with_a_key_that_shows_the_seeded_demo_data()
    {
        var database = await TestDatabase.CreateDatabaseAsync("serve");
        var port = FreePort();
        var startInfo = new ProcessStartInfo(Embedded.ChildProcess.DotnetHost())
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var arg in new[] { "exec", typeof(ChatStore.Cli.ChatStoreCli).Assembly.Location, "serve", "--demo",
                     "--urls", $"http://127.0.0.1:{port}", "--operator-key", "serve-test-operator-key", "--database-url", database })
            startInfo.ArgumentList.Add(arg);
        startInfo.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(startInfo)!;
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        try
        {
            var output = new StringBuilder();
            while (await process.StandardOutput.ReadLineAsync().WaitAsync(Timeout) is { } line)
            {
                output.AppendLine(Ansi().Replace(line, ""));
                if (line.Contains("Press Ctrl+C to stop.", StringComparison.Ordinal)) break;
            }
            var text = output.ToString();
            lock (stderr) Assert.True(text.Contains("Press Ctrl+C to stop.", StringComparison.Ordinal), $"serve stopped early: {text}\n{stderr}");
            Assert.True(text.Contains($"Console:        http://127.0.0.1:{port}/console", StringComparison.Ordinal), text);
            Assert.True(text.Contains($"API reference:  http://127.0.0.1:{port}/docs", StringComparison.Ordinal), text);
            var key = TenantKey().Match(text);
            Assert.True(key.Success, text);

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/console")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/docs/")).StatusCode);
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Groups[1].Value);
            var conversations = await http.GetStringAsync("/console/api/tenant/conversations");
            Assert.Contains("Planning a trip to Lisbon", conversations, StringComparison.Ordinal);
            var users = await http.GetStringAsync("/console/api/tenant/users?q=ada");
            Assert.Contains("ada@example.com", users, StringComparison.Ordinal);
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex Ansi();

    [GeneratedRegex(@"Tenant API key: (cs_key_\S+)")]
    private static partial Regex TenantKey();

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
