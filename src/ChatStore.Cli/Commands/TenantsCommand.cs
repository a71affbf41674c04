using System.CommandLine;
using ChatStore.Tenants;

namespace ChatStore.Cli.Commands;

/// <summary><c>chatstore tenants create|list|show</c>: the tenants of the schema (operator work).</summary>
internal static class TenantsCommand
{
    public static Command Build() => CliOutput.Group("tenants", "Create, list and show tenants", Create(), List(), Show());

    internal static void Print(Tenant t) => CliOutput.Record(
        ("id", t.Id), ("name", t.Name), ("roles", t.Roles), ("default role", t.DefaultRole), ("search language", t.SearchLanguage),
        ("retention inactive days", t.RetentionInactiveDays), ("retention purge deleted days", t.RetentionPurgeDeletedDays),
        ("created", t.CreatedAt), ("updated", t.UpdatedAt));

    static Command Create()
    {
        var name = new Option<string>("--name") { Description = "The tenant's name", Required = true };
        var roles = new Option<string[]>("--role") { Description = "A role of the tenant's role set (repeatable; default: the built-in set)" };
        var language = new Option<string?>("--search-language") { Description = "Full-text search configuration, for example english or simple" };
        var json = CliOutput.JsonOption();
        var command = new Command("create", "Create a tenant") { name, roles, language, json };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var given = parse.GetValue(roles);
            var tenant = await client.Tenants.CreateAsync(new NewTenant
            {
                Name = parse.GetValue(name)!, Roles = given is { Length: > 0 } ? given : null, SearchLanguage = parse.GetValue(language),
            }, ct);
            if (parse.GetValue(json)) CliOutput.Json(tenant); else Print(tenant);
            return 0;
        });
        return command;
    }

    static Command List()
    {
        var limit = new Option<int>("--limit") { Description = "Most tenants to list", DefaultValueFactory = _ => 100 };
        var json = CliOutput.JsonOption();
        var command = new Command("list", "List tenants, oldest first") { limit, json };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var list = await CliOutput.CollectAsync(parse.GetValue(limit), (n, cursor) => client.Tenants.ListAsync(n, cursor, ct));
            if (parse.GetValue(json))
                CliOutput.Json(list);
            else
                CliOutput.Table(list, ("Id", t => t.Id), ("Name", t => t.Name), ("Roles", t => t.Roles), ("Created", t => t.CreatedAt));
            return 0;
        });
        return command;
    }

    static Command Show()
    {
        var id = new Argument<Guid>("id") { Description = "The tenant id" };
        var json = CliOutput.JsonOption();
        var command = new Command("show", "Show one tenant") { id, json };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var tenant = await client.Tenants.GetAsync(parse.GetValue(id), ct);
            if (parse.GetValue(json)) CliOutput.Json(tenant); else Print(tenant);
            return 0;
        });
        return command;
    }
}
