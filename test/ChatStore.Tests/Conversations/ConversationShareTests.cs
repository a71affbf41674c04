using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ChatStore.Conversations;

namespace ChatStore.Tests.Conversations;

public sealed class ConversationShareTests
{
    [Fact]
    public async Task A_share_shows_messages_up_to_its_seq_without_owner_identity()
    {
        var (client, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await scope.Users.CreateAsync(new ChatStore.Users.NewUser { Email = $"owner{Guid.NewGuid():N}@example.com", Name = "Owner Name", ExternalId = "owner-ext" });
        var c = await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id, Title = "Dog training", Metadata = JsonDocument.Parse("""{"owner":"secret"}""").RootElement });
        await Owner.AddMessageAsync(c.Id, "system", "You are a secret prompt.");
        await Owner.AddMessageAsync(c.Id, "user", "How do I teach sit?");
        await Owner.AddMessageAsync(c.Id, "assistant", "Use a treat.", citations: """[{"url":"https://example.com/sit"}]""");
        await Owner.AddMessageAsync(c.Id, "tool", "tool output");
        await Owner.AddMessageAsync(c.Id, "user", "And stay?");
        await Owner.AddMessageAsync(c.Id, "assistant", "Partial answ", status: "streaming");

        var created = await scope.Conversations.CreateShareAsync(c.Id, createdBy: user.Id);
        Assert.Equal((6L, user.Id, c.Id, tenant.Id), (created.Share.UpToSeq, created.Share.CreatedBy, created.Share.ConversationId, created.Share.TenantId));
        Assert.StartsWith("cs_share_", created.Token, StringComparison.Ordinal);
        Assert.Equal(16 + 16, System.Buffers.Text.Base64Url.DecodeFromChars(created.Token.AsSpan(9)).Length); // tenant id + 128 random bits
        Assert.DoesNotContain(created.Token, created.ToString(), StringComparison.Ordinal);
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM conversation_shares s WHERE tenant_id = $1 AND position($2 in s::text) > 0", tenant.Id, created.Token));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM conversation_shares WHERE token_hash = $1", SHA256.HashData(Encoding.UTF8.GetBytes(created.Token))));

        // Messages added after sharing are not shown, nor deleted, streaming, system or tool messages.
        await Owner.AddMessageAsync(c.Id, "assistant", "Later answer.");
        await Owner.ExecuteAsync("UPDATE messages SET deleted_at = now() WHERE conversation_id = $1 AND seq = 5", c.Id);
        var shared = await client.GetSharedConversationAsync(created.Token);
        Assert.Equal(("Dog training", c.CreatedAt), (shared.Title, shared.CreatedAt));
        Assert.Equal([(2L, "user", "How do I teach sit?"), (3L, "assistant", "Use a treat.")], shared.Messages.Select(m => (m.Seq, m.Role, m.Content)));
        Assert.Equal("https://example.com/sit", shared.Messages[1].Citations[0].GetProperty("url").GetString());

        var json = JsonSerializer.Serialize(shared);
        foreach (var secret in new[] { user.Id.ToString(), user.Email!, "Owner Name", "owner-ext", "secret", c.Id.ToString(), tenant.Id.ToString() })
            Assert.DoesNotContain(secret, json, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_explicit_seq_limits_what_is_shown_and_must_not_pass_the_last_message()
    {
        var (client, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var c = await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id });
        var empty = await scope.Conversations.CreateShareAsync(c.Id);
        Assert.Equal(0L, empty.Share.UpToSeq);
        for (var i = 1; i <= 4; i++) await Owner.AddMessageAsync(c.Id, i % 2 == 1 ? "user" : "assistant", $"m{i}");

        var two = await scope.Conversations.CreateShareAsync(c.Id, upToSeq: 2);
        Assert.Equal(["m1", "m2"], (await client.GetSharedConversationAsync(two.Token)).Messages.Select(m => m.Content));
        Assert.Empty((await client.GetSharedConversationAsync(empty.Token)).Messages);
        var error = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Conversations.CreateShareAsync(c.Id, upToSeq: 5));
        Assert.Equal(("upToSeq", "range"), (error.Field, error.Rule));
        Assert.Equal(2, (await scope.Conversations.ListSharesAsync(c.Id)).Count);
    }

    [Fact]
    public async Task Revoked_expired_unknown_and_malformed_tokens_and_deleted_conversations_are_not_found()
    {
        var (client, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var c = await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id, Title = "t" });
        await Owner.AddMessageAsync(c.Id, "user", "hi");
        var revoked = await scope.Conversations.CreateShareAsync(c.Id);
        var expiring = await scope.Conversations.CreateShareAsync(c.Id, expiresAt: DateTimeOffset.UtcNow.AddHours(1));
        var live = await scope.Conversations.CreateShareAsync(c.Id);
        Assert.NotNull(expiring.Share.ExpiresAt);

        var r = await scope.Conversations.RevokeShareAsync(revoked.Share.Id);
        Assert.NotNull(r.RevokedAt);
        Assert.Equal(r.RevokedAt, (await scope.Conversations.RevokeShareAsync(revoked.Share.Id)).RevokedAt);
        await Owner.ExecuteAsync("UPDATE conversation_shares SET expires_at = now() - interval '1 second' WHERE id = $1", expiring.Share.Id);

        var tampered = live.Token[..^2] + (live.Token[^2] == 'A' ? "BB" : "AA");
        var zeroTenant = "cs_share_" + System.Buffers.Text.Base64Url.EncodeToString(new byte[32]);
        foreach (var token in new[] { revoked.Token, expiring.Token, tampered, zeroTenant, "", "cs_share_", "cs_share_%%%", "nonsense", "cs_sess_" + live.Token[9..], "cs_share_\ud800" })
        {
            var error = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => client.GetSharedConversationAsync(token));
            Assert.Equal("share", error.Entity);
            Assert.DoesNotContain(live.Token, error.Message, StringComparison.Ordinal);
        }
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => client.GetSharedConversationAsync(null!));
        Assert.Equal("t", (await client.GetSharedConversationAsync(live.Token)).Title);

        // Soft-deleting the conversation takes its links down; restoring brings them back.
        await scope.Conversations.DeleteAsync(c.Id);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => client.GetSharedConversationAsync(live.Token));
        await scope.Conversations.RestoreAsync(c.Id);
        Assert.Single((await client.GetSharedConversationAsync(live.Token)).Messages);

        var shares = await scope.Conversations.ListSharesAsync(c.Id);
        Assert.Equal([live.Share.Id, expiring.Share.Id, revoked.Share.Id], shares.Select(s => s.Id));
        Assert.Equal([false, false, true], shares.Select(s => s.RevokedAt is not null));

        // Nor does a deleted user's conversation stay public.
        await scope.Users.DeleteAsync(user.Id);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => client.GetSharedConversationAsync(live.Token));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Shares_of_another_tenant_or_user_cannot_be_listed_created_or_revoked(bool bypassRowLevelSecurity)
    {
        var (client, a, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var (_, b, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var x = await TestStore.NewUserAsync(a);
        var y = await TestStore.NewUserAsync(a);
        var c = await a.Conversations.CreateAsync(new NewConversation { UserId = x.Id });
        var share = await a.Conversations.CreateShareAsync(c.Id);
        var foreignUser = await TestStore.NewUserAsync(b);

        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Conversations.ListSharesAsync(c.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Conversations.RevokeShareAsync(share.Share.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Conversations.CreateShareAsync(c.Id));
        var byForeigner = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => a.Conversations.CreateShareAsync(c.Id, createdBy: foreignUser.Id));
        Assert.Equal("user", byForeigner.Entity);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => a.Conversations.ForUser(y.Id).ListSharesAsync(c.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => a.Conversations.ForUser(y.Id).RevokeShareAsync(share.Share.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => a.Conversations.RevokeShareAsync(Guid.NewGuid()));

        Assert.Null(Assert.Single(await a.Conversations.ForUser(x.Id).ListSharesAsync(c.Id)).RevokedAt);
        Assert.Empty((await client.GetSharedConversationAsync(share.Token)).Messages);
        Assert.Empty(await a.Conversations.ListSharesAsync((await a.Conversations.CreateAsync(new NewConversation { UserId = y.Id })).Id));
    }
}
