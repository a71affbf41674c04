using System.CommandLine;
using ChatStore.Users;

namespace ChatStore.Cli.Commands;

/// <summary><c>chatstore users list|show|find</c>: a tenant's users (operator work, read only).</summary>
internal static class UsersCommand
{
    public static Command Build() => CliOutput.Group("users", "List, show and find a tenant's users", List(), Show(), Find());

    static Option<Guid> Tenant() => new("--tenant") { Description = "The tenant id", Required = true };

    static void Print(User u) => CliOutput.Record(
        ("id", u.Id), ("tenant", u.TenantId), ("external id", u.ExternalId), ("email", u.Email), ("name", u.Name), ("role", u.Role),
        ("sso", u.SsoProvider is null ? null : $"{u.SsoProvider}:{u.SsoId}"), ("info", u.Info), ("last login", u.LastLoginAt),
        ("created", u.CreatedAt), ("updated", u.UpdatedAt), ("deleted", u.DeletedAt));

    static Command List()
    {
        var tenant = Tenant();
        var role = new Option<string?>("--role") { Description = "Only users with this role" };
        var limit = new Option<int>("--limit") { Description = "Most users to list", DefaultValueFactory = _ => 100 };
        var json = CliOutput.JsonOption();
        var command = new Command("list", "List a tenant's users, newest first") { tenant, role, limit, json };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var users = client.ForTenant(parse.GetValue(tenant)).Users;
            var list = await CliOutput.CollectAsync(parse.GetValue(limit), (n, cursor) => users.ListAsync(n, cursor, parse.GetValue(role), ct));
            if (parse.GetValue(json))
                CliOutput.Json(list);
            else
                CliOutput.Table(list, ("Id", u => u.Id), ("Email", u => u.Email), ("Name", u => u.Name), ("Role", u => u.Role),
                    ("External id", u => u.ExternalId), ("Created", u => u.CreatedAt));
            return 0;
        });
        return command;
    }

    static Command Show()
    {
        var tenant = Tenant();
        var id = new Argument<Guid>("id") { Description = "The user id" };
        var json = CliOutput.JsonOption();
        var command = new Command("show", "Show one user") { tenant, id, json };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var user = await client.ForTenant(parse.GetValue(tenant)).Users.GetAsync(parse.GetValue(id), ct);
            if (parse.GetValue(json)) CliOutput.Json(user); else Print(user);
            return 0;
        });
        return command;
    }

    static Command Find()
    {
        var tenant = Tenant();
        var email = new Option<string?>("--email") { Description = "The user's email (case-insensitive)" };
        var externalId = new Option<string?>("--external-id") { Description = "The app's own id for the user" };
        var json = CliOutput.JsonOption();
        var command = new Command("find", "Find a user by email or external id") { tenant, email, externalId, json };
        command.Validators.Add(result =>
        {
            if ((result.GetResult(email) is null) == (result.GetResult(externalId) is null))
                result.AddError("Give exactly one of --email or --external-id.");
        });
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var users = client.ForTenant(parse.GetValue(tenant)).Users;
            var user = parse.GetValue(email) is { } e
                ? await users.GetByEmailAsync(e, ct)
                : await users.GetByExternalIdAsync(parse.GetValue(externalId)!, ct);
            if (parse.GetValue(json)) CliOutput.Json(user); else Print(user);
            return 0;
        });
        return command;
    }
}
