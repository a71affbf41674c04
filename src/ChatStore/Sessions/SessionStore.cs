using System.Net;
using Npgsql;

namespace ChatStore.Sessions
{
    /// <summary>
    /// Login sessions: create (the token is returned once; only its SHA-256 hash is stored), validate,
    /// revoke, list, purge. <see cref="ForUser"/> gives a store restricted to one user's sessions.
    /// </summary>
    public sealed class SessionStore
    {
        internal const string TokenPrefix = "cs_sess";

        /// <summary>The shortest session lifetime <see cref="CreateAsync"/> accepts.</summary>
        public static readonly TimeSpan MinLifetime = TimeSpan.FromMinutes(1);

        /// <summary>The longest session lifetime <see cref="CreateAsync"/> accepts.</summary>
        public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(365);

        /// <summary>The most expired sessions one <see cref="PurgeExpiredAsync"/> call deletes.</summary>
        public const int MaxPurgeBatch = 10_000;

        const int MaxIpAddressLength = 64;
        const int MaxUserAgentLength = 1000;
        const int MaxTokenLength = 200;

        const string Columns = "id, tenant_id, user_id, created_at, expires_at, last_accessed_at, revoked_at, ip_address, user_agent";

        readonly TenantScope _scope;
        readonly Guid? _ownerId;

        internal SessionStore(TenantScope scope, Guid? ownerId = null)
        {
            _scope = scope;
            _ownerId = ownerId;
        }

        /// <summary>
        /// The same store restricted to <paramref name="userId"/>'s sessions: another user's session
        /// (or user id) is not found. Give this to code acting for a signed-in user.
        /// </summary>
        public SessionStore ForUser(Guid userId) => new(_scope, Validate.Id(userId, "userId"));

        /// <summary>
        /// Creates a session for an existing (not deleted) user, valid for <paramref name="lifetime"/>
        /// (between <see cref="MinLifetime"/> and <see cref="MaxLifetime"/>). The result holds the token;
        /// it cannot be recovered later.
        /// </summary>
        public async Task<CreatedSession> CreateAsync(Guid userId, TimeSpan lifetime, string? ipAddress = null, string? userAgent = null,
            CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("sessions.create");
            Owned(userId);
            Validate.Range(lifetime, "lifetime", MinLifetime, MaxLifetime);
            ipAddress = Validate.Text(ipAddress, "ipAddress", MaxIpAddressLength);
            if (ipAddress is not null && !IPAddress.TryParse(ipAddress, out _))
                throw new ChatStoreValidationException("ipAddress", "format", "is not an IPv4 or IPv6 address.");
            userAgent = Validate.Text(userAgent, "userAgent", MaxUserAgentLength);

            var token = Ids.NewTenantToken(TokenPrefix, _scope.TenantId, 32);
            // The user must exist in this tenant (row-level security hides other tenants' users).
            const string sql = $$"""
                INSERT INTO {schema}.sessions AS target (id, tenant_id, user_id, token_hash, expires_at, ip_address, user_agent)
                SELECT $1, u.tenant_id, u.id, $3, now() + $4::interval, $5, $6
                  FROM {schema}.users u
                 WHERE u.tenant_id = {tenant} AND u.id = $2 AND u.deleted_at IS NULL
                RETURNING {{Columns}}
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(Ids.New()).Add(userId).Add(Ids.HashToken(token)).Add(lifetime).Add(ipAddress).Add(userAgent);
            var session = await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("user", userId);
            return new CreatedSession(session, token);
        }

        /// <summary>
        /// The session a token authenticates, or <c>null</c> when the token is unknown, malformed, of
        /// another tenant, expired or revoked, or its user is deleted (an HTTP layer answers 401).
        /// Records the access in the same statement, at most once a minute per session so that a busy
        /// session does not write on every request.
        /// </summary>
        public async Task<Session?> ValidateAsync(string token, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("sessions.validate");
            // A token names its tenant; one of another tenant (or no token at all) cannot match here.
            if (token is null || token.Length > MaxTokenLength || TenantOfToken(token) != _scope.TenantId)
                return null;
            const string sql = """
                WITH found AS (
                    SELECT s.id, s.tenant_id, s.user_id, s.created_at, s.expires_at, s.last_accessed_at, s.revoked_at, s.ip_address, s.user_agent
                      FROM {schema}.sessions s
                      JOIN {schema}.users u ON u.tenant_id = {tenant} AND u.id = s.user_id AND u.deleted_at IS NULL
                     WHERE s.tenant_id = {tenant} AND s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND ($2::uuid IS NULL OR s.user_id = $2)
                ), touched AS (
                    UPDATE {schema}.sessions s SET last_accessed_at = now()
                      FROM found f
                     WHERE s.tenant_id = {tenant} AND s.id = f.id AND f.last_accessed_at < now() - interval '1 minute'
                    RETURNING s.last_accessed_at
                )
                SELECT f.id, f.tenant_id, f.user_id, f.created_at, f.expires_at,
                       coalesce((SELECT t.last_accessed_at FROM touched t), f.last_accessed_at), f.revoked_at, f.ip_address, f.user_agent
                  FROM found f
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(Ids.HashToken(token)).Add(_ownerId);
            return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Revokes a session; it stops validating at once. Revoking a revoked session keeps its first revocation time.</summary>
        public async Task<Session> RevokeAsync(Guid sessionId, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("sessions.revoke");
            const string sql = $$"""
                UPDATE {schema}.sessions SET revoked_at = least(revoked_at, now())
                 WHERE tenant_id = {tenant} AND id = $1 AND ($2::uuid IS NULL OR user_id = $2)
                RETURNING {{Columns}}
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(sessionId).Add(_ownerId);
            return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("session", sessionId);
        }

        /// <summary>
        /// Revokes every active session of a user ("sign out everywhere"), except
        /// <paramref name="exceptSessionId"/> when given ("sign out other devices"). Returns how many were revoked.
        /// </summary>
        public async Task<int> RevokeAllForUserAsync(Guid userId, Guid? exceptSessionId = null, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("sessions.revoke_all_for_user");
            Owned(userId);
            const string sql = """
                UPDATE {schema}.sessions SET revoked_at = now()
                 WHERE tenant_id = {tenant} AND user_id = $1
                   AND revoked_at IS NULL AND expires_at > now() AND ($2::uuid IS NULL OR id <> $2)
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(userId).Add(exceptSessionId);
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        /// <summary>A user's active sessions (not revoked, not expired), most recently used first.</summary>
        public async Task<IReadOnlyList<Session>> ListForUserAsync(Guid userId, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("sessions.list_for_user");
            Owned(userId);
            const string sql = $$"""
                SELECT {{Columns}} FROM {schema}.sessions
                 WHERE tenant_id = {tenant} AND user_id = $1 AND revoked_at IS NULL AND expires_at > now()
                 ORDER BY last_accessed_at DESC, id DESC
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(userId);
            return await cmd.ReadListAsync(Map, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// Deletes up to <paramref name="batchSize"/> sessions that expired more than
        /// <paramref name="olderThan"/> ago (default: any expired session), oldest first, and returns how
        /// many it deleted. Revoked sessions go once they expire. Each call is one short statement: call
        /// again while it returns <paramref name="batchSize"/>. Concurrent purges skip each other's rows.
        /// </summary>
        public async Task<int> PurgeExpiredAsync(TimeSpan? olderThan = null, int batchSize = 1000, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("sessions.purge_expired");
            var age = Validate.Range(olderThan ?? TimeSpan.Zero, "olderThan", TimeSpan.Zero, TimeSpan.FromDays(3650));
            Validate.Range(batchSize, "batchSize", 1, MaxPurgeBatch);
            // The batch is picked from sessions_expiry_idx and deleted by primary key (= ANY of an array,
            // not IN, so that the delete never plans a scan of the tenant's sessions).
            const string sql = """
                DELETE FROM {schema}.sessions WHERE tenant_id = {tenant} AND id = ANY (ARRAY(
                    SELECT id FROM {schema}.sessions
                     WHERE tenant_id = {tenant} AND expires_at < now() - $1::interval
                       AND ($3::uuid IS NULL OR user_id = $3)
                     ORDER BY expires_at
                     LIMIT $2
                       FOR UPDATE SKIP LOCKED))
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(age).Add(batchSize).Add(_ownerId);
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        /// <summary>The tenant a session token names, or null for anything that is not such a token.</summary>
        internal static Guid? TenantOfToken(string? token)
        {
            try
            {
                return Ids.TenantOfToken(token, TokenPrefix);
            }
            catch (FormatException)
            {
                return null; // Base64Url.TryDecodeFromChars throws on some non-base64url text
            }
        }

        /// <summary>Checks a user id argument, and that a restricted store is asked only about its own user.</summary>
        void Owned(Guid userId)
        {
            Validate.Id(userId, "userId");
            if (_ownerId is Guid owner && owner != userId)
                throw new ChatStoreNotFoundException("user", userId);
        }

        static Session Map(NpgsqlDataReader r) => new(
            r.GetGuid(0), r.GetGuid(1), r.GetGuid(2), r.GetFieldValue<DateTimeOffset>(3), r.GetFieldValue<DateTimeOffset>(4),
            r.GetFieldValue<DateTimeOffset>(5), r.IsDBNull(6) ? null : r.GetFieldValue<DateTimeOffset>(6),
            r.IsDBNull(7) ? null : r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8));
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>The tenant's login sessions.</summary>
        public Sessions.SessionStore Sessions => new(this);
    }
}
