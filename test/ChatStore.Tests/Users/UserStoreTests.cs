using System.Text.Json;
using ChatStore.Users;

namespace ChatStore.Tests.Users;

public sealed class UserStoreTests
{
    [Fact]
    public async Task Create_and_get_by_id_external_id_and_email_case_insensitively()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync(roles: ["educator", "coach", "admin"]);
        var info = JsonDocument.Parse("""{"school":"Ünïcode 🐶"}""").RootElement;
        var user = await scope.Users.CreateAsync(new NewUser { ExternalId = "ext-1", Email = "Ada@Example.com", Name = "Ada", Role = "coach", Info = info });
        Assert.Equal("coach", user.Role);
        Assert.Equal(user.Id, (await scope.Users.GetAsync(user.Id)).Id);
        Assert.Equal(user.Id, (await scope.Users.GetByExternalIdAsync("ext-1")).Id);
        Assert.Equal(user.Id, (await scope.Users.GetByEmailAsync("ada@EXAMPLE.com")).Id);
        Assert.Equal("Ünïcode 🐶", (await scope.Users.GetAsync(user.Id)).Info.GetProperty("school").GetString());
    }

    [Fact]
    public async Task Default_role_is_the_tenants_and_unknown_roles_are_rejected()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync(roles: ["student", "teacher"]);
        Assert.Equal("student", (await TestStore.NewUserAsync(scope)).Role);
        var error = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Users.CreateAsync(new NewUser { Role = "wizard" }));
        Assert.Equal(("role", "enum"), (error.Field, error.Rule));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM users WHERE tenant_id = $1", tenant.Id));
    }

    [Fact]
    public async Task Email_is_unique_per_tenant_case_insensitively_but_not_across_tenants()
    {
        var (_, a, _) = await TestStore.NewTenantAsync();
        var (_, b, _) = await TestStore.NewTenantAsync();
        await a.Users.CreateAsync(new NewUser { Email = "same@example.com" });
        await Assert.ThrowsAsync<ChatStoreConflictException>(() => a.Users.CreateAsync(new NewUser { Email = "SAME@example.com" }));
        await b.Users.CreateAsync(new NewUser { Email = "same@example.com" });
    }

    [Fact]
    public async Task Update_changes_only_given_fields_and_checks_the_role()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync(roles: ["user", "admin"]);
        var user = await TestStore.NewUserAsync(scope);
        var updated = await scope.Users.UpdateAsync(user.Id, new UserUpdate { Name = "New Name", Role = "admin" });
        Assert.Equal(("New Name", "admin", user.Email), (updated.Name, updated.Role, updated.Email));
        Assert.True(updated.UpdatedAt >= user.UpdatedAt);
        await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Users.UpdateAsync(user.Id, new UserUpdate { Role = "root" }));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Users.UpdateAsync(Guid.NewGuid(), new UserUpdate { Name = "x" }));
    }

    [Fact]
    public async Task List_pages_through_every_user_once_with_keyset_cursors()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < 7; i++) ids.Add((await TestStore.NewUserAsync(scope)).Id);
        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await scope.Users.ListAsync(limit: 3, cursor: cursor);
            Assert.True(page.Items.Count <= 3);
            seen.AddRange(page.Items.Select(u => u.Id));
            cursor = page.NextCursor;
        } while (cursor is not null);
        Assert.Equal(ids.Order(), seen.Order());
        await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Users.ListAsync(limit: 0));
        await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Users.ListAsync(cursor: "not-a-cursor"));
    }

    [Fact]
    public async Task Record_login_and_soft_delete()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        Assert.NotNull((await scope.Users.RecordLoginAsync(user.Id)).LastLoginAt);
        await scope.Users.DeleteAsync(user.Id);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Users.GetAsync(user.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Users.DeleteAsync(user.Id));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM users WHERE id = $1 AND deleted_at IS NOT NULL", user.Id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Another_tenants_user_is_not_found(bool bypassRowLevelSecurity)
    {
        var (_, a, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var (_, b, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var user = await TestStore.NewUserAsync(a);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Users.GetAsync(user.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Users.UpdateAsync(user.Id, new UserUpdate { Name = "stolen" }));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Users.DeleteAsync(user.Id));
        Assert.Equal("Test User", (await a.Users.GetAsync(user.Id)).Name);
    }

    [Theory]
    [InlineData("nul")]
    [InlineData("lone high surrogate")]
    [InlineData("lone low surrogate")]
    public async Task Bad_text_is_rejected_naming_the_field_and_nothing_is_stored(string kind)
    {
        // Built here: xunit's theory data would replace a lone surrogate with U+FFFD.
        var name = kind switch { "nul" => "nul\0byte", "lone high surrogate" => "a\ud800b", _ => "a\udc00" };
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var error = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Users.CreateAsync(new NewUser { Name = name }));
        Assert.Equal("name", error.Field);
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM users WHERE tenant_id = $1", tenant.Id));
    }

    [Fact]
    public async Task Json_with_escaped_nul_or_lone_surrogate_is_rejected()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var nul = JsonDocument.Parse("""{"a":{"b":"x\u0000y"}}""").RootElement;
        Assert.Equal("info.a.b", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Users.CreateAsync(new NewUser { Info = nul }))).Field);
        var lone = JsonDocument.Parse("""{"k":["ok","\ud800"]}""").RootElement;
        Assert.Equal("info.k[1]", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Users.CreateAsync(new NewUser { Info = lone }))).Field);
        var loneKey = JsonDocument.Parse("""{"a\udbff":1}""").RootElement;
        Assert.Equal("unpaired_surrogate", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Users.CreateAsync(new NewUser { Info = loneKey }))).Rule);
    }
}
