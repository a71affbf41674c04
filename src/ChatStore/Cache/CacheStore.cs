using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Cache
{
    /// <summary>
    /// A keyed cache of JSON values per tenant, with optional expiry: an expired entry reads as a
    /// miss at once and is deleted by <see cref="PurgeExpiredAsync"/>.
    /// </summary>
    public sealed class CacheStore
    {
        /// <summary>The longest key, in characters.</summary>
        public const int MaxKeyLength = 500;

        /// <summary>The longest time to live.</summary>
        public static readonly TimeSpan MaxTimeToLive = TimeSpan.FromDays(36_500);

        const string Columns = "c.key, c.value::text, c.user_id, c.expires_at, c.created_at";

        readonly TenantScope _scope;

        internal CacheStore(TenantScope scope) => _scope = scope;

        /// <summary>
        /// Sets <paramref name="key"/> to <paramref name="value"/>, replacing any entry. It expires after
        /// <paramref name="timeToLive"/> (from the client's <see cref="TimeProvider"/>) or at <paramref name="expiresAt"/>
        /// (give at most one; neither means never). With <paramref name="userId"/> the entry belongs to
        /// that user of the tenant.
        /// </summary>
        public async Task<CacheEntry> SetAsync(string key, JsonElement value, TimeSpan? timeToLive = null, DateTimeOffset? expiresAt = null,
            Guid? userId = null, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("cache.set");
            key = Validate.Required(key, "key", MaxKeyLength);
            var json = Validate.Json(value, "value", _scope.Limits.MaxJsonBytes)
                       ?? throw new ChatStoreValidationException("value", "required", "is required.");
            if (timeToLive is not null && expiresAt is not null)
                throw new ChatStoreValidationException("expiresAt", "exclusive", "give timeToLive or expiresAt, not both.");
            if (timeToLive is TimeSpan ttl && (ttl <= TimeSpan.Zero || ttl > MaxTimeToLive))
                throw new ChatStoreValidationException("timeToLive", "range", $"must be more than 0 and at most {MaxTimeToLive.TotalDays} days; got {ttl}.");
            var expires = expiresAt is DateTimeOffset at
                ? Validate.Range(at, "expiresAt", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch + MaxTimeToLive).ToUniversalTime()
                : (DateTimeOffset?)null;
            if (userId is Guid u) Validate.Id(u, "userId");
            var now = _scope.Context.Time.GetUtcNow();
            if (timeToLive is TimeSpan life)
                expires = now + life;

            // Times come from the client's clock ($4 expiry, $5 now), so expiry follows its TimeProvider.
            const string sql = $$"""
                INSERT INTO {schema}.cache_entries AS c (tenant_id, key, user_id, value, expires_at, created_at)
                SELECT {tenant}, $1, $2::uuid, $3, $4::timestamptz, $5
                 WHERE $2::uuid IS NULL OR EXISTS (SELECT 1 FROM {schema}.users u WHERE u.tenant_id = {tenant} AND u.id = $2 AND u.deleted_at IS NULL)
                ON CONFLICT (tenant_id, key) DO UPDATE SET
                       user_id = EXCLUDED.user_id, value = EXCLUDED.value, expires_at = EXCLUDED.expires_at, created_at = EXCLUDED.created_at
                RETURNING {{Columns}}
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(key).Add(userId).Add(json, NpgsqlDbType.Jsonb).Add(expires).Add(now);
            try
            {
                return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("user", userId!);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                throw new ChatStoreNotFoundException("user", userId!);
            }
        }

        /// <summary>The value of <paramref name="key"/>, or null when there is none or it has expired.</summary>
        public async Task<JsonElement?> GetAsync(string key, CancellationToken cancellationToken = default) =>
            (await GetEntryAsync(key, "cache.get", cancellationToken).ConfigureAwait(false))?.Value;

        /// <summary>The entry of <paramref name="key"/> with its expiry and owner, or null when there is none or it has expired.</summary>
        public Task<CacheEntry?> GetEntryAsync(string key, CancellationToken cancellationToken = default) =>
            GetEntryAsync(key, "cache.get_entry", cancellationToken);

        async Task<CacheEntry?> GetEntryAsync(string key, string operation, CancellationToken cancellationToken)
        {
            using var op = Telemetry.Start(operation);
            key = Validate.Required(key, "key", MaxKeyLength);
            const string sql = $$"""
                SELECT {{Columns}} FROM {schema}.cache_entries c
                 WHERE c.tenant_id = {tenant} AND c.key = $1
                   AND (c.expires_at IS NULL OR c.expires_at > $2)
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(key).Add(_scope.Context.Time.GetUtcNow());
            return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Deletes <paramref name="key"/>; true when there was an entry (expired or not).</summary>
        public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("cache.delete");
            key = Validate.Required(key, "key", MaxKeyLength);
            const string sql = """
                DELETE FROM {schema}.cache_entries WHERE tenant_id = {tenant} AND key = $1
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(key);
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }

        /// <summary>
        /// Deletes up to <paramref name="limit"/> (1 to 100,000) of the tenant's expired entries, oldest
        /// expiry first; returns how many. Call it until it returns less than the limit to purge all.
        /// Entries another purge holds are skipped, so concurrent purges do not wait on each other.
        /// </summary>
        public async Task<int> PurgeExpiredAsync(int limit = 1000, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("cache.purge_expired");
            Validate.Range(limit, "limit", 1, 100_000);
            // The batch is found through cache_entries_tenant_expiry_idx (tenant_id, expires_at) and deleted
            // through the primary key; "= ANY (ARRAY(...))" keeps the planner from hash-joining the whole table.
            const string sql = """
                DELETE FROM {schema}.cache_entries
                 WHERE tenant_id = {tenant}
                   AND key = ANY (ARRAY(
                       SELECT key FROM {schema}.cache_entries
                        WHERE tenant_id = {tenant} AND expires_at <= $2
                        ORDER BY expires_at LIMIT $1
                          FOR UPDATE SKIP LOCKED))
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(limit).Add(_scope.Context.Time.GetUtcNow());
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        static CacheEntry Map(NpgsqlDataReader r) => new(
            r.GetString(0), Json.Parse(r.GetString(1)), r.IsDBNull(2) ? null : r.GetGuid(2),
            r.IsDBNull(3) ? null : r.GetFieldValue<DateTimeOffset>(3), r.GetFieldValue<DateTimeOffset>(4));
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>The tenant's keyed cache.</summary>
        public Cache.CacheStore Cache => new(this);
    }
}
