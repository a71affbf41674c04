using System.Text.Json;
using ChatStore.Connection;
using Microsoft.Extensions.Time.Testing;

namespace ChatStore.Tests.Cache;

public sealed class CacheStoreTests
{
    static JsonElement J(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Fact]
    public async Task Set_get_overwrite_and_delete()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var entry = await scope.Cache.SetAsync("embedding:abc", J("""{"v":[1,2,3]}"""), userId: user.Id);
        Assert.Equal(("embedding:abc", user.Id, (DateTimeOffset?)null), (entry.Key, entry.UserId, entry.ExpiresAt));
        Assert.Equal(3, (await scope.Cache.GetAsync("embedding:abc"))!.Value.GetProperty("v").GetArrayLength());
        await scope.Cache.SetAsync("embedding:abc", J("\"replaced\""), timeToLive: TimeSpan.FromHours(1));
        var got = await scope.Cache.GetEntryAsync("embedding:abc");
        Assert.Equal("replaced", got!.Value.GetString());
        Assert.Null(got.UserId);
        Assert.InRange(got.ExpiresAt!.Value, DateTimeOffset.UtcNow.AddMinutes(55), DateTimeOffset.UtcNow.AddMinutes(65));
        Assert.Equal(JsonValueKind.Null, (await scope.Cache.SetAsync("null", J("null"))).Value.ValueKind); // JSON null is a value, not a miss
        Assert.Equal(JsonValueKind.Null, (await scope.Cache.GetAsync("null"))!.Value.ValueKind);
        Assert.True(await scope.Cache.DeleteAsync("embedding:abc"));
        Assert.False(await scope.Cache.DeleteAsync("embedding:abc"));
        Assert.Null(await scope.Cache.GetAsync("embedding:abc"));
        Assert.Null(await scope.Cache.GetAsync("never-set"));
    }

    [Fact]
    public async Task An_expired_entry_is_a_miss_and_purge_deletes_only_expired_entries_in_batches()
    {
        // Expiry follows the client's clock: a fake one here, moved forward instead of waiting.
        await TestStore.ClientAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var client = await ChatStoreClient.CreateAsync(new ChatStoreSettings { ConnectionString = TestStore.ConnectionString, TimeProvider = time });
        var (_, _, tenant) = await TestStore.NewTenantAsync();
        var scope = client.ForTenant(tenant.Id);
        await scope.Cache.SetAsync("short", J("1"), timeToLive: TimeSpan.FromMilliseconds(200));
        await scope.Cache.SetAsync("past", J("2"), expiresAt: time.GetUtcNow().AddMinutes(-1));
        for (var i = 0; i < 5; i++)
            await scope.Cache.SetAsync($"old{i}", J("3"), expiresAt: time.GetUtcNow().AddDays(-1 - i));
        await scope.Cache.SetAsync("live", J("4"), timeToLive: TimeSpan.FromHours(1));
        await scope.Cache.SetAsync("forever", J("5"));
        Assert.Null(await scope.Cache.GetAsync("past"));
        Assert.Null(await scope.Cache.GetEntryAsync("old0"));
        Assert.Equal(1, (await scope.Cache.GetAsync("short"))!.Value.GetInt32());
        time.Advance(TimeSpan.FromMilliseconds(199));
        Assert.NotNull(await scope.Cache.GetAsync("short"));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Null(await scope.Cache.GetAsync("short"));
        Assert.Equal(4, (await scope.Cache.GetAsync("live"))!.Value.GetInt32());

        Assert.Equal(4, await scope.Cache.PurgeExpiredAsync(limit: 4));
        Assert.Equal(3, await scope.Cache.PurgeExpiredAsync(limit: 4));
        Assert.Equal(0, await scope.Cache.PurgeExpiredAsync());
        Assert.Equal(2L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM cache_entries WHERE tenant_id = $1", tenant.Id));
    }

    [Fact]
    public async Task Tenants_have_separate_caches()
    {
        var (_, a, _) = await TestStore.NewTenantAsync();
        var (_, b, _) = await TestStore.NewTenantAsync();
        var userA = await TestStore.NewUserAsync(a);
        await a.Cache.SetAsync("k", J("\"a\""), expiresAt: DateTimeOffset.UtcNow.AddMinutes(-1));
        await a.Cache.SetAsync("shared", J("\"a\""));
        Assert.Null(await b.Cache.GetAsync("shared"));
        Assert.False(await b.Cache.DeleteAsync("shared"));
        Assert.Equal(0, await b.Cache.PurgeExpiredAsync());
        await b.Cache.SetAsync("shared", J("\"b\""));
        Assert.Equal("a", (await a.Cache.GetAsync("shared"))!.Value.GetString());
        Assert.Equal("b", (await b.Cache.GetAsync("shared"))!.Value.GetString());
        Assert.Equal("user", (await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Cache.SetAsync("mine", J("1"), userId: userA.Id))).Entity);
        Assert.Null(await b.Cache.GetAsync("mine"));
        Assert.Equal(1, await a.Cache.PurgeExpiredAsync());
    }

    [Fact]
    public async Task Bad_input_is_rejected_naming_the_field_and_nothing_is_stored()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var value = J("1");
        Assert.Equal(("key", "required"), await FieldAsync(() => scope.Cache.SetAsync("", value)));
        Assert.Equal(("key", "nul_character"), await FieldAsync(() => scope.Cache.SetAsync("a\0b", value)));
        Assert.Equal(("key", "unpaired_surrogate"), await FieldAsync(() => scope.Cache.SetAsync("a\ud800", value))); // built in code
        Assert.Equal(("key", "unpaired_surrogate"), await FieldAsync(() => scope.Cache.GetAsync("\udc00")));
        Assert.Equal(("key", "max_length"), await FieldAsync(() => scope.Cache.SetAsync(new string('k', 501), value)));
        Assert.Equal(("value", "required"), await FieldAsync(() => scope.Cache.SetAsync("k", default)));
        Assert.Equal(("value.a", "nul_character"), await FieldAsync(() => scope.Cache.SetAsync("k", J("""{"a":"\u0000"}"""))));
        Assert.Equal(("timeToLive", "range"), await FieldAsync(() => scope.Cache.SetAsync("k", value, timeToLive: TimeSpan.Zero)));
        Assert.Equal(("timeToLive", "range"), await FieldAsync(() => scope.Cache.SetAsync("k", value, timeToLive: TimeSpan.MaxValue)));
        Assert.Equal(("expiresAt", "exclusive"), await FieldAsync(() => scope.Cache.SetAsync("k", value, TimeSpan.FromMinutes(1), DateTimeOffset.UtcNow)));
        Assert.Equal(("expiresAt", "range"), await FieldAsync(() => scope.Cache.SetAsync("k", value, expiresAt: DateTimeOffset.MaxValue)));
        Assert.Equal(("limit", "range"), await FieldAsync(() => scope.Cache.PurgeExpiredAsync(0)));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM cache_entries WHERE tenant_id = $1", tenant.Id));
    }

    static async Task<(string, string)> FieldAsync(Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<ChatStoreValidationException>(action);
        return (error.Field, error.Rule);
    }
}
