namespace ChatStore.Tests.Cli;

/// <summary>Secrets from files (<c>DATABASE_URL_FILE</c>, <c>CHATSTORE_SERVER__OPERATORKEY_FILE</c>) as the CLI's user sets them.</summary>
public sealed class SecretFileCliTests : IDisposable
{
    readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    string SecretFile(string text) => _files.Write(text, "chatstore-secret");

    [Fact]
    public async Task Db_status_connects_with_the_url_in_DATABASE_URL_FILE()
    {
        await TestStore.ClientAsync();
        var result = await CliProcess.RunAsync(["db", "status"], new Dictionary<string, string?> { ["DATABASE_URL_FILE"] = SecretFile(TestStore.ConnectionString + "\n") });

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("PostgreSQL", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DATABASE_URL_and_its_FILE_variant_both_set_fail_with_a_message_naming_both()
    {
        var result = await CliProcess.RunAsync(["db", "status"], new Dictionary<string, string?>
        {
            ["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/none",
            ["DATABASE_URL_FILE"] = SecretFile("postgres://nobody@127.0.0.1:1/none\n"),
        });

        Assert.Equal(ChatStore.Cli.Commands.ExitCodes.Configuration, result.ExitCode);
        Assert.Contains("Both DATABASE_URL and DATABASE_URL_FILE are set", result.Out + result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_takes_its_operator_key_from_CHATSTORE_SERVER__OPERATORKEY_FILE()
    {
        await TestStore.ClientAsync();
        using var serve = CliProcess.Start(["serve", "--urls", "http://127.0.0.1:0", "--database-url", TestStore.ConnectionString],
            new Dictionary<string, string?> { ["CHATSTORE_SERVER__OPERATORKEY_FILE"] = SecretFile("cs_op_from_a_secret_file\n") });
        try
        {
            // The host's log lines share standard output, so read up to the line printed after the key.
            var output = new System.Text.StringBuilder();
            string? line;
            do
                output.AppendLine(line = await serve.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(2)));
            while (line is not null && !line.StartsWith("Press Ctrl+C to stop", StringComparison.Ordinal));
            Assert.Contains("cs_op_from_a_secret_file", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            serve.Kill(entireProcessTree: true);
            await serve.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Serve_refuses_an_operator_key_set_both_plainly_and_as_a_file()
    {
        var result = await CliProcess.RunAsync(["serve", "--urls", "http://127.0.0.1:0", "--database-url", "postgres://nobody@127.0.0.1:1/none"], new Dictionary<string, string?>
        {
            ["CHATSTORE_SERVER__OPERATORKEY"] = "cs_op_plain",
            ["CHATSTORE_SERVER__OPERATORKEY_FILE"] = SecretFile("cs_op_file\n"),
        });

        Assert.Equal(ChatStore.Cli.Commands.ExitCodes.Configuration, result.ExitCode);
        Assert.Contains("Both CHATSTORE_SERVER__OPERATORKEY and CHATSTORE_SERVER__OPERATORKEY_FILE are set", result.Out + result.Err, StringComparison.Ordinal);
    }
}
