using System.Text.Json;
using ChatStore.Connection;
using ChatStore.Users;

namespace ChatStore.Tests.Cli;

/// <summary><c>chatstore tenants|keys|users …</c> run as child processes against a database of their own.</summary>
public sealed class OperatorCliTests : IAsyncLifetime
{
    string _connectionString = "";
    ChatStoreClient _client = null!;

    public async Task InitializeAsync()
    {
        _connectionString = await TestDatabase.CreateDatabaseAsync("ops");
        _client = await ChatStoreClient.CreateAsync(new ChatStoreSettings { ConnectionString = _connectionString });
        await _client.Migrator.InitAsync();
    }

    public async Task DisposeAsync() => await _client.DisposeAsync();

    async Task<CliResult> Run(params string[] args)
    {
        var result = await CliProcess.RunAsync([.. args, "--database-url", _connectionString], null);
        Assert.DoesNotContain('\u001b', result.Out);
        return result;
    }

    async Task<JsonElement> Json(params string[] args)
    {
        var result = await Run([.. args, "--json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Out).RootElement;
    }

    [Fact]
    public async Task Tenants_are_created_listed_and_shown_as_json_and_as_plain_unwrapped_text()
    {
        var longName = "Tenant " + new string('x', 150);
        var created = await Json("tenants", "create", "--name", longName, "--role", "coach", "--role", "admin");
        var id = created.GetProperty("id").GetGuid();
        Assert.Equal(["coach", "admin"], created.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));

        var shown = await Json("tenants", "show", id.ToString());
        Assert.Equal(longName, shown.GetProperty("name").GetString());
        var listed = await Json("tenants", "list");
        Assert.Equal([id], listed.EnumerateArray().Select(t => t.GetProperty("id").GetGuid()));

        // Plain text into a pipe: no colour codes (checked in Run) and no wrapping at 80 columns.
        var table = await Run("tenants", "list");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains(table.Lines, l => l.Contains(id.ToString(), StringComparison.Ordinal) && l.Contains(longName, StringComparison.Ordinal));

        var missing = await Run("tenants", "show", Guid.NewGuid().ToString());
        Assert.Equal(ChatStore.Cli.Commands.ExitCodes.NotFound, missing.ExitCode);
        Assert.Contains("was not found", missing.Out + missing.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_created_on_the_command_line_authenticates_until_it_is_revoked()
    {
        var tenant = await _client.Tenants.CreateAsync(new ChatStore.Tenants.NewTenant { Name = "keys" });

        var created = await Json("keys", "create", "--tenant", tenant.Id.ToString(), "--name", "ci");
        var secret = created.GetProperty("secret").GetString()!;
        var keyId = created.GetProperty("id").GetGuid();
        Assert.Equal(keyId, (await _client.Tenants.AuthenticateApiKeyAsync(secret))?.Id);

        var listed = await Run("keys", "list", "--tenant", tenant.Id.ToString(), "--json");
        Assert.DoesNotContain(secret, listed.Out, StringComparison.Ordinal);
        Assert.Equal([keyId], JsonDocument.Parse(listed.Out).RootElement.EnumerateArray().Select(k => k.GetProperty("id").GetGuid()));

        var revoked = await Run("keys", "revoke", "--tenant", tenant.Id.ToString(), keyId.ToString());
        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        Assert.Null(await _client.Tenants.AuthenticateApiKeyAsync(secret));
        var after = await Json("keys", "list", "--tenant", tenant.Id.ToString());
        Assert.Equal(JsonValueKind.String, after[0].GetProperty("revokedAt").ValueKind);
    }

    [Fact]
    public async Task Users_are_listed_shown_and_found_by_email_or_external_id()
    {
        var tenant = await _client.Tenants.CreateAsync(new ChatStore.Tenants.NewTenant { Name = "users" });
        var users = _client.ForTenant(tenant.Id).Users;
        var ada = await users.CreateAsync(new NewUser { Email = "Ada@Example.com", Name = "Ada", ExternalId = "crm-1" });
        var bob = await users.CreateAsync(new NewUser { Email = "bob@example.com", Name = "Bob" });
        var t = tenant.Id.ToString();

        var listed = await Json("users", "list", "--tenant", t);
        Assert.Equal(new[] { ada.Id, bob.Id }.Order(), listed.EnumerateArray().Select(u => u.GetProperty("id").GetGuid()).Order());
        Assert.Equal(ada.Id, (await Json("users", "find", "--tenant", t, "--email", "ada@example.com")).GetProperty("id").GetGuid());
        Assert.Equal(ada.Id, (await Json("users", "find", "--tenant", t, "--external-id", "crm-1")).GetProperty("id").GetGuid());
        Assert.Equal("Bob", (await Json("users", "show", "--tenant", t, bob.Id.ToString())).GetProperty("name").GetString());

        var shown = await Run("users", "show", "--tenant", t, bob.Id.ToString());
        Assert.Contains(shown.Lines, l => l.StartsWith("email", StringComparison.Ordinal) && l.EndsWith("bob@example.com", StringComparison.Ordinal));
        Assert.NotEqual(0, (await Run("users", "find", "--tenant", t)).ExitCode);
        var other = await Run("users", "show", "--tenant", Guid.NewGuid().ToString(), bob.Id.ToString());
        Assert.Equal(ChatStore.Cli.Commands.ExitCodes.NotFound, other.ExitCode);
    }
}
