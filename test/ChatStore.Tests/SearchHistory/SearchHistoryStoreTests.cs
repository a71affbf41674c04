using ChatStore.SearchHistory;

namespace ChatStore.Tests.SearchHistory;

public sealed class SearchHistoryStoreTests
{
    [Fact]
    public async Task List_pages_newest_first_with_keyset_cursors()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var other = await TestStore.NewUserAsync(scope);
        var recorded = new List<SearchHistoryEntry>();
        for (var i = 0; i < 7; i++)
            recorded.Add(await scope.SearchHistory.RecordAsync(user.Id, $"dog food {i} 🐶", SearchMode.All[i % 3], i));
        await scope.SearchHistory.RecordAsync(other.Id, "not mine");

        var seen = new List<SearchHistoryEntry>();
        string? cursor = null;
        do
        {
            var page = await scope.SearchHistory.ListAsync(user.Id, limit: 3, cursor: cursor);
            Assert.True(page.Items.Count <= 3);
            seen.AddRange(page.Items);
            cursor = page.NextCursor;
        } while (cursor is not null);
        Assert.Equal(recorded.OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id), seen);
        Assert.Equal(("dog food 6 🐶", "fts", 6), (seen[0].Query, seen[0].Mode, seen[0].ResultCount));
    }

    [Fact]
    public async Task Clear_deletes_only_that_users_history()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var other = await TestStore.NewUserAsync(scope);
        await scope.SearchHistory.RecordAsync(user.Id, "a", SearchMode.Vector);
        await scope.SearchHistory.RecordAsync(user.Id, "b", SearchMode.Hybrid);
        await scope.SearchHistory.RecordAsync(other.Id, "c");
        Assert.Equal(2, await scope.SearchHistory.ClearAsync(user.Id));
        Assert.Empty((await scope.SearchHistory.ListAsync(user.Id)).Items);
        Assert.Single((await scope.SearchHistory.ListAsync(other.Id)).Items);
        Assert.Equal(0, await scope.SearchHistory.ClearAsync(user.Id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Another_tenants_history_is_invisible(bool bypassRowLevelSecurity)
    {
        var (_, a, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var (_, b, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var user = await TestStore.NewUserAsync(a);
        await a.SearchHistory.RecordAsync(user.Id, "secret");
        Assert.Empty((await b.SearchHistory.ListAsync(user.Id)).Items);
        Assert.Equal(0, await b.SearchHistory.ClearAsync(user.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.SearchHistory.RecordAsync(user.Id, "planted"));
        Assert.Equal("secret", Assert.Single((await a.SearchHistory.ListAsync(user.Id)).Items).Query);
    }

    [Fact]
    public async Task Bad_input_is_rejected_naming_the_field_and_nothing_is_stored()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        Assert.Equal(("mode", "enum"), await FieldAsync(() => scope.SearchHistory.RecordAsync(user.Id, "q", "semantic")));
        Assert.Equal(("resultCount", "not_negative"), await FieldAsync(() => scope.SearchHistory.RecordAsync(user.Id, "q", resultCount: -1)));
        Assert.Equal(("query", "required"), await FieldAsync(() => scope.SearchHistory.RecordAsync(user.Id, "")));
        Assert.Equal(("query", "nul_character"), await FieldAsync(() => scope.SearchHistory.RecordAsync(user.Id, "q\0")));
        Assert.Equal(("query", "unpaired_surrogate"), await FieldAsync(() => scope.SearchHistory.RecordAsync(user.Id, "q\ud83d"))); // built in code
        Assert.Equal(("query", "max_length"), await FieldAsync(() => scope.SearchHistory.RecordAsync(user.Id, new string('q', 501))));
        Assert.Equal(("userId", "required"), await FieldAsync(() => scope.SearchHistory.RecordAsync(Guid.Empty, "q")));
        Assert.Equal(("limit", "range"), await FieldAsync(() => scope.SearchHistory.ListAsync(user.Id, limit: 0)));
        Assert.Equal(("limit", "range"), await FieldAsync(() => scope.SearchHistory.ListAsync(user.Id, limit: 501)));
        Assert.Equal(("cursor", "cursor"), await FieldAsync(() => scope.SearchHistory.ListAsync(user.Id, cursor: "x")));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM search_history WHERE tenant_id = $1", tenant.Id));
    }

    static async Task<(string, string)> FieldAsync(Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<ChatStoreValidationException>(action);
        return (error.Field, error.Rule);
    }
}
