using System.Text.Json;
using ChatStore.Conversations;
using ChatStore.Subjects;
using ChatStore.Tenancy;
using Npgsql;

namespace ChatStore.Tests.Conversations;

public sealed class ConversationStoreTests
{
    static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement;

    [Fact]
    public async Task Create_and_get_round_trip_every_field()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var subject = await scope.Subjects.CreateAsync(new NewSubject { UserId = user.Id, Kind = "dog", Name = "Rex" });
        var created = await scope.Conversations.CreateAsync(new NewConversation
        {
            UserId = user.Id, Title = "Walks 🐕", Mode = "coach", State = Json("""{"step":2}"""), SubjectId = subject.Id, Metadata = Json("""{"source":"app"}"""),
        });
        var got = await scope.Conversations.GetAsync(created.Id);
        Assert.Equal((tenant.Id, user.Id, "Walks 🐕", ConversationStatus.Active, false, "coach", subject.Id),
            (got.TenantId, got.UserId, got.Title, got.Status, got.Pinned, got.Mode, got.SubjectId));
        Assert.Equal((2, "app"), (got.State.GetProperty("step").GetInt32(), got.Metadata.GetProperty("source").GetString()));
        Assert.Equal((0L, 0, (DateTimeOffset?)null, (DateTimeOffset?)null), (got.LastSeq, got.MessageCount, got.LastMessageAt, got.DeletedAt));
        Assert.Equal((created.CreatedAt, created.LastActivityAt), (got.CreatedAt, got.LastActivityAt));

        var bare = await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id });
        Assert.Equal(("", (string?)null, "{}", "{}", (Guid?)null), (bare.Title, bare.Mode, bare.State.GetRawText(), bare.Metadata.GetRawText(), bare.SubjectId));
        await Assert.ThrowsAsync<ChatStoreConflictException>(() => scope.Conversations.CreateAsync(new NewConversation { Id = bare.Id, UserId = user.Id }));
    }

    [Fact]
    public async Task Create_needs_a_live_user_of_the_tenant_and_that_users_own_subject()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var (_, other, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var someoneElse = await TestStore.NewUserAsync(scope);
        var foreignUser = await TestStore.NewUserAsync(other);
        var theirs = await scope.Subjects.CreateAsync(new NewSubject { UserId = someoneElse.Id, Kind = "dog", Name = "Not yours" });
        var foreignSubject = await other.Subjects.CreateAsync(new NewSubject { UserId = foreignUser.Id, Kind = "dog", Name = "Other tenant" });
        var deletedSubject = await scope.Subjects.CreateAsync(new NewSubject { UserId = user.Id, Kind = "dog", Name = "Gone" });
        await scope.Subjects.DeleteAsync(deletedSubject.Id);

        Assert.Equal("subject", (await Assert.ThrowsAsync<ChatStoreNotFoundException>(() =>
            scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id, SubjectId = theirs.Id }))).Entity);
        Assert.Equal("subject", (await Assert.ThrowsAsync<ChatStoreNotFoundException>(() =>
            scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id, SubjectId = foreignSubject.Id }))).Entity);
        Assert.Equal("subject", (await Assert.ThrowsAsync<ChatStoreNotFoundException>(() =>
            scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id, SubjectId = deletedSubject.Id }))).Entity);
        Assert.Equal("user", (await Assert.ThrowsAsync<ChatStoreNotFoundException>(() =>
            scope.Conversations.CreateAsync(new NewConversation { UserId = foreignUser.Id }))).Entity);
        await scope.Users.DeleteAsync(someoneElse.Id);
        Assert.Equal("user", (await Assert.ThrowsAsync<ChatStoreNotFoundException>(() =>
            scope.Conversations.CreateAsync(new NewConversation { UserId = someoneElse.Id }))).Entity);
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM conversations WHERE tenant_id = $1", tenant.Id));
    }

    [Fact]
    public async Task Rename_archive_pin_mode_state_and_subject_round_trip()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var subject = await scope.Subjects.CreateAsync(new NewSubject { UserId = user.Id, Kind = "property", Name = "Flat 3" });
        var c = await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id, State = Json("""{"keep":true}""") });

        Assert.Equal("Renamed", (await scope.Conversations.RenameAsync(c.Id, "Renamed")).Title);
        Assert.Equal(ConversationStatus.Archived, (await scope.Conversations.ArchiveAsync(c.Id)).Status);
        Assert.Equal(ConversationStatus.Archived, (await scope.Conversations.ArchiveAsync(c.Id)).Status);
        Assert.Equal(ConversationStatus.Active, (await scope.Conversations.UnarchiveAsync(c.Id)).Status);
        Assert.True((await scope.Conversations.PinAsync(c.Id)).Pinned);
        Assert.False((await scope.Conversations.PinAsync(c.Id, pinned: false)).Pinned);

        var tutor = await scope.Conversations.SetModeAsync(c.Id, "tutor");
        Assert.Equal(("tutor", true), (tutor.Mode, tutor.State.GetProperty("keep").GetBoolean()));
        var quiz = await scope.Conversations.SetModeAsync(c.Id, "quiz", Json("""{"question":4,"score":[1,0]}"""));
        Assert.Equal(("quiz", """{"score": [1, 0], "question": 4}"""), (quiz.Mode, quiz.State.GetRawText()));
        Assert.Null((await scope.Conversations.SetModeAsync(c.Id, null)).Mode);

        Assert.Equal(subject.Id, (await scope.Conversations.SetSubjectAsync(c.Id, subject.Id)).SubjectId);
        Assert.Null((await scope.Conversations.SetSubjectAsync(c.Id, null)).SubjectId);
        Assert.Equal("subject", (await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Conversations.SetSubjectAsync(c.Id, Guid.NewGuid()))).Entity);
        Assert.Equal("conversation", (await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Conversations.SetSubjectAsync(Guid.NewGuid(), subject.Id))).Entity);

        var stored = await scope.Conversations.GetAsync(c.Id);
        Assert.Equal(("Renamed", ConversationStatus.Active, false, (string?)null, (Guid?)null), (stored.Title, stored.Status, stored.Pinned, stored.Mode, stored.SubjectId));
        Assert.True(stored.UpdatedAt > c.UpdatedAt);
        Assert.Equal(c.LastActivityAt, stored.LastActivityAt);
    }

    [Fact]
    public async Task Metadata_updates_merge_top_level_keys_remove_nulls_or_replace()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var c = await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id, Metadata = Json("""{"a":1,"b":{"x":1},"c":3}""") });

        var merged = await scope.Conversations.UpdateMetadataAsync(c.Id, Json("""{"b":{"y":2},"c":null,"d":"new"}"""));
        Assert.Equal("""{"a": 1, "b": {"y": 2}, "d": "new"}""", merged.Metadata.GetRawText());
        var replaced = await scope.Conversations.UpdateMetadataAsync(c.Id, Json("""{"only":null}"""), replace: true);
        Assert.Equal("""{"only": null}""", replaced.Metadata.GetRawText());
        Assert.Equal("metadata", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Conversations.UpdateMetadataAsync(c.Id, Json("[]")))).Field);
    }

    [Fact]
    public async Task List_pages_newest_first_across_ties_without_duplicates_or_misses()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var other = await TestStore.NewUserAsync(scope);
        for (var i = 0; i < 23; i++)
            await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id, Title = $"c{i}" });
        await scope.Conversations.CreateAsync(new NewConversation { UserId = other.Id });
        // Five distinct activity times shared by up to five conversations each: pages must split ties by id.
        await Owner.ExecuteAsync("""
            UPDATE conversations c SET last_activity_at = timestamptz '2025-01-01 12:00:00.123456+00' + (n.rn % 5) * interval '1 hour'
              FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM conversations WHERE user_id = $1) n
             WHERE c.id = n.id
            """, user.Id);
        var expected = await TestStore.ScalarAsync<Guid[]>(
            "SELECT array_agg(id ORDER BY last_activity_at DESC, id DESC) FROM conversations WHERE user_id = $1", user.Id);

        var seen = new List<Guid>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await scope.Conversations.ListAsync(user.Id, new ConversationQuery { Limit = 4, Cursor = cursor });
            seen.AddRange(page.Items.Select(c => c.Id));
            cursor = page.NextCursor;
            if (pages++ == 1)
            {
                // A conversation that becomes active meanwhile goes to the top; the pages after this one are not disturbed.
                await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id });
            }
        } while (cursor is not null);
        Assert.Equal(expected, seen);
        Assert.Equal(6, pages);
    }

    [Fact]
    public async Task List_filters_by_status_pinned_subject_time_window_and_deleted()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var subject = await scope.Subjects.CreateAsync(new NewSubject { UserId = user.Id, Kind = "dog", Name = "Rex" });
        var plain = await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id });
        var archived = await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id });
        var pinned = await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id });
        var about = await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id, SubjectId = subject.Id });
        var deleted = await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id });
        await scope.Conversations.ArchiveAsync(archived.Id);
        await scope.Conversations.PinAsync(pinned.Id);
        await scope.Conversations.DeleteAsync(deleted.Id);
        var t0 = new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var day = 0;
        foreach (var c in new[] { plain, archived, pinned, about, deleted })
            await Owner.ExecuteAsync("UPDATE conversations SET last_activity_at = $2 WHERE id = $1", c.Id, t0.AddDays(day++));

        async Task<Guid[]> Ids(ConversationQuery q) => (await scope.Conversations.ListAsync(user.Id, q)).Items.Select(c => c.Id).ToArray();
        Assert.Equal([about.Id, pinned.Id, archived.Id, plain.Id], await Ids(new()));
        Assert.Equal([archived.Id], await Ids(new() { Status = ConversationStatus.Archived }));
        Assert.Equal([about.Id, pinned.Id, plain.Id], await Ids(new() { Status = ConversationStatus.Active }));
        Assert.Equal([pinned.Id], await Ids(new() { Pinned = true }));
        Assert.Equal([about.Id, archived.Id, plain.Id], await Ids(new() { Pinned = false }));
        Assert.Equal([about.Id], await Ids(new() { SubjectId = subject.Id }));
        // From is inclusive, To exclusive; a window given in another offset means the same instants.
        Assert.Equal([pinned.Id, archived.Id], await Ids(new() { From = t0.AddDays(1).ToOffset(TimeSpan.FromHours(5)), To = t0.AddDays(3) }));
        Assert.Equal([deleted.Id, about.Id, pinned.Id, archived.Id, plain.Id], await Ids(new() { IncludeDeleted = true }));
        Assert.Equal([deleted.Id, about.Id], await Ids(new() { IncludeDeleted = true, From = t0.AddDays(3) }));
        var trash = await scope.Conversations.ListAsync(user.Id, new() { IncludeDeleted = true, Limit = 1 });
        Assert.NotNull(Assert.Single(trash.Items).DeletedAt);
        Assert.Equal([about.Id], await Ids(new() { IncludeDeleted = true, Limit = 1, Cursor = trash.NextCursor }));
    }

    [Fact]
    public async Task Soft_delete_hides_a_conversation_from_get_list_and_changes_and_restore_brings_it_back()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var c = await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id, Title = "Keep me" });
        await scope.Conversations.DeleteAsync(c.Id);

        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Conversations.GetAsync(c.Id));
        Assert.Empty((await scope.Conversations.ListAsync(user.Id)).Items);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Conversations.RenameAsync(c.Id, "x"));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Conversations.PinAsync(c.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Conversations.ArchiveAsync(c.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Conversations.SetModeAsync(c.Id, "m"));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Conversations.UpdateMetadataAsync(c.Id, Json("{}")));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Conversations.DeleteAsync(c.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Conversations.CreateShareAsync(c.Id));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM conversations WHERE id = $1 AND deleted_at IS NOT NULL AND title = 'Keep me'", c.Id));

        var restored = await scope.Conversations.RestoreAsync(c.Id);
        Assert.Null(restored.DeletedAt);
        Assert.Equal("Keep me", (await scope.Conversations.GetAsync(c.Id)).Title);
        Assert.Equal([c.Id], (await scope.Conversations.ListAsync(user.Id)).Items.Select(x => x.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Conversations.RestoreAsync(Guid.NewGuid()));
    }

    [Fact]
    public async Task Hard_delete_removes_the_conversation_its_messages_and_shares()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var c = await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id });
        var kept = await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id });
        await Owner.AddMessageAsync(c.Id, "user", "hello");
        await Owner.AddMessageAsync(c.Id, "assistant", "hi");
        await Owner.AddMessageAsync(kept.Id, "user", "stay");
        await scope.Conversations.CreateShareAsync(c.Id);
        await scope.Conversations.DeleteAsync(c.Id); // soft-deleted ones can be hard-deleted too

        await scope.Conversations.HardDeleteAsync(c.Id);
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM conversations WHERE id = $1", c.Id));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM messages WHERE conversation_id = $1", c.Id));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM conversation_shares WHERE conversation_id = $1", c.Id));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM messages WHERE conversation_id = $1", kept.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Conversations.HardDeleteAsync(c.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Conversations.RestoreAsync(c.Id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Another_tenant_cannot_see_or_change_a_conversation(bool bypassRowLevelSecurity)
    {
        var (_, a, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var (_, b, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var user = await TestStore.NewUserAsync(a);
        var c = await a.Conversations.CreateAsync(new NewConversation { UserId = user.Id, Title = "Mine" });
        var share = await a.Conversations.CreateShareAsync(c.Id);
        var bc = b.Conversations;

        var attempts = new Func<Task>[]
        {
            () => bc.GetAsync(c.Id), () => bc.RenameAsync(c.Id, "stolen"), () => bc.ArchiveAsync(c.Id), () => bc.UnarchiveAsync(c.Id),
            () => bc.PinAsync(c.Id), () => bc.SetModeAsync(c.Id, "x"), () => bc.SetSubjectAsync(c.Id, null),
            () => bc.UpdateMetadataAsync(c.Id, Json("""{"x":1}""")), () => bc.DeleteAsync(c.Id), () => bc.RestoreAsync(c.Id),
            () => bc.HardDeleteAsync(c.Id), () => bc.CreateShareAsync(c.Id), () => bc.ListSharesAsync(c.Id),
            () => bc.RevokeShareAsync(share.Share.Id), () => bc.CreateAsync(new NewConversation { UserId = user.Id }),
        };
        foreach (var attempt in attempts)
            await Assert.ThrowsAsync<ChatStoreNotFoundException>(attempt);
        Assert.Empty((await bc.ListAsync(user.Id, new() { IncludeDeleted = true })).Items);

        var after = await a.Conversations.GetAsync(c.Id);
        Assert.Equal(("Mine", c.UpdatedAt, false), (after.Title, after.UpdatedAt, after.Pinned));
        Assert.Null(Assert.Single(await a.Conversations.ListSharesAsync(c.Id)).RevokedAt);
    }

    [Fact]
    public async Task A_store_for_one_user_does_not_reach_another_users_conversations()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var x = await TestStore.NewUserAsync(scope);
        var y = await TestStore.NewUserAsync(scope);
        var ys = await scope.Conversations.CreateAsync(new NewConversation { UserId = y.Id, Title = "Y's" });
        var share = await scope.Conversations.CreateShareAsync(ys.Id);
        var xc = scope.Conversations.ForUser(x.Id);
        Assert.Equal(x.Id, xc.OwnerId);

        var attempts = new Func<Task>[]
        {
            () => xc.GetAsync(ys.Id), () => xc.RenameAsync(ys.Id, "stolen"), () => xc.ArchiveAsync(ys.Id), () => xc.PinAsync(ys.Id),
            () => xc.SetModeAsync(ys.Id, "x"), () => xc.SetSubjectAsync(ys.Id, null), () => xc.UpdateMetadataAsync(ys.Id, Json("{}")),
            () => xc.DeleteAsync(ys.Id), () => xc.RestoreAsync(ys.Id), () => xc.HardDeleteAsync(ys.Id), () => xc.ListAsync(y.Id),
            () => xc.CreateAsync(new NewConversation { UserId = y.Id }), () => xc.CreateShareAsync(ys.Id), () => xc.ListSharesAsync(ys.Id),
            () => xc.RevokeShareAsync(share.Share.Id), () => xc.CreateShareAsync(ys.Id, createdBy: y.Id),
        };
        foreach (var attempt in attempts)
            await Assert.ThrowsAsync<ChatStoreNotFoundException>(attempt);
        Assert.Equal("Y's", (await scope.Conversations.ForUser(y.Id).GetAsync(ys.Id)).Title);

        var own = await xc.CreateAsync(new NewConversation { UserId = x.Id });
        Assert.Equal([own.Id], (await xc.ListAsync(x.Id)).Items.Select(c => c.Id));
        Assert.True((await xc.PinAsync(own.Id)).Pinned);
        Assert.Equal(x.Id, (await xc.CreateShareAsync(own.Id)).Share.CreatedBy);
    }

    [Fact]
    public async Task Bad_input_is_rejected_naming_the_field_and_nothing_is_stored()
    {
        var (client, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        NewConversation Ok() => new() { UserId = user.Id, Title = "ok" };
        var maxTitle = client.Context.Limits.MaxTitleLength;
        var cases = new (NewConversation Conversation, string Field, string Rule)[]
        {
            (Ok() with { Title = "a\0b" }, "title", "nul_character"),
            (Ok() with { Title = "lone \ud800 high" }, "title", "unpaired_surrogate"),
            (Ok() with { Title = "lone low \udfff" }, "title", "unpaired_surrogate"),
            (Ok() with { Title = new string('t', maxTitle + 1) }, "title", "max_length"),
            (Ok() with { Mode = "" }, "mode", "required"),
            (Ok() with { Mode = "m\0" }, "mode", "nul_character"),
            (Ok() with { State = Json("[1]") }, "state", "json_type"),
            (Ok() with { State = Json("42") }, "state", "json_type"),
            (Ok() with { Metadata = Json("\"x\"") }, "metadata", "json_type"),
            (Ok() with { Metadata = Json("""{"k":["ok","\ud800"]}""") }, "metadata.k[1]", "unpaired_surrogate"),
            (Ok() with { UserId = Guid.Empty }, "userId", "required"),
            (Ok() with { SubjectId = Guid.Empty }, "subjectId", "required"),
            (Ok() with { Id = Guid.Empty }, "id", "required"),
        };
        foreach (var (conversation, field, rule) in cases)
        {
            var error = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Conversations.CreateAsync(conversation));
            Assert.Equal((field, rule), (error.Field, error.Rule));
        }
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM conversations WHERE tenant_id = $1", tenant.Id));

        var c = await scope.Conversations.CreateAsync(Ok());
        var conversations = scope.Conversations;
        var updates = new (Func<Task> Act, string Field, string Rule)[]
        {
            (() => conversations.RenameAsync(c.Id, "x\0"), "title", "nul_character"),
            (() => conversations.RenameAsync(c.Id, null!), "title", "required"),
            (() => conversations.RenameAsync(c.Id, new string('t', maxTitle + 1)), "title", "max_length"),
            (() => conversations.SetModeAsync(c.Id, "ok", Json("[]")), "state", "json_type"),
            (() => conversations.UpdateMetadataAsync(c.Id, Json("1")), "metadata", "json_type"),
            (() => conversations.ListAsync(user.Id, new() { Limit = 0 }), "limit", "range"),
            (() => conversations.ListAsync(user.Id, new() { Limit = 501 }), "limit", "range"),
            (() => conversations.ListAsync(user.Id, new() { Cursor = "not-a-cursor" }), "cursor", "cursor"),
            (() => conversations.ListAsync(user.Id, new() { Cursor = new string('_', 32) }), "cursor", "cursor"),
            (() => conversations.ListAsync(user.Id, new() { Status = (ConversationStatus)7 }), "status", "enum"),
            (() => conversations.ListAsync(user.Id, new() { From = DateTimeOffset.UtcNow, To = DateTimeOffset.UtcNow.AddDays(-1) }), "to", "range"),
            (() => conversations.CreateShareAsync(c.Id, expiresAt: DateTimeOffset.UtcNow.AddMinutes(-1)), "expiresAt", "future"),
            (() => conversations.CreateShareAsync(c.Id, upToSeq: -1), "upToSeq", "not_negative"),
            (() => conversations.CreateShareAsync(c.Id, upToSeq: 1), "upToSeq", "range"),
        };
        foreach (var (act, field, rule) in updates)
        {
            var error = await Assert.ThrowsAsync<ChatStoreValidationException>(act);
            Assert.Equal((field, rule), (error.Field, error.Rule));
        }
        var after = await scope.Conversations.GetAsync(c.Id);
        Assert.Equal(("ok", c.UpdatedAt, "{}", "{}"), (after.Title, after.UpdatedAt, after.State.GetRawText(), after.Metadata.GetRawText()));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM conversation_shares WHERE conversation_id = $1", c.Id));
    }

    [Fact]
    public async Task List_is_served_by_the_recent_index_without_a_sort()
    {
        var (client, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        // Another user's conversations too: the tenant-wide index would have to skip them.
        var other = await TestStore.NewUserAsync(scope);
        foreach (var owner in new[] { user.Id, other.Id })
            await Owner.ExecuteAsync("""
                INSERT INTO conversations (id, tenant_id, user_id, last_activity_at, deleted_at)
                SELECT gen_random_uuid(), $1, $2, now() - i * interval '1 minute', CASE WHEN i % 10 = 0 THEN now() END
                  FROM generate_series(1, 3000) i
                """, tenant.Id, owner);
        await Owner.ExecuteAsync("ANALYZE conversations");

        var first = await PlanAsync(client, tenant.Id, user.Id, ConversationStore.ListSql, cursor: null);
        Assert.Contains("Index Scan using conversations_recent_idx", first, StringComparison.Ordinal);
        Assert.DoesNotContain("Sort", first, StringComparison.Ordinal);

        var page = await scope.Conversations.ListAsync(user.Id, new() { Limit = 20 });
        var next = await PlanAsync(client, tenant.Id, user.Id, ConversationStore.ListSql, cursor: page.NextCursor);
        Assert.Contains("Index Scan using conversations_recent_idx", next, StringComparison.Ordinal);
        Assert.DoesNotContain("Sort", next, StringComparison.Ordinal);

        // Live and deleted: two ordered index scans merged, no sort node.
        var withDeleted = await PlanAsync(client, tenant.Id, user.Id, ConversationStore.ListWithDeletedSql, cursor: page.NextCursor);
        Assert.Contains("Merge Append", withDeleted, StringComparison.Ordinal);
        Assert.Contains("Index Scan using conversations_recent_idx", withDeleted, StringComparison.Ordinal);
        Assert.Contains("Index Scan using conversations_deleted_recent_idx", withDeleted, StringComparison.Ordinal);
        Assert.DoesNotContain("->  Sort", withDeleted, StringComparison.Ordinal);
    }

    /// <summary>EXPLAIN of a list statement as the application role in the tenant, with the parameters the store sends.</summary>
    static async Task<string> PlanAsync(ChatStoreClient client, Guid tenantId, Guid userId, string sql, string? cursor)
    {
        await using var conn = new NpgsqlConnection(TestStore.ConnectionString);
        await conn.OpenAsync();
        await using var tx = await conn.BeginTransactionAsync();
        foreach (var setting in new[] { client.Context.SetRoleSql, $"SET LOCAL chatstore.tenant_id = '{tenantId}'" })
        {
            await using var set = new NpgsqlCommand(setting, conn, tx);
            await set.ExecuteNonQueryAsync();
        }
        (DateTimeOffset At, Guid Id)? after = cursor is null ? null : Cursor.DecodeTime(cursor);
        await using var cmd = new NpgsqlCommand("EXPLAIN " + client.Context.Sql(sql), conn, tx);
        object?[] values = [userId, after?.At, after?.Id, null, null, null, null, null, 21];
        NpgsqlTypes.NpgsqlDbType[] types = [NpgsqlTypes.NpgsqlDbType.Uuid, NpgsqlTypes.NpgsqlDbType.TimestampTz, NpgsqlTypes.NpgsqlDbType.Uuid,
            NpgsqlTypes.NpgsqlDbType.Text, NpgsqlTypes.NpgsqlDbType.Boolean, NpgsqlTypes.NpgsqlDbType.Uuid,
            NpgsqlTypes.NpgsqlDbType.TimestampTz, NpgsqlTypes.NpgsqlDbType.TimestampTz, NpgsqlTypes.NpgsqlDbType.Integer];
        if (StoreContext.NamesTenant(sql))
            cmd.Parameters.Add(new NpgsqlParameter { Value = tenantId, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        for (var i = 0; i < values.Length; i++)
            cmd.Parameters.Add(new NpgsqlParameter { Value = values[i] ?? DBNull.Value, NpgsqlDbType = types[i] });
        var lines = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        return string.Join("\n", lines);
    }
}
