using ChatStore.Tenants;
using Npgsql;

namespace ChatStore.SearchHistory
{
    /// <summary>The searches users ran: record, list newest first, clear.</summary>
    public sealed class SearchHistoryStore
    {
        const string Columns = "h.id, h.user_id, h.query, h.mode, h.result_count, h.created_at";

        readonly TenantScope _scope;

        internal SearchHistoryStore(TenantScope scope) => _scope = scope;

        /// <summary>
        /// Records a search by a user of the tenant. <paramref name="query"/> is at most
        /// <see cref="ChatStoreLimits.MaxTitleLength"/> characters; <paramref name="mode"/> one of <see cref="SearchMode"/>.
        /// </summary>
        public async Task<SearchHistoryEntry> RecordAsync(Guid userId, string query, string mode = SearchMode.FullText, int resultCount = 0,
            CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("search_history.record");
            Validate.Id(userId, "userId");
            query = Validate.Required(query, "query", _scope.Limits.MaxTitleLength);
            Validate.OneOf(mode, "mode", SearchMode.All);
            Validate.NotNegative(resultCount, "resultCount");
            const string sql = $$"""
                INSERT INTO {schema}.search_history AS h (id, tenant_id, user_id, query, mode, result_count)
                SELECT $1, u.tenant_id, u.id, $3, $4, $5 FROM {schema}.users u WHERE u.tenant_id = {tenant} AND u.id = $2 AND u.deleted_at IS NULL
                RETURNING {{Columns}}
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(Ids.New()).Add(userId).Add(query).Add(mode).Add(resultCount);
            try
            {
                return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("user", userId);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                throw new ChatStoreNotFoundException("user", userId);
            }
        }

        /// <summary>A user's searches, newest first, keyset-paginated. Another tenant's user has none.</summary>
        public async Task<Page<SearchHistoryEntry>> ListAsync(Guid userId, int limit = 50, string? cursor = null, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("search_history.list");
            Validate.PageSize(limit, _scope.Limits.MaxPageSize);
            (DateTimeOffset At, Guid Id)? before = cursor is null ? null : Cursor.DecodeTime(cursor);
            // Served by search_history_user_idx (tenant_id, user_id, created_at DESC).
            const string sql = $$"""
                SELECT {{Columns}} FROM {schema}.search_history h
                 WHERE h.tenant_id = {tenant} AND h.user_id = $1
                   AND ($2::timestamptz IS NULL OR (h.created_at, h.id) < ($2, $3))
                 ORDER BY h.created_at DESC, h.id DESC LIMIT $4
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(userId).Add(before?.At).Add(before?.Id ?? Guid.Empty).Add(limit + 1);
            var items = await cmd.ReadListAsync(Map, cancellationToken).ConfigureAwait(false);
            return Page.Of(items, limit, h => Cursor.Encode(h.CreatedAt, h.Id));
        }

        /// <summary>Deletes all of a user's searches; returns how many there were.</summary>
        public async Task<int> ClearAsync(Guid userId, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("search_history.clear");
            const string sql = """
                DELETE FROM {schema}.search_history WHERE tenant_id = {tenant} AND user_id = $1
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(userId);
            return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        static SearchHistoryEntry Map(NpgsqlDataReader r) => new(
            r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetString(3), r.GetInt32(4), r.GetFieldValue<DateTimeOffset>(5));
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>The searches the tenant's users ran.</summary>
        public SearchHistory.SearchHistoryStore SearchHistory => new(this);
    }
}
