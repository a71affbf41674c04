using System.Diagnostics;
using ChatStore.Tests.Embedded;

namespace ChatStore.Tests.Cli;

/// <summary><c>chatstore serve --demo</c> on the embedded default keeps its development credentials across starts.</summary>
public sealed class DemoCredentialsCliTests
{
    sealed record Printed(string Tenant, string ApiKey, string OperatorKey);

    /// <summary>Starts <c>serve --demo</c>, reads the credentials it prints, and stops it with Ctrl+C (SIGINT).</summary>
    static async Task<Printed> ServeAsync(string dataDirectory, params string[] extra)
    {
        using var serve = CliProcess.Start(["serve", "--demo", "--urls", "http://127.0.0.1:0", "--data-dir", dataDirectory, .. extra], null);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            string? line;
            do
            {
                line = await serve.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(3));
                foreach (var label in new[] { "Operator key:", "Demo tenant:", "Tenant API key:" })
                {
                    if (line?.StartsWith(label, StringComparison.Ordinal) == true)
                        values[label] = line[label.Length..].Trim();
                }
            }
            while (line is not null && !line.StartsWith("Press Ctrl+C to stop", StringComparison.Ordinal));
            if (line is null)
                Assert.Fail($"serve ended early: {await serve.StandardError.ReadToEndAsync()}");
        }
        finally
        {
            using (var interrupt = Process.Start("kill", ["-s", "INT", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await interrupt.WaitForExitAsync();
            try
            {
                await serve.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
            }
            catch (TimeoutException)
            {
                serve.Kill(entireProcessTree: true);
            }
        }
        return new Printed(values["Demo tenant:"], values["Tenant API key:"], values["Operator key:"]);
    }

    [Fact]
    public async Task Two_starts_print_the_same_demo_tenant_and_keys_and_reset_demo_gives_new_ones()
    {
        await using var directory = new TempDataDirectory();

        var first = await ServeAsync(directory.DataDirectory);
        var file = Path.Combine(directory.DataDirectory, "chatstore-demo.json");
        Assert.True(File.Exists(file));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var second = await ServeAsync(directory.DataDirectory);
        Assert.Equal(first, second);

        var reset = await ServeAsync(directory.DataDirectory, "--reset-demo");
        Assert.NotEqual(first.Tenant, reset.Tenant);
        Assert.NotEqual(first.ApiKey, reset.ApiKey);
        Assert.NotEqual(first.OperatorKey, reset.OperatorKey);
        Assert.Contains(reset.ApiKey, await File.ReadAllTextAsync(file), StringComparison.Ordinal);
    }
}
