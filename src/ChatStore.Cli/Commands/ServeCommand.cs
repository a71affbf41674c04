using System.CommandLine;
using System.Security.Cryptography;
using ChatStore.Connection;
using ChatStore.Server.Hosting;
using ChatStore.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Spectre.Console;

namespace ChatStore.Cli.Commands;

/// <summary><c>chatstore serve</c>: the HTTP service, on the embedded default unless DATABASE_URL is set.</summary>
internal static class ServeCommand
{
    public static Command Build()
    {
        var urls = new Option<string>("--urls") { Description = "Where to listen", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var operatorKey = new Option<string?>("--operator-key") { Description = "The operator key (default: CHATSTORE_SERVER__OPERATORKEY or the file CHATSTORE_SERVER__OPERATORKEY_FILE names, else a new random key, printed)" };
        var demo = new Option<bool>("--demo") { Description = "Create a demo tenant with an API key and print them" };
        var migrate = new Option<bool>("--init") { Description = "Run `db init` before serving (default: true)", DefaultValueFactory = _ => true };
        var command = new Command("serve", "Run the HTTP service (/v1, OpenAPI at /openapi/v1.json)") { urls, operatorKey, demo, migrate };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var settings = GlobalOptions.Settings(parse);
                var key = parse.GetValue(operatorKey)
                    ?? SecretVariable.Read(ServerOptions.OperatorKeyVariable)
                    ?? "cs_op_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
                var app = ChatStoreServer.Build([], settings, builder =>
                {
                    builder.WebHost.UseUrls(parse.GetValue(urls)!);
                    builder.Configuration["Server:OperatorKey"] = key;
                });
                var client = app.Services.GetRequiredService<ChatStoreClient>();
                if (parse.GetValue(migrate))
                {
                    try
                    {
                        var run = await client.Migrator.InitAsync(cancellationToken: cancellationToken);
                        AnsiConsole.MarkupLineInterpolated($"Schema [bold]{client.Schema}[/]: {(run.AlreadyInitialised ? "up to date" : $"{run.Applied.Count} migration(s) applied")}");
                    }
                    catch (ChatStorePermissionException)
                    {
                        if (!await UpToDateAsync(client, cancellationToken))
                            throw;
                    }
                }
                await app.StartAsync(cancellationToken);
                AnsiConsole.MarkupLineInterpolated($"ChatStore is serving on [bold]{string.Join(", ", app.Urls)}[/] (OpenAPI: {app.Urls.First()}/openapi/v1.json)");
                AnsiConsole.MarkupLineInterpolated($"Operator key:   [bold]{key}[/]");
                if (parse.GetValue(demo))
                {
                    var tenant = await client.Tenants.CreateAsync(new NewTenant { Name = $"Demo {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm}" }, cancellationToken);
                    var apiKey = await client.Tenants.CreateApiKeyAsync(tenant.Id, "demo", cancellationToken: cancellationToken);
                    AnsiConsole.MarkupLineInterpolated($"Demo tenant:    [bold]{tenant.Id}[/]");
                    AnsiConsole.MarkupLineInterpolated($"Tenant API key: [bold]{apiKey.Secret}[/]");
                    AnsiConsole.MarkupLineInterpolated($"Try: curl -H 'Authorization: Bearer {apiKey.Secret}' {app.Urls.First()}/v1/users");
                }
                AnsiConsole.MarkupLine("Press Ctrl+C to stop.");
                await app.WaitForShutdownAsync(cancellationToken);
                await app.DisposeAsync();
                return 0;
            }
            catch (ChatStoreException e)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return CliAction.Failed;
            }
        });
        return command;
    }

    // A least-privilege login (see `db grant`) cannot migrate; it may serve a schema the owner keeps up to date.
    static async Task<bool> UpToDateAsync(ChatStoreClient client, CancellationToken cancellationToken)
    {
        if (!(await client.Migrator.StatusAsync(cancellationToken)).UpToDate)
            return false;
        AnsiConsole.MarkupLineInterpolated($"Schema [bold]{client.Schema}[/]: up to date (this login is not its owner, so it does not migrate)");
        return true;
    }
}
