using System.Text.Json;
using ChatStore.Preferences;

namespace ChatStore.Tests.Preferences;

public sealed class PreferencesStoreTests
{
    static JsonElement J(string json) => JsonDocument.Parse(json).RootElement.Clone();

    static void AssertJson(string expected, JsonElement actual) =>
        Assert.True(JsonElement.DeepEquals(J(expected), actual), $"expected {expected}, got {actual.GetRawText()}");

    // RFC 7396 Appendix A, every row.
    [Theory]
    [InlineData("""{"a":"b"}""", """{"a":"c"}""", """{"a":"c"}""")]
    [InlineData("""{"a":"b"}""", """{"b":"c"}""", """{"a":"b","b":"c"}""")]
    [InlineData("""{"a":"b"}""", """{"a":null}""", """{}""")]
    [InlineData("""{"a":"b","b":"c"}""", """{"a":null}""", """{"b":"c"}""")]
    [InlineData("""{"a":["b"]}""", """{"a":"c"}""", """{"a":"c"}""")]
    [InlineData("""{"a":"c"}""", """{"a":["b"]}""", """{"a":["b"]}""")]
    [InlineData("""{"a":{"b":"c"}}""", """{"a":{"b":"d","c":null}}""", """{"a":{"b":"d"}}""")]
    [InlineData("""{"a":[{"b":"c"}]}""", """{"a":[1]}""", """{"a":[1]}""")]
    [InlineData("""["a","b"]""", """["c","d"]""", """["c","d"]""")]
    [InlineData("""{"a":"b"}""", """["c"]""", """["c"]""")]
    [InlineData("""{"a":"foo"}""", "null", "null")]
    [InlineData("""{"a":"foo"}""", "\"bar\"", "\"bar\"")]
    [InlineData("""{"e":null}""", """{"a":1}""", """{"e":null,"a":1}""")]
    [InlineData("[1,2]", """{"a":"b","c":null}""", """{"a":"b"}""")]
    [InlineData("{}", """{"a":{"bb":{"ccc":null}}}""", """{"a":{"bb":{}}}""")]
    public async Task Merge_patch_function_follows_rfc_7396(string target, string patch, string expected)
    {
        var result = await TestStore.ScalarAsync<string>("SELECT chatstore_jsonb_merge_patch($1::jsonb, $2::jsonb)::text", target, patch);
        AssertJson(expected, J(result));
    }

    [Theory]
    [InlineData("""{"a":"b"}""", """{"a":"c"}""", """{"a":"c"}""")]
    [InlineData("""{"a":"b"}""", """{"b":"c"}""", """{"a":"b","b":"c"}""")]
    [InlineData("""{"a":"b","b":"c"}""", """{"a":null}""", """{"b":"c"}""")]
    [InlineData("""{"a":{"b":"c"}}""", """{"a":{"b":"d","c":null}}""", """{"a":{"b":"d"}}""")]
    [InlineData("""{"a":[{"b":"c"}]}""", """{"a":[1]}""", """{"a":[1]}""")]
    [InlineData("""{"e":null}""", """{"a":1}""", """{"e":null,"a":1}""")]
    [InlineData("""{"a":{"x":1,"y":{"z":2}}}""", """{"a":{"y":{"w":3}}}""", """{"a":{"x":1,"y":{"z":2,"w":3}}}""")]
    [InlineData("{}", """{"a":{"bb":{"ccc":null}}}""", """{"a":{"bb":{}}}""")]
    public async Task Patch_merges_each_part_like_rfc_7396(string target, string patch, string expected)
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        await scope.Preferences.ReplaceAsync(user.Id, new PreferencesReplacement { Preferences = J(target), FeatureToggles = J("""{"beta":true}""") });
        var patched = await scope.Preferences.PatchAsync(user.Id, new PreferencesPatch { Preferences = J(patch), LearnedPatterns = J(patch) });
        AssertJson(expected, patched.Preferences);
        AssertJson("""{"beta":true}""", patched.FeatureToggles); // a part left null is untouched
        AssertJson(await TestStore.ScalarAsync<string>("SELECT chatstore_jsonb_merge_patch('{}', $1::jsonb)::text", patch), patched.LearnedPatterns);
        AssertJson(expected, (await scope.Preferences.GetAsync(user.Id)).Preferences);
    }

    [Fact]
    public async Task Get_returns_empty_objects_before_anything_is_stored()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var prefs = await scope.Preferences.GetAsync(user.Id);
        Assert.Equal(user.Id, prefs.UserId);
        AssertJson("{}", prefs.Preferences);
        AssertJson("{}", prefs.LearnedPatterns);
        AssertJson("{}", prefs.FeatureToggles);
        Assert.Null(prefs.UpdatedAt);
    }

    [Fact]
    public async Task A_first_patch_drops_its_null_members_and_creates_the_row()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var patched = await scope.Preferences.PatchAsync(user.Id, new PreferencesPatch { Preferences = J("""{"theme":"dark","gone":null,"n":{"x":null}}""") });
        AssertJson("""{"theme":"dark","n":{}}""", patched.Preferences);
        Assert.NotNull(patched.UpdatedAt);
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM user_preferences WHERE user_id = $1", user.Id));
    }

    [Fact]
    public async Task Concurrent_patches_to_different_keys_all_survive()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        // No row yet: the first writers race on the insert as well as on the merge.
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            scope.Preferences.PatchAsync(user.Id, new PreferencesPatch
            {
                Preferences = J($$$"""{"k{{{i}}}":{{{i}}},"nested":{"n{{{i}}}":true}}"""),
                FeatureToggles = J($$"""{"t{{i % 5}}":true}"""),
            }))));
        var prefs = await scope.Preferences.GetAsync(user.Id);
        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(i, prefs.Preferences.GetProperty($"k{i}").GetInt32());
            Assert.True(prefs.Preferences.GetProperty("nested").GetProperty($"n{i}").GetBoolean());
        }
        Assert.Equal(5, prefs.FeatureToggles.EnumerateObject().Count());
    }

    [Fact]
    public async Task Replace_replaces_every_part_and_null_parts_become_empty()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        await scope.Preferences.PatchAsync(user.Id, new PreferencesPatch { Preferences = J("""{"a":1}"""), LearnedPatterns = J("""{"b":2}""") });
        var replaced = await scope.Preferences.ReplaceAsync(user.Id, new PreferencesReplacement { Preferences = J("""{"c":{"d":null}}""") });
        AssertJson("""{"c":{"d":null}}""", replaced.Preferences); // replace stores JSON null as given
        AssertJson("{}", replaced.LearnedPatterns);
        AssertJson("{}", replaced.FeatureToggles);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Another_tenants_user_is_not_found_and_nothing_is_written(bool bypassRowLevelSecurity)
    {
        var (_, a, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var (_, b, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var user = await TestStore.NewUserAsync(a);
        await a.Preferences.PatchAsync(user.Id, new PreferencesPatch { Preferences = J("""{"secret":1}""") });
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Preferences.GetAsync(user.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Preferences.PatchAsync(user.Id, new PreferencesPatch { Preferences = J("""{"secret":2}""") }));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Preferences.ReplaceAsync(user.Id, new PreferencesReplacement()));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => a.Preferences.GetAsync(Guid.NewGuid()));
        AssertJson("""{"secret":1}""", (await a.Preferences.GetAsync(user.Id)).Preferences);
    }

    [Fact]
    public async Task A_deleted_user_is_not_found()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        await scope.Users.DeleteAsync(user.Id);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Preferences.PatchAsync(user.Id, new PreferencesPatch { Preferences = J("{}") }));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM user_preferences WHERE user_id = $1", user.Id));
    }

    [Fact]
    public async Task Bad_patches_are_rejected_naming_the_field_and_nothing_is_stored()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var notObject = await Assert.ThrowsAsync<ChatStoreValidationException>(() =>
            scope.Preferences.PatchAsync(user.Id, new PreferencesPatch { Preferences = J("[1]") }));
        Assert.Equal(("preferences", "json_type"), (notObject.Field, notObject.Rule));
        var nul = await Assert.ThrowsAsync<ChatStoreValidationException>(() =>
            scope.Preferences.PatchAsync(user.Id, new PreferencesPatch { Preferences = J("{}"), FeatureToggles = J("""{"a":"x\u0000"}""") }));
        Assert.Equal(("featureToggles.a", "nul_character"), (nul.Field, nul.Rule));
        var lone = await Assert.ThrowsAsync<ChatStoreValidationException>(() =>
            scope.Preferences.ReplaceAsync(user.Id, new PreferencesReplacement { LearnedPatterns = J("""{"k":"\udc00"}""") }));
        Assert.Equal("learnedPatterns.k", lone.Field);
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM user_preferences WHERE user_id = $1", user.Id));
    }
}
