using System.Text.Json;
using ChatStore.Subjects;

namespace ChatStore.Tests.Subjects;

public sealed class SubjectStoreTests
{
    static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement;

    [Fact]
    public async Task Create_get_update_and_soft_delete_round_trip()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var dog = await scope.Subjects.CreateAsync(new NewSubject
        {
            UserId = user.Id, Kind = "dog", Name = "Rex 🐶", Attributes = Json("""{"breed":"collie","age":3}"""),
        });
        Assert.Equal((user.Id, tenant.Id, "dog", "Rex 🐶", "collie"), (dog.UserId, dog.TenantId, dog.Kind, dog.Name, dog.Attributes.GetProperty("breed").GetString()));
        var got = await scope.Subjects.GetAsync(dog.Id);
        Assert.Equal((dog.Id, dog.Name, dog.Kind, dog.CreatedAt, dog.Attributes.GetRawText()), (got.Id, got.Name, got.Kind, got.CreatedAt, got.Attributes.GetRawText()));

        var renamed = await scope.Subjects.UpdateAsync(dog.Id, new SubjectUpdate { Name = "Rex II" });
        Assert.Equal(("Rex II", 3), (renamed.Name, renamed.Attributes.GetProperty("age").GetInt32()));
        var replaced = await scope.Subjects.UpdateAsync(dog.Id, new SubjectUpdate { Attributes = Json("""{"weight":20}""") });
        Assert.Equal("""{"weight": 20}""", replaced.Attributes.GetRawText());
        Assert.Equal("Rex II", replaced.Name);

        await scope.Subjects.DeleteAsync(dog.Id);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Subjects.GetAsync(dog.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Subjects.UpdateAsync(dog.Id, new SubjectUpdate { Name = "x" }));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Subjects.DeleteAsync(dog.Id));
        Assert.Empty((await scope.Subjects.ListAsync(user.Id)).Items);
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM subjects WHERE id = $1 AND deleted_at IS NOT NULL", dog.Id));
        await Assert.ThrowsAsync<ChatStoreConflictException>(() => scope.Subjects.CreateAsync(new NewSubject { Id = dog.Id, UserId = user.Id, Kind = "dog", Name = "Again" }));
    }

    [Fact]
    public async Task List_pages_a_users_subjects_of_all_kinds_or_one_kind_with_keyset_cursors()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var other = await TestStore.NewUserAsync(scope);
        var ids = new List<(Guid Id, string Kind)>();
        for (var i = 0; i < 8; i++)
        {
            var kind = i % 3 == 0 ? "cat" : "dog";
            ids.Add(((await scope.Subjects.CreateAsync(new NewSubject { UserId = user.Id, Kind = kind, Name = $"pet {i}" })).Id, kind));
        }
        await scope.Subjects.CreateAsync(new NewSubject { UserId = other.Id, Kind = "dog", Name = "not mine" });

        async Task<List<Guid>> AllAsync(string? kind)
        {
            var seen = new List<Guid>();
            string? cursor = null;
            do
            {
                var page = await scope.Subjects.ListAsync(user.Id, kind, limit: 3, cursor: cursor);
                Assert.InRange(page.Items.Count, 1, 3);
                seen.AddRange(page.Items.Select(s => s.Id));
                cursor = page.NextCursor;
            } while (cursor is not null);
            return seen;
        }

        // By id as PostgreSQL orders uuids (byte-wise, as their text): creation order but for ids made in the same millisecond.
        IEnumerable<Guid> Expected(string? kind) => ids.Where(x => kind is null || x.Kind == kind).Select(x => x.Id).OrderBy(g => g.ToString(), StringComparer.Ordinal);
        Assert.Equal(Expected(null), await AllAsync(null));
        Assert.Equal(Expected("dog"), await AllAsync("dog"));
        Assert.Equal(Expected("cat"), await AllAsync("cat"));
        Assert.Empty((await scope.Subjects.ListAsync(user.Id, "horse")).Items);

        Assert.Equal("limit", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Subjects.ListAsync(user.Id, limit: 0))).Field);
        Assert.Equal("limit", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Subjects.ListAsync(user.Id, limit: 501))).Field);
        Assert.Equal("cursor", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Subjects.ListAsync(user.Id, cursor: "nope"))).Field);
        Assert.Equal("kind", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Subjects.ListAsync(user.Id, "d\0g"))).Field);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Another_tenant_or_user_cannot_reach_a_subject(bool bypassRowLevelSecurity)
    {
        var (_, a, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var (_, b, tenantB) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var x = await TestStore.NewUserAsync(a);
        var y = await TestStore.NewUserAsync(a);
        var subject = await a.Subjects.CreateAsync(new NewSubject { UserId = x.Id, Kind = "student", Name = "Ada" });

        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Subjects.GetAsync(subject.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Subjects.UpdateAsync(subject.Id, new SubjectUpdate { Name = "stolen" }));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Subjects.DeleteAsync(subject.Id));
        Assert.Empty((await b.Subjects.ListAsync(x.Id)).Items);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Subjects.CreateAsync(new NewSubject { UserId = x.Id, Kind = "student", Name = "x" }));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM subjects WHERE tenant_id = $1", tenantB.Id));

        var ys = a.Subjects.ForUser(y.Id);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => ys.GetAsync(subject.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => ys.UpdateAsync(subject.Id, new SubjectUpdate { Name = "stolen" }));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => ys.DeleteAsync(subject.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => ys.ListAsync(x.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => ys.CreateAsync(new NewSubject { UserId = x.Id, Kind = "student", Name = "x" }));
        Assert.Equal("Ada", (await a.Subjects.ForUser(x.Id).GetAsync(subject.Id)).Name);
    }

    [Fact]
    public async Task Bad_input_is_rejected_naming_the_field_and_nothing_is_stored()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        NewSubject Ok() => new() { UserId = user.Id, Kind = "dog", Name = "Rex" };
        var cases = new (NewSubject Subject, string Field, string Rule)[]
        {
            (Ok() with { Kind = null }, "kind", "required"),
            (Ok() with { Kind = "" }, "kind", "required"),
            (Ok() with { Kind = new string('k', 101) }, "kind", "max_length"),
            (Ok() with { Kind = "d\0g" }, "kind", "nul_character"),
            (Ok() with { Name = "" }, "name", "required"),
            (Ok() with { Name = "Rex \udc00" }, "name", "unpaired_surrogate"),
            (Ok() with { Name = new string('n', 501) }, "name", "max_length"),
            (Ok() with { Attributes = Json("[1,2]") }, "attributes", "json_type"),
            (Ok() with { Attributes = Json("\"text\"") }, "attributes", "json_type"),
            (Ok() with { Attributes = Json("""{"a":"\u0000"}""") }, "attributes.a", "nul_character"),
            (Ok() with { UserId = Guid.Empty }, "userId", "required"),
        };
        foreach (var (bad, field, rule) in cases)
        {
            var error = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Subjects.CreateAsync(bad));
            Assert.Equal((field, rule), (error.Field, error.Rule));
        }
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Subjects.CreateAsync(Ok() with { UserId = Guid.NewGuid() }));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM subjects WHERE tenant_id = $1", tenant.Id));

        var subject = await scope.Subjects.CreateAsync(Ok());
        var update = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Subjects.UpdateAsync(subject.Id, new SubjectUpdate { Name = "", Attributes = Json("{}") }));
        Assert.Equal("name", update.Field);
        Assert.Equal("attributes", (await Assert.ThrowsAsync<ChatStoreValidationException>(() =>
            scope.Subjects.UpdateAsync(subject.Id, new SubjectUpdate { Attributes = Json("[]") }))).Field);
        var unchanged = await scope.Subjects.GetAsync(subject.Id);
        Assert.Equal(("Rex", "{}", subject.UpdatedAt), (unchanged.Name, unchanged.Attributes.GetRawText(), unchanged.UpdatedAt));
    }
}
