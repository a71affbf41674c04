using Npgsql;

namespace ChatStore.Idempotency
{
    /// <summary>What <see cref="IdempotencyStore.BeginAsync"/> found for a key.</summary>
    public enum IdempotencyOutcome
    {
        /// <summary>First use of the key: run the request, then <see cref="IdempotencyStore.CompleteAsync"/> or <see cref="IdempotencyStore.AbandonAsync"/>.</summary>
        Started,
        /// <summary>The key was used before with the same request: replay the stored response.</summary>
        Replay,
        /// <summary>The key was used before with a different request.</summary>
        Mismatch,
        /// <summary>The first request with this key is still running.</summary>
        InProgress,
    }

    /// <summary>The outcome, and for <see cref="IdempotencyOutcome.Replay"/> the stored response.</summary>
    public sealed record IdempotencyResult(IdempotencyOutcome Outcome, int? StatusCode = null, string? ContentType = null, byte[]? Body = null);

    /// <summary>Idempotency keys for creating requests: a retry with the same key and request gets the original response.</summary>
    public sealed class IdempotencyStore
    {
        readonly TenantScope _scope;

        internal IdempotencyStore(TenantScope scope) => _scope = scope;

        /// <summary>Claims <paramref name="key"/> for a request whose hash is <paramref name="requestHash"/>, or reports what the key already holds.</summary>
        public async Task<IdempotencyResult> BeginAsync(string key, byte[] requestHash, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("idempotency.begin");
            key = Validate.Required(key, "Idempotency-Key", 200);
            ArgumentNullException.ThrowIfNull(requestHash);
            // Insert, or return the existing row: one statement either way.
            const string sql = """
                WITH ins AS (
                    INSERT INTO {schema}.idempotency_keys AS target (tenant_id, key, request_hash)
                    VALUES ({tenant}, $1, $2)
                    ON CONFLICT (tenant_id, key) DO NOTHING
                    RETURNING true AS inserted)
                SELECT true, NULL::bytea, NULL::int, NULL::text, NULL::bytea FROM ins
                UNION ALL
                SELECT false, request_hash, status_code, content_type, response_body FROM {schema}.idempotency_keys
                 WHERE tenant_id = {tenant} AND key = $1 AND NOT EXISTS (SELECT 1 FROM ins)
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(key).Add(requestHash);
            var result = await cmd.ReadSingleAsync(r => r.GetBoolean(0)
                ? new IdempotencyResult(IdempotencyOutcome.Started)
                : !r.GetFieldValue<byte[]>(1).AsSpan().SequenceEqual(requestHash)
                    ? new IdempotencyResult(IdempotencyOutcome.Mismatch)
                    : r.IsDBNull(2)
                        ? new IdempotencyResult(IdempotencyOutcome.InProgress)
                        : new IdempotencyResult(IdempotencyOutcome.Replay, r.GetInt32(2), r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(4) ? [] : r.GetFieldValue<byte[]>(4)),
                cancellationToken).ConfigureAwait(false);
            // Neither inserted nor found: the first request was abandoned between the two reads.
            return result ?? new IdempotencyResult(IdempotencyOutcome.InProgress);
        }

        /// <summary>Stores the response of the request that claimed <paramref name="key"/>.</summary>
        public async Task CompleteAsync(string key, int statusCode, string? contentType, byte[] body, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("idempotency.complete");
            const string sql = """
                UPDATE {schema}.idempotency_keys SET status_code = $2, content_type = $3, response_body = $4, completed_at = now()
                 WHERE tenant_id = {tenant} AND key = $1
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(key).Add(statusCode).Add(contentType).Add(body);
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Releases a key whose request failed, so a retry runs again.</summary>
        public async Task AbandonAsync(string key, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("idempotency.abandon");
            const string sql = """
                DELETE FROM {schema}.idempotency_keys
                 WHERE tenant_id = {tenant} AND key = $1 AND status_code IS NULL
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(key);
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Deletes records older than <paramref name="olderThan"/>; returns how many.</summary>
        public async Task<int> PurgeAsync(TimeSpan olderThan, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("idempotency.purge");
            const string sql = "DELETE FROM {schema}.idempotency_keys WHERE tenant_id = {tenant} AND created_at < now() - $1";
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(olderThan);
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>Idempotency keys of creating requests.</summary>
        public Idempotency.IdempotencyStore Idempotency => new(this);
    }
}
