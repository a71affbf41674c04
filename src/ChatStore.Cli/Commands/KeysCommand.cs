using System.CommandLine;
using ChatStore.Tenants;
using Spectre.Console;

namespace ChatStore.Cli.Commands;

/// <summary><c>chatstore keys create|list|revoke</c>: a tenant's API keys (operator work).</summary>
internal static class KeysCommand
{
    public static Command Build() => CliOutput.Group("keys", "Create, list and revoke a tenant's API keys", Create(), List(), Revoke());

    static Option<Guid> Tenant() => new("--tenant") { Description = "The tenant id", Required = true };

    static Command Create()
    {
        var tenant = Tenant();
        var name = new Option<string>("--name") { Description = "What the key is for", Required = true };
        var scopes = new Option<string[]>("--scope") { Description = "A scope of the key (repeatable; default: every scope)" };
        var json = CliOutput.JsonOption();
        var command = new Command("create", "Create an API key; its secret is printed once and never stored") { tenant, name, scopes, json };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var given = parse.GetValue(scopes);
            var created = await client.Tenants.CreateApiKeyAsync(parse.GetValue(tenant), parse.GetValue(name)!, given is { Length: > 0 } ? given : null, cancellationToken: ct);
            if (parse.GetValue(json))
            {
                CliOutput.Json(new { created.Key.Id, created.Key.TenantId, created.Key.Name, created.Key.Prefix, created.Key.Scopes, created.Key.CreatedAt, created.Secret });
                return 0;
            }
            CliOutput.Record(("id", created.Key.Id), ("tenant", created.Key.TenantId), ("name", created.Key.Name), ("scopes", created.Key.Scopes), ("secret", created.Secret));
            AnsiConsole.MarkupLine("[yellow]Store the secret now:[/] only its hash is kept, so it cannot be shown again.");
            return 0;
        });
        return command;
    }

    static Command List()
    {
        var tenant = Tenant();
        var json = CliOutput.JsonOption();
        var command = new Command("list", "List a tenant's API keys (never their secrets)") { tenant, json };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var keys = await client.Tenants.ListApiKeysAsync(parse.GetValue(tenant), ct);
            if (parse.GetValue(json))
                CliOutput.Json(keys);
            else
                CliOutput.Table(keys, ("Id", k => k.Id), ("Name", k => k.Name), ("Prefix", k => k.Prefix), ("Scopes", k => k.Scopes),
                    ("Created", k => k.CreatedAt), ("Last used", k => k.LastUsedAt), ("Revoked", k => k.RevokedAt));
            return 0;
        });
        return command;
    }

    static Command Revoke()
    {
        var tenant = Tenant();
        var id = new Argument<Guid>("id") { Description = "The key id (from keys list)" };
        var json = CliOutput.JsonOption();
        var command = new Command("revoke", "Revoke an API key: it stops working at once") { tenant, id, json };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            await client.Tenants.RevokeApiKeyAsync(parse.GetValue(tenant), parse.GetValue(id), ct);
            if (parse.GetValue(json))
                CliOutput.Json(new { id = parse.GetValue(id), revoked = true });
            else
                AnsiConsole.MarkupLineInterpolated($"Revoked key {parse.GetValue(id)}.");
            return 0;
        });
        return command;
    }
}
