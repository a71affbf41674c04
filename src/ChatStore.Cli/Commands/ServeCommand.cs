using System.CommandLine;
using ChatStore.Connection;
using ChatStore.DependencyInjection;
using ChatStore.Server.Hosting;
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
        var demo = new Option<bool>("--demo") { Description = "Print a demo tenant with a little data, its API key and the operator key; on the embedded default the same ones every start (kept in the data directory)" };
        var resetDemo = new Option<bool>("--reset-demo") { Description = "With --demo: replace the kept demo tenant, API key and operator key with new ones" };
        var migrate = new Option<bool>("--init") { Description = "Run `db init` before serving (default: true)", DefaultValueFactory = _ => true };
        var command = new Command("serve", "Run the HTTP service (/v1, OpenAPI at /openapi/v1.json, the API reference at /docs, the console at /console)") { urls, operatorKey, demo, resetDemo, migrate };
        command.SetAction((parse, cancellationToken) => CliAction.RunAsync(parse, async settings =>
        {
            var demoFile = parse.GetValue(demo) && settings.ConnectionString is null ? Path.Combine(settings.EmbeddedDataDirectory, DemoCredentials.FileName) : null;
            var savedDemo = parse.GetValue(resetDemo) ? null : DemoCredentials.Load(demoFile);
            var key = parse.GetValue(operatorKey)
                ?? SecretVariable.Read(ServerOptions.OperatorKeyVariable)
                ?? savedDemo?.OperatorKey
                ?? DemoCredentials.NewOperatorKey();
            var app = ChatStoreServer.Build([], settings, builder =>
            {
                builder.WebHost.UseUrls(parse.GetValue(urls)!);
                builder.Configuration["Server:OperatorKey"] = key;
            });
            var client = await app.Services.GetRequiredService<ChatStoreStartup>().GetClientAsync(cancellationToken);
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
            var url = app.Urls.First();
            AnsiConsole.MarkupLineInterpolated($"ChatStore is serving on [bold]{string.Join(", ", app.Urls)}[/] (OpenAPI: {url}/openapi/v1.json)");
            AnsiConsole.MarkupLineInterpolated($"Console:        [bold]{url}/console[/] (sign in with a key below)");
            AnsiConsole.MarkupLineInterpolated($"API reference:  [bold]{url}/docs[/]");
            AnsiConsole.MarkupLineInterpolated($"Operator key:   [bold]{key}[/]");
            if (parse.GetValue(demo))
            {
                var credentials = await DemoCredentials.EnsureAsync(client, demoFile, savedDemo, key, parse.GetValue(resetDemo), cancellationToken);
                AnsiConsole.MarkupLineInterpolated($"Demo tenant:    [bold]{credentials.TenantId}[/] (a user, a conversation, a memory, a document, usage)");
                AnsiConsole.MarkupLineInterpolated($"Tenant API key: [bold]{credentials.TenantApiKey}[/]");
                if (demoFile is not null)
                    AnsiConsole.MarkupLineInterpolated($"(kept in {demoFile}; --reset-demo makes new ones)");
                AnsiConsole.MarkupLineInterpolated($"Open {url}/console and sign in with the tenant API key to see the demo data.");
                AnsiConsole.MarkupLineInterpolated($"Try: curl -H 'Authorization: Bearer {credentials.TenantApiKey}' {url}/v1/users");
            }
            AnsiConsole.MarkupLine("Press Ctrl+C to stop.");
            await app.WaitForShutdownAsync(cancellationToken);
            await app.DisposeAsync();
            return 0;
        }));
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
