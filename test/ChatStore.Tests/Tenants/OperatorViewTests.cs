using ChatStore.Conversations;
using ChatStore.Embeddings;
using ChatStore.Messages;
using ChatStore.Users;

namespace ChatStore.Tests.Tenants;

/// <summary>The library calls behind the console's operator and tenant overviews.</summary>
public sealed class OperatorViewTests
{
    [Fact]
    public async Task Counts_cover_one_tenant_only_and_leave_out_deleted_rows()
    {
        var (client, scope, tenant) = await TestStore.NewTenantAsync();
        var (_, otherScope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var gone = await TestStore.NewUserAsync(scope);
        await scope.Users.DeleteAsync(gone.Id);
        var kept = await scope.Conversations.CreateAsync(new() { UserId = user.Id });
        var deleted = await scope.Conversations.CreateAsync(new() { UserId = user.Id });
        await scope.Messages.AppendAsync(kept.Id, new NewMessage { Role = MessageRole.User, Content = "one" });
        await scope.Messages.AppendAsync(kept.Id, new NewMessage { Role = MessageRole.User, Content = "two" });
        await scope.Messages.AppendAsync(deleted.Id, new NewMessage { Role = MessageRole.User, Content = "three" });
        await scope.Conversations.DeleteAsync(deleted.Id);
        await client.Tenants.CreateApiKeyAsync(tenant.Id, "a");
        var revoked = await client.Tenants.CreateApiKeyAsync(tenant.Id, "b");
        await client.Tenants.RevokeApiKeyAsync(tenant.Id, revoked.Key.Id);
        var otherUser = await TestStore.NewUserAsync(otherScope);
        await otherScope.Conversations.CreateAsync(new() { UserId = otherUser.Id });

        var counts = await client.Tenants.CountsAsync(tenant.Id);

        Assert.Equal(new ChatStore.Tenants.TenantCounts(Users: 1, Conversations: 1, Messages: 2, Memories: 0, Documents: 0, ApiKeys: 1), counts);
    }

    [Fact]
    public async Task Conversations_across_users_are_paged_newest_activity_first_and_filtered()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var (_, otherScope, _) = await TestStore.NewTenantAsync();
        var ada = await TestStore.NewUserAsync(scope);
        var bob = await TestStore.NewUserAsync(scope);
        var created = new List<Conversation>();
        for (var i = 0; i < 5; i++)
            created.Add(await scope.Conversations.CreateAsync(new() { UserId = i % 2 == 0 ? ada.Id : bob.Id, Title = $"c{i}" }));
        await scope.Conversations.ArchiveAsync(created[1].Id);
        await scope.Conversations.DeleteAsync(created[4].Id);
        var stranger = await TestStore.NewUserAsync(otherScope);
        await otherScope.Conversations.CreateAsync(new() { UserId = stranger.Id, Title = "other tenant" });

        var first = await scope.Conversations.ListAcrossUsersAsync(query: new ConversationQuery { Limit = 2 });
        var second = await scope.Conversations.ListAcrossUsersAsync(query: new ConversationQuery { Limit = 2, Cursor = first.NextCursor });
        var all = first.Items.Concat(second.Items).ToList();
        var live = new List<Conversation>();
        foreach (var c in created.Take(4))
            live.Add(await scope.Conversations.GetAsync(c.Id));
        var expected = live.OrderByDescending(c => c.LastActivityAt).ThenByDescending(c => c.Id).Select(c => c.Title);
        Assert.Equal(expected, all.Select(c => c.Title));
        Assert.Null(second.NextCursor);

        var bobs = await scope.Conversations.ListAcrossUsersAsync(bob.Id);
        Assert.All(bobs.Items, c => Assert.Equal(bob.Id, c.UserId));
        Assert.Equal(2, bobs.Items.Count);
        var archived = await scope.Conversations.ListAcrossUsersAsync(query: new ConversationQuery { Status = ConversationStatus.Archived });
        Assert.Equal(["c1"], archived.Items.Select(c => c.Title));
        // A store restricted to one user lists only that user's, and another user's id is not found.
        Assert.All((await scope.Conversations.ForUser(ada.Id).ListAcrossUsersAsync()).Items, c => Assert.Equal(ada.Id, c.UserId));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Conversations.ForUser(ada.Id).ListAcrossUsersAsync(bob.Id));
    }

    [Fact]
    public async Task Find_matches_email_and_external_id_exactly_and_names_by_substring_with_like_characters_literal()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var (_, otherScope, _) = await TestStore.NewTenantAsync();
        var ada = await scope.Users.CreateAsync(new NewUser { Email = "Ada@Example.com", Name = "Ada Lovelace", ExternalId = "ext-1" });
        var percent = await scope.Users.CreateAsync(new NewUser { Name = "100% Grace" });
        await scope.Users.CreateAsync(new NewUser { Name = "1000 Graces" });
        await otherScope.Users.CreateAsync(new NewUser { Name = "Ada Other" });

        Assert.Equal([ada.Id], (await scope.Users.FindAsync("ada@example.com")).Select(u => u.Id));
        Assert.Equal([ada.Id], (await scope.Users.FindAsync("ext-1")).Select(u => u.Id));
        Assert.Equal([ada.Id], (await scope.Users.FindAsync("lovelace")).Select(u => u.Id));
        Assert.Equal([percent.Id], (await scope.Users.FindAsync("100%")).Select(u => u.Id));
        Assert.Empty(await scope.Users.FindAsync("a_a"));
    }

    [Fact]
    public async Task Feedback_and_corrections_for_a_page_of_messages_come_in_one_call()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var (_, otherScope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var c = await scope.Conversations.CreateAsync(new() { UserId = user.Id });
        var m1 = await scope.Messages.AppendAsync(c.Id, new NewMessage { Role = MessageRole.Assistant, Content = "a" });
        var m2 = await scope.Messages.AppendAsync(c.Id, new NewMessage { Role = MessageRole.Assistant, Content = "b" });
        await scope.Messages.SetFeedbackAsync(m1.Id, user.Id, new NewFeedback { Rating = FeedbackRating.Like });
        await scope.Messages.AddCorrectionAsync(m2.Id, user.Id, "better b");

        var feedback = await scope.Messages.ListFeedbackForAsync([m1.Id, m2.Id]);
        var corrections = await scope.Messages.ListCorrectionsForAsync([m1.Id, m2.Id]);

        Assert.Equal([(m1.Id, "like")], feedback.Select(f => (f.MessageId, f.Rating)));
        Assert.Equal([(m2.Id, "better b")], corrections.Select(k => (k.MessageId, k.CorrectedContent)));
        Assert.Empty(await otherScope.Messages.ListFeedbackForAsync([m1.Id, m2.Id]));
        Assert.Empty(await scope.Messages.ListFeedbackForAsync([]));
        var tooMany = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Messages.ListCorrectionsForAsync(new Guid[501]));
        Assert.Equal("messageIds", tooMany.Field);
    }

    [Fact]
    public async Task Space_stats_name_each_index_state()
    {
        var client = await TestStore.ClientAsync();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var ready = await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace { Name = $"ready-{suffix}", Model = "m", Dimensions = 8 });
        var deferred = await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace { Name = $"deferred-{suffix}", Model = "m", Dimensions = 8 }, deferIndex: true);
        var exact = await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace
        {
            Name = $"exact-{suffix}", Model = "m", Dimensions = 8, IndexKind = VectorIndexKind.None,
        });
        try
        {
            var stats = (await client.Embeddings.ListSpaceStatsAsync()).ToDictionary(s => s.Space.Name);
            Assert.Equal(VectorIndexState.Ready, stats[ready.Name].IndexState);
            Assert.Equal(VectorIndexState.Missing, stats[deferred.Name].IndexState);
            Assert.Equal(VectorIndexState.None, stats[exact.Name].IndexState);
            Assert.Null(stats[exact.Name].EstimatedRows);
        }
        finally
        {
            foreach (var space in new[] { ready, deferred, exact })
                await client.Embeddings.DropSpaceAsync(space.Name);
        }
    }
}
