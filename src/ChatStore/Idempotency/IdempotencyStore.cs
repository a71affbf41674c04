using ChatStore.Tenancy;
using Npgsql;

namespace ChatStore.Idempotency
{
    /// <summary>What <see cref="IdempotencyStore.RunAsync"/> did with a key.</summary>
    public enum IdempotencyOutcome
    {
        /// <summary>First use of the key: the work ran and committed together with its response.</summary>
        Completed,
        /// <summary>The key was used before with the same request: <see cref="IdempotencyResult.Response"/> is the stored response.</summary>
        Replay,
        /// <summary>The key was used before with a different request; nothing ran.</summary>
        Mismatch,
        /// <summary>Another request with this key is still running (its transaction is open); nothing ran. Retry shortly.</summary>
        InProgress,
        /// <summary>The work ran but returned no response to keep: everything it did was rolled back and the key stays free.</summary>
        NotStored,
    }

    /// <summary>A response kept for replay: status, content type and body.</summary>
    public sealed record IdempotentResponse(int StatusCode, string? ContentType, byte[] Body);

    /// <summary>The outcome and, for <see cref="IdempotencyOutcome.Completed"/> and <see cref="IdempotencyOutcome.Replay"/>, the response.</summary>
    public sealed record IdempotencyResult(IdempotencyOutcome Outcome, IdempotentResponse? Response = null);

    /// <summary>How <see cref="IdempotencyStore.RunAsync"/> treats keys.</summary>
    public sealed record IdempotencyOptions
    {
        /// <summary>How long a key is remembered (default 24 h); an older key counts as unused and is purged.</summary>
        public TimeSpan Lifetime { get; init; } = TimeSpan.FromHours(24);

        /// <summary>How long a request waits for another request that holds the same key before it answers <see cref="IdempotencyOutcome.InProgress"/> (default 2 s).</summary>
        public TimeSpan ClaimWait { get; init; } = TimeSpan.FromSeconds(2);

        /// <summary>
        /// How long the transaction may sit idle before PostgreSQL ends it and rolls it back (default 40 s), so a key
        /// whose request died (a lost connection, a frozen process) is free again after this time at most.
        /// Make it longer than the request timeout.
        /// </summary>
        public TimeSpan AbandonAfter { get; init; } = TimeSpan.FromSeconds(40);
    }

    /// <summary>
    /// Idempotency keys for creating requests. <see cref="RunAsync"/> records the key, runs the work and stores its
    /// response in one transaction that every store call of the work joins, so the key and the write commit together
    /// or not at all: a crash at any point leaves either both (a retry replays the response) or neither (a retry runs
    /// the work). No key is ever left "in progress".
    /// </summary>
    public sealed class IdempotencyStore
    {
        // Claims the key: a new row, or an expired one taken over. A row of a transaction still open blocks here
        // (its unique-index entry) until that transaction ends or lock_timeout ($1 of the first statement) passes.
        // $1 tenant, $2 key, $3 hash, $4 now, $5 the oldest creation time still alive.
        const string ClaimSql = """
            INSERT INTO {schema}.idempotency_keys AS k (tenant_id, key, request_hash, created_at)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (tenant_id, key) DO UPDATE
               SET request_hash = EXCLUDED.request_hash, created_at = EXCLUDED.created_at,
                   status_code = NULL, content_type = NULL, response_body = NULL, completed_at = NULL
             WHERE k.created_at < $5
            RETURNING true
            """;

        // What the key holds when the claim found it alive; a statement of its own, so that it sees a row that the
        // claim waited for (a statement's snapshot is taken when it starts).
        const string StoredSql = """
            SELECT request_hash, status_code, content_type, response_body FROM {schema}.idempotency_keys WHERE tenant_id = $1 AND key = $2
            """;

        readonly TenantScope _scope;

        internal IdempotencyStore(TenantScope scope) => _scope = scope;

        /// <summary>
        /// Runs <paramref name="work"/> once for <paramref name="key"/>: in one transaction of this tenant, records the
        /// key with <paramref name="requestHash"/>, runs the work (every store call of this tenant inside it joins the
        /// transaction), stores the response it returns and commits. A later call with the same key and hash replays
        /// that response without running anything; with another hash it is a <see cref="IdempotencyOutcome.Mismatch"/>.
        /// When the work throws, or returns <see langword="null"/> (a response not worth keeping, such as a server
        /// error), everything is rolled back and the key stays free.
        /// </summary>
        /// <exception cref="NpgsqlException">The commit failed: whether it took effect is unknown, and a retry with the same key finds out.</exception>
        public async Task<IdempotencyResult> RunAsync(string key, byte[] requestHash, Func<CancellationToken, Task<IdempotentResponse?>> work,
            IdempotencyOptions? options = null, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("idempotency.run");
            key = Validate.Required(key, "Idempotency-Key", 200);
            ArgumentNullException.ThrowIfNull(requestHash);
            ArgumentNullException.ThrowIfNull(work);
            options ??= new IdempotencyOptions();
            var context = _scope.Context;
            var now = context.Time.GetUtcNow();

            await using var tx = await AmbientTransaction.BeginAsync(context, _scope.TenantId, options.AbandonAfter, cancellationToken).ConfigureAwait(false);
            tx.Enter();
            bool claimed;
            IdempotentResponse? stored = null;
            byte[]? storedHash = null;
            try
            {
                await using var claim = new NpgsqlBatch(tx.Connection, tx.Transaction)
                {
                    BatchCommands =
                    {
                        new("SELECT set_config('lock_timeout', $1, true)")
                        {
                            Parameters = { new NpgsqlParameter<string> { TypedValue = $"{Math.Max(1, (long)options.ClaimWait.TotalMilliseconds)}ms" } },
                        },
                        new(context.Sql(ClaimSql))
                        {
                            Parameters =
                            {
                                new NpgsqlParameter<Guid> { TypedValue = _scope.TenantId }, new NpgsqlParameter<string> { TypedValue = key },
                                new NpgsqlParameter<byte[]> { TypedValue = requestHash }, new NpgsqlParameter<DateTimeOffset> { TypedValue = now },
                                new NpgsqlParameter<DateTimeOffset> { TypedValue = now - options.Lifetime },
                            },
                        },
                        // Only the claim waits that short; the work keeps the usual lock waits.
                        new("SET LOCAL lock_timeout TO DEFAULT"),
                        new(context.Sql(StoredSql))
                        {
                            Parameters = { new NpgsqlParameter<Guid> { TypedValue = _scope.TenantId }, new NpgsqlParameter<string> { TypedValue = key } },
                        },
                    },
                };
                await using var reader = await claim.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                claimed = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                if (!claimed && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    storedHash = reader.GetFieldValue<byte[]>(0);
                    if (!reader.IsDBNull(1))
                        stored = new IdempotentResponse(reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                            reader.IsDBNull(3) ? [] : reader.GetFieldValue<byte[]>(3));
                }
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
            {
                // The request that holds the key is still running; the rollback at dispose frees this one.
                return new IdempotencyResult(IdempotencyOutcome.InProgress);
            }

            if (!claimed)
            {
                if (storedHash is null || !storedHash.AsSpan().SequenceEqual(requestHash))
                    return new IdempotencyResult(storedHash is null ? IdempotencyOutcome.InProgress : IdempotencyOutcome.Mismatch);
                // A row without a response comes only from a version that claimed keys in a transaction of their own.
                return stored is null ? new IdempotencyResult(IdempotencyOutcome.InProgress) : new IdempotencyResult(IdempotencyOutcome.Replay, stored);
            }

            var response = await work(cancellationToken).ConfigureAwait(false);
            if (response is null)
                return new IdempotencyResult(IdempotencyOutcome.NotStored);
            const string complete = """
                UPDATE {schema}.idempotency_keys SET status_code = $3, content_type = $4, response_body = $5, completed_at = $6
                 WHERE tenant_id = $1 AND key = $2
                """;
            await using (var cmd = new NpgsqlCommand(context.Sql(complete), tx.Connection, tx.Transaction))
            {
                cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = _scope.TenantId });
                cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
                cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = response.StatusCode });
                cmd.Parameters.Add(response.ContentType is null ? new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text }
                    : new NpgsqlParameter<string> { TypedValue = response.ContentType });
                cmd.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = response.Body });
                cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = context.Time.GetUtcNow() });
                await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new IdempotencyResult(IdempotencyOutcome.Completed, response);
        }

        /// <summary>
        /// Deletes up to <paramref name="batchSize"/> of this tenant's keys created before <paramref name="createdBefore"/>;
        /// returns how many. Call it again while it returns <paramref name="batchSize"/>.
        /// </summary>
        public async Task<int> PurgeAsync(DateTimeOffset createdBefore, int batchSize = 500, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("idempotency.purge");
            Validate.Range(batchSize, "batchSize", 1, 10_000);
            const string sql = """
                DELETE FROM {schema}.idempotency_keys
                 WHERE tenant_id = $1 AND key IN (
                       SELECT key FROM {schema}.idempotency_keys WHERE tenant_id = $1 AND created_at < $2 LIMIT $3)
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(_scope.TenantId).Add(createdBefore).Add(batchSize);
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
