using System.Security.Cryptography;
using System.Text;
using ChatStore.Sessions;
using ChatStore.Tests.Conversations;

namespace ChatStore.Tests.Sessions;

public sealed class SessionStoreTests
{
    static readonly TimeSpan Day = TimeSpan.FromDays(1);

    [Fact]
    public async Task Create_returns_the_token_once_and_stores_only_its_hash()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var created = await scope.Sessions.CreateAsync(user.Id, Day, "2001:db8::1", "Mozilla/5.0 (X11) 🐶");

        Assert.StartsWith("cs_sess_", created.Token, StringComparison.Ordinal);
        Assert.True(created.Token.Length >= 8 + 64, "16 tenant bytes + 32 random bytes, base64url");
        Assert.Equal((user.Id, tenant.Id, "2001:db8::1", "Mozilla/5.0 (X11) 🐶"),
            (created.Session.UserId, created.Session.TenantId, created.Session.IpAddress, created.Session.UserAgent));
        Assert.InRange(created.Session.ExpiresAt - created.Session.CreatedAt, Day - TimeSpan.FromSeconds(1), Day + TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(created.Token, created.ToString(), StringComparison.Ordinal);

        // The row holds the SHA-256 of the token and nothing that contains the token itself.
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM sessions s WHERE tenant_id = $1 AND position($2 in s::text) > 0", tenant.Id, created.Token));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM sessions WHERE tenant_id = $1 AND token_hash = $2",
            tenant.Id, SHA256.HashData(Encoding.UTF8.GetBytes(created.Token))));

        var validated = await scope.Sessions.ValidateAsync(created.Token);
        Assert.Equal(created.Session.Id, validated?.Id);
        var again = await scope.Sessions.CreateAsync(user.Id, Day);
        Assert.NotEqual(created.Token, again.Token);
    }

    [Fact]
    public async Task Expired_revoked_and_deleted_users_sessions_do_not_validate()
    {
        var (client, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var expired = await scope.Sessions.CreateAsync(user.Id, Day);
        var revoked = await scope.Sessions.CreateAsync(user.Id, Day);
        var live = await scope.Sessions.CreateAsync(user.Id, Day);
        await Owner.ExecuteAsync("UPDATE sessions SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE id = $1", expired.Session.Id);
        var revokedSession = await scope.Sessions.RevokeAsync(revoked.Session.Id);
        Assert.NotNull(revokedSession.RevokedAt);

        Assert.Null(await scope.Sessions.ValidateAsync(expired.Token));
        Assert.Null(await client.ValidateSessionAsync(expired.Token));
        Assert.Null(await scope.Sessions.ValidateAsync(revoked.Token));
        Assert.Null(await client.ValidateSessionAsync(revoked.Token));
        Assert.NotNull(await client.ValidateSessionAsync(live.Token));

        // A user deleted behind the store's back (no revocation) no longer authenticates either.
        await Owner.ExecuteAsync("UPDATE users SET deleted_at = now() WHERE id = $1", user.Id);
        Assert.Null(await scope.Sessions.ValidateAsync(live.Token));
        Assert.Null(await client.ValidateSessionAsync(live.Token));
    }

    [Fact]
    public async Task Malformed_and_tampered_tokens_are_not_found_without_format_errors()
    {
        var (client, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var token = (await scope.Sessions.CreateAsync(user.Id, Day)).Token;
        var tampered = token[..^1] + (token[^1] == 'A' ? 'B' : 'A');
        var zeroTenant = "cs_sess_" + System.Buffers.Text.Base64Url.EncodeToString(new byte[48]);
        string[] bad = ["", "garbage", "cs_sess_", "cs_sess_!!!!", "cs_share_" + token[8..], tampered, zeroTenant, token + "x",
            new string('a', 10_000), "cs_sess_\ud800", "cs_sess_\0", token.ToUpperInvariant()];
        foreach (var t in bad)
        {
            Assert.Null(await client.ValidateSessionAsync(t));
            Assert.Null(await scope.Sessions.ValidateAsync(t));
        }
        Assert.Null(await client.ValidateSessionAsync(null!));
        Assert.NotNull(await client.ValidateSessionAsync(token));
    }

    [Fact]
    public async Task Validate_records_the_access_at_most_once_a_minute()
    {
        var (client, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var created = await scope.Sessions.CreateAsync(user.Id, Day);
        await Owner.ExecuteAsync("UPDATE sessions SET created_at = now() - interval '1 hour', last_accessed_at = now() - interval '10 minutes' WHERE id = $1", created.Session.Id);

        var before = DateTimeOffset.UtcNow;
        var touched = await client.ValidateSessionAsync(created.Token);
        Assert.NotNull(touched);
        Assert.True(touched.LastAccessedAt > before.AddSeconds(-5), $"{touched.LastAccessedAt} should be about now");
        var stored = await TestStore.ScalarAsync<DateTime>("SELECT last_accessed_at FROM sessions WHERE id = $1", created.Session.Id);
        Assert.Equal(touched.LastAccessedAt.UtcDateTime, stored);

        // Within the minute the row is not written again.
        var xmin = await TestStore.ScalarAsync<string>("SELECT xmin::text FROM sessions WHERE id = $1", created.Session.Id);
        var second = await scope.Sessions.ValidateAsync(created.Token);
        Assert.Equal(touched.LastAccessedAt, second?.LastAccessedAt);
        Assert.Equal(xmin, await TestStore.ScalarAsync<string>("SELECT xmin::text FROM sessions WHERE id = $1", created.Session.Id));
    }

    [Fact]
    public async Task Revoke_all_signs_out_everywhere_but_the_excepted_session()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var other = await TestStore.NewUserAsync(scope);
        var sessions = new List<CreatedSession>();
        for (var i = 0; i < 3; i++) sessions.Add(await scope.Sessions.CreateAsync(user.Id, Day));
        var othersSession = await scope.Sessions.CreateAsync(other.Id, Day);

        Assert.Equal(2, await scope.Sessions.RevokeAllForUserAsync(user.Id, exceptSessionId: sessions[0].Session.Id));
        Assert.Equal([sessions[0].Session.Id], (await scope.Sessions.ListForUserAsync(user.Id)).Select(s => s.Id));
        Assert.Null(await scope.Sessions.ValidateAsync(sessions[1].Token));
        Assert.NotNull(await scope.Sessions.ValidateAsync(sessions[0].Token));
        Assert.Equal(1, await scope.Sessions.RevokeAllForUserAsync(user.Id));
        Assert.Equal(0, await scope.Sessions.RevokeAllForUserAsync(user.Id));
        Assert.Empty(await scope.Sessions.ListForUserAsync(user.Id));
        Assert.NotNull(await scope.Sessions.ValidateAsync(othersSession.Token));
    }

    [Fact]
    public async Task List_shows_active_sessions_most_recently_used_first()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var a = await scope.Sessions.CreateAsync(user.Id, Day);
        var b = await scope.Sessions.CreateAsync(user.Id, Day);
        var expired = await scope.Sessions.CreateAsync(user.Id, Day);
        await Owner.ExecuteAsync("UPDATE sessions SET last_accessed_at = now() - interval '1 hour' WHERE id = $1", b.Session.Id);
        await Owner.ExecuteAsync("UPDATE sessions SET last_accessed_at = now() - interval '2 hours' WHERE id = $1", a.Session.Id);
        await Owner.ExecuteAsync("UPDATE sessions SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 hour' WHERE id = $1", expired.Session.Id);
        await scope.Sessions.ValidateAsync(a.Token); // a is now the most recently used

        Assert.Equal([a.Session.Id, b.Session.Id], (await scope.Sessions.ListForUserAsync(user.Id)).Select(s => s.Id));
    }

    [Fact]
    public async Task Purge_deletes_expired_sessions_in_bounded_batches_and_keeps_live_ones()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var live = await scope.Sessions.CreateAsync(user.Id, Day);
        for (var i = 0; i < 5; i++)
        {
            var s = await scope.Sessions.CreateAsync(user.Id, Day);
            await Owner.ExecuteAsync("UPDATE sessions SET created_at = now() - interval '3 days', expires_at = now() - interval '1 day' WHERE id = $1", s.Session.Id);
        }
        var (_, otherTenant, _) = await TestStore.NewTenantAsync();
        var otherUser = await TestStore.NewUserAsync(otherTenant);
        var othersExpired = await otherTenant.Sessions.CreateAsync(otherUser.Id, Day);
        await Owner.ExecuteAsync("UPDATE sessions SET created_at = now() - interval '3 days', expires_at = now() - interval '1 day' WHERE id = $1", othersExpired.Session.Id);

        Assert.Equal(0, await scope.Sessions.PurgeExpiredAsync(olderThan: TimeSpan.FromDays(2)));
        Assert.Equal(2, await scope.Sessions.PurgeExpiredAsync(batchSize: 2));
        Assert.Equal(2, await scope.Sessions.PurgeExpiredAsync(batchSize: 2));
        Assert.Equal(1, await scope.Sessions.PurgeExpiredAsync(batchSize: 2));
        Assert.Equal(0, await scope.Sessions.PurgeExpiredAsync());
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM sessions WHERE tenant_id = $1", tenant.Id));
        Assert.NotNull(await scope.Sessions.ValidateAsync(live.Token));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM sessions WHERE id = $1", othersExpired.Session.Id));

        Assert.Equal("batchSize", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Sessions.PurgeExpiredAsync(batchSize: 0))).Field);
        Assert.Equal("olderThan", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Sessions.PurgeExpiredAsync(TimeSpan.FromHours(-1)))).Field);
    }

    [Fact]
    public async Task Bad_input_is_rejected_naming_the_field_and_nothing_is_stored()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var cases = new (Func<Task> Act, string Field, string Rule)[]
        {
            (() => scope.Sessions.CreateAsync(user.Id, TimeSpan.FromSeconds(59)), "lifetime", "range"),
            (() => scope.Sessions.CreateAsync(user.Id, TimeSpan.FromDays(366)), "lifetime", "range"),
            (() => scope.Sessions.CreateAsync(user.Id, -Day), "lifetime", "range"),
            (() => scope.Sessions.CreateAsync(user.Id, Day, ipAddress: "not-an-ip"), "ipAddress", "format"),
            (() => scope.Sessions.CreateAsync(user.Id, Day, ipAddress: "10.0.0.1\0"), "ipAddress", "nul_character"),
            (() => scope.Sessions.CreateAsync(user.Id, Day, userAgent: "agent\0"), "userAgent", "nul_character"),
            (() => scope.Sessions.CreateAsync(user.Id, Day, userAgent: "agent \ud83d"), "userAgent", "unpaired_surrogate"),
            (() => scope.Sessions.CreateAsync(user.Id, Day, userAgent: new string('a', 1001)), "userAgent", "max_length"),
            (() => scope.Sessions.CreateAsync(Guid.Empty, Day), "userId", "required"),
        };
        foreach (var (act, field, rule) in cases)
        {
            var error = await Assert.ThrowsAsync<ChatStoreValidationException>(act);
            Assert.Equal((field, rule), (error.Field, error.Rule));
        }
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Sessions.CreateAsync(Guid.NewGuid(), Day));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Sessions.RevokeAsync(Guid.NewGuid()));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM sessions WHERE tenant_id = $1", tenant.Id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Another_tenant_cannot_see_use_or_revoke_a_session(bool bypassRowLevelSecurity)
    {
        var (_, a, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var (_, b, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var user = await TestStore.NewUserAsync(a);
        var created = await a.Sessions.CreateAsync(user.Id, Day);

        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Sessions.CreateAsync(user.Id, Day));
        Assert.Null(await b.Sessions.ValidateAsync(created.Token));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Sessions.RevokeAsync(created.Session.Id));
        Assert.Equal(0, await b.Sessions.RevokeAllForUserAsync(user.Id));
        Assert.Empty(await b.Sessions.ListForUserAsync(user.Id));
        Assert.NotNull(await a.Sessions.ValidateAsync(created.Token));
    }

    [Fact]
    public async Task A_store_for_one_user_does_not_reach_another_users_sessions()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var x = await TestStore.NewUserAsync(scope);
        var y = await TestStore.NewUserAsync(scope);
        var ys = await scope.Sessions.CreateAsync(y.Id, Day);
        var xs = scope.Sessions.ForUser(x.Id);

        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => xs.RevokeAsync(ys.Session.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => xs.ListForUserAsync(y.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => xs.RevokeAllForUserAsync(y.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => xs.CreateAsync(y.Id, Day));
        Assert.Null(await xs.ValidateAsync(ys.Token));
        Assert.NotNull(await scope.Sessions.ForUser(y.Id).ValidateAsync(ys.Token));

        var own = await xs.CreateAsync(x.Id, Day);
        Assert.Equal(own.Session.Id, Assert.Single(await xs.ListForUserAsync(x.Id)).Id);
        await xs.RevokeAsync(own.Session.Id);
        Assert.Null(await scope.Sessions.ValidateAsync(own.Token));
    }
}
