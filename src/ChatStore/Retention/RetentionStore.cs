using ChatStore.Export;
using Npgsql;
using static ChatStore.Export.ScopedBatch;

namespace ChatStore.Retention
{
    /// <summary>
    /// Applies the tenant's retention policy (set with <c>client.Tenants.UpdateAsync</c>): conversations
    /// untouched for <c>RetentionInactiveDays</c> are deleted; rows soft-deleted more than
    /// <c>RetentionPurgeDeletedDays</c> ago are deleted for good. Run it periodically (a daily job).
    /// </summary>
    public sealed class RetentionStore
    {
        const string TenantFilter = OwnershipSql.TenantCondition;

        readonly TenantScope _scope;

        internal RetentionStore(TenantScope scope) => _scope = scope;

        /// <summary>
        /// Purges what the policy says, in bounded batches, each its own short transaction (one statement),
        /// so no lock is held for long and an interrupted run loses nothing (the next run continues):
        /// <list type="number">
        /// <item>Conversations whose <c>last_activity_at</c> is older than the inactivity period, each deleted
        /// whole with its messages and what hangs off them, in one transaction: a batch holds at most
        /// <paramref name="batchSize"/> conversations and, beyond its first conversation, no more than
        /// <paramref name="batchSize"/> conversations and messages together. A conversation that receives a
        /// message while it is purged is either deleted whole or kept whole.</item>
        /// <item>With a purge period: soft-deleted conversations (the same way); the live conversations of
        /// soft-deleted users; then every other table with a <c>deleted_at</c> column, read from the catalog
        /// (messages, memories, documents, subjects and tables added later), <paramref name="batchSize"/> rows
        /// per batch with what hangs off them (embeddings, feedback, links…).</item>
        /// <item>Users soft-deleted before the purge period are erased like <see cref="ExportStore.EraseUserAsync"/>,
        /// one user per transaction, after their conversations went in batches: a deleted account's data
        /// is not kept forever. A user's remaining rows (memories, usage, search history…) go in that one
        /// transaction.</item>
        /// </list>
        /// Rows that only point at purged rows through ON DELETE SET NULL keys (usage events, documents and
        /// reminders of a conversation) stay, with the pointer cleared. Returns the rows deleted per table.
        /// </summary>
        /// <param name="now">The time the periods count back from (default: the database's current time).</param>
        /// <param name="batchSize">The most rows of the purged table deleted per transaction (1 to 100,000).</param>
        /// <param name="cancellationToken">Stops between batches or inside one (which then rolls back).</param>
        public async Task<RetentionResult> PurgeAsync(DateTimeOffset? now = null, int batchSize = 1000, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("retention.purge");
            Validate.Range(batchSize, "batchSize", 1, 100_000);
            var conn = await _scope.Context.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (conn.ConfigureAwait(false))
            {
                var model = await ExportStore.LoadModelAsync(conn, _scope.Context.Schema, cancellationToken).ConfigureAwait(false);
                var (inactiveBefore, deletedBefore) = await PolicyAsync(conn, now, cancellationToken).ConfigureAwait(false);
                var run = new Run(_scope, conn, batchSize, cancellationToken);

                var conversations = model.Tables.GetValueOrDefault("conversations");
                if (inactiveBefore is { } inactive && conversations is not null)
                    await run.ConversationsAsync(model, conversations, "t.last_activity_at < $1", "t.last_activity_at", inactive).ConfigureAwait(false);
                if (deletedBefore is { } deleted)
                {
                    if (conversations is not null)
                    {
                        await run.ConversationsAsync(model, conversations, "t.deleted_at < $1", "t.deleted_at", deleted).ConfigureAwait(false);
                        await run.ConversationsAsync(model, conversations,
                            $"t.deleted_at IS NULL AND t.user_id IN (SELECT u.id FROM {model.Users.Quoted} u WHERE u.tenant_id = {{tenant}} AND u.deleted_at < $1)",
                            "t.id", deleted).ConfigureAwait(false);
                    }
                    // Children before parents, so a parent's batch rarely finds children left to take with it.
                    foreach (var table in model.Order.Reverse())
                    {
                        if (table.HasDeletedAt && table.PrimaryKey.Count > 0 && !ReferenceEquals(table, conversations) && !ReferenceEquals(table, model.Users))
                            await run.SoftDeletedAsync(model, table, deleted).ConfigureAwait(false);
                    }
                    await run.UsersAsync(model, deleted).ConfigureAwait(false);
                }
                return new RetentionResult(run.Deleted, run.Batches, inactiveBefore, deletedBefore);
            }
        }

        /// <summary>The cutoffs of the tenant's policy (null where it has none).</summary>
        async Task<(DateTimeOffset? InactiveBefore, DateTimeOffset? DeletedBefore)> PolicyAsync(NpgsqlConnection conn, DateTimeOffset? now, CancellationToken cancellationToken)
        {
            const string sql = """
                SELECT coalesce($1::timestamptz, now()) - make_interval(days => retention_inactive_days),
                       coalesce($1::timestamptz, now()) - make_interval(days => retention_purge_deleted_days)
                  FROM {schema}.tenants WHERE id = current_setting('chatstore.tenant_id')::uuid
                """;
            await using var batch = ScopedBatch.Create(_scope, conn);
            batch.Add(_scope.Context.Sql(sql), P(now?.ToUniversalTime()));
            batch.Commit();
            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    throw new ChatStoreNotFoundException("tenant", _scope.TenantId);
                return (reader.IsDBNull(0) ? null : reader.GetFieldValue<DateTimeOffset>(0),
                        reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1));
            }
        }

        /// <summary>One purge run: its connection, its batch size, its counts.</summary>
        sealed class Run(TenantScope scope, NpgsqlConnection conn, int batchSize, CancellationToken cancellationToken)
        {
            public Dictionary<string, long> Deleted { get; } = new(StringComparer.Ordinal);

            public int Batches { get; private set; }

            /// <summary>
            /// Conversations matching <paramref name="predicate"/> (on alias t, cutoff $1), whole, oldest first. The
            /// candidates are locked (SKIP LOCKED: one being written to is active and left for the next run) and
            /// re-checked under the lock; a batch takes them while their messages (last_seq) fit in the batch.
            /// </summary>
            public Task ConversationsAsync(UserDataModel model, TableInfo conversations, string predicate, string order, DateTimeOffset cutoff)
            {
                var prelude = $"""
                    candidates AS (
                        SELECT t.id, t.last_seq, {order} AS o FROM {conversations.Quoted} t
                         WHERE {TenantFilter} AND {predicate}
                         ORDER BY {order}, t.id LIMIT $2 FOR UPDATE OF t SKIP LOCKED)
                    """;
                const string root = """
                    SELECT id FROM (SELECT id, row_number() OVER w AS n, sum(last_seq + 1) OVER w AS total FROM candidates WINDOW w AS (ORDER BY o, id)) s
                     WHERE n = 1 OR total <= $2
                    """;
                var statement = new DeleteStatement(new OwnershipSql(model, conversations, root, singleRoot: false, prelude));
                return LoopAsync(statement, () => [P(cutoff), P(batchSize)]);
            }

            /// <summary>Rows of <paramref name="table"/> soft-deleted before the cutoff, <c>batchSize</c> per batch, with what hangs off them.</summary>
            public Task SoftDeletedAsync(UserDataModel model, TableInfo table, DateTimeOffset cutoff)
            {
                var key = string.Join(", ", table.PrimaryKey.Select(c => "t." + Sql.QuoteIdentifier(c)));
                var root = $"""
                    SELECT {key} FROM {table.Quoted} t
                     WHERE {TenantFilter} AND t.deleted_at < $1
                     ORDER BY t.deleted_at LIMIT $2 FOR UPDATE OF t SKIP LOCKED
                    """;
                var statement = new DeleteStatement(new OwnershipSql(model, table, root, singleRoot: false));
                return LoopAsync(statement, () => [P(cutoff), P(batchSize)]);
            }

            /// <summary>Users soft-deleted before the cutoff, erased one per transaction.</summary>
            public Task UsersAsync(UserDataModel model, DateTimeOffset cutoff)
            {
                var statement = new DeleteStatement(ExportStore.UserRows(model,
                    where: $"{TenantFilter} AND t.deleted_at < $1 ORDER BY t.deleted_at, t.id LIMIT 1 FOR UPDATE OF t SKIP LOCKED"));
                return LoopAsync(statement, () => [P(cutoff)]);
            }

            async Task LoopAsync(DeleteStatement statement, Func<NpgsqlParameter[]> parameters)
            {
                while (true)
                {
                    var counts = await statement.RunAsync(scope, conn, parameters(), cancellationToken).ConfigureAwait(false);
                    if (counts[statement.Root.Name] == 0)
                        return;
                    Batches++;
                    foreach (var (table, n) in counts)
                    {
                        if (n > 0)
                            Deleted[table] = Deleted.GetValueOrDefault(table) + n;
                    }
                }
            }
        }
    }

    /// <summary>What a retention run deleted.</summary>
    /// <param name="Deleted">Rows deleted per table (tables with none left out).</param>
    /// <param name="Batches">The transactions that deleted something.</param>
    /// <param name="InactiveBefore">Conversations last active before this were deleted (null: the tenant has no inactivity policy).</param>
    /// <param name="DeletedBefore">Rows soft-deleted before this were purged (null: the tenant has no purge policy).</param>
    public sealed record RetentionResult(IReadOnlyDictionary<string, long> Deleted, int Batches, DateTimeOffset? InactiveBefore, DateTimeOffset? DeletedBefore);
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>The tenant's retention policy, applied.</summary>
        public Retention.RetentionStore Retention => new(this);
    }
}
