using System.Text.Json;
using ChatStore.Messages;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Benchmarks.Peers;

/// <summary>
/// (A) The floor: raw Npgsql doing what ChatStore does, as an expert would write it by hand. The same
/// statements (the SQL text is ChatStore's), the same tenant guarantee (the same setting of the
/// role and <c>chatstore.tenant_id</c> (<c>SET LOCAL</c>) in the same batch, so row-level security holds), one
/// <see cref="NpgsqlBatch"/> round trip per operation, typed parameters, auto-prepared statements
/// (the data source has the same MaxAutoPrepare/NoResetOnClose tuning), results mapped by ordinal into
/// the same records. What it leaves out is what a library adds: input validation, typed errors,
/// telemetry, SQL rendering.
/// </summary>
public sealed class RawStore(NpgsqlDataSource dataSource, string role)
{
    public NpgsqlDataSource DataSource => dataSource;

    readonly string _setRole = "SET LOCAL ROLE " + ChatStore.Sql.QuoteIdentifier(role);

    /// <summary>A batch in its own transaction that sets the role and the tenant (SET LOCAL), then runs <paramref name="sql"/>.</summary>
    public NpgsqlBatch Batch(NpgsqlConnection conn, Guid tenant, string sql, out NpgsqlBatchCommand statement)
    {
        var batch = new NpgsqlBatch(conn);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(_setRole));
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SET LOCAL chatstore.tenant_id = '{tenant:D}'"));
        statement = new NpgsqlBatchCommand(sql);
        // A statement that names its tenant takes it as its first parameter (see ChatStore's StoreContext.Sql).
        if (TenantFirst.Contains(sql))
            statement.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenant });
        batch.BatchCommands.Add(statement);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        return batch;
    }

    // ------------------------------------------------------------------------------------------
    // Messages: ChatStore's own statements, read from the library (so they cannot drift from what it
    // runs) with the schema rendered.

    static readonly HashSet<string> TenantFirst = new(ReferenceEqualityComparer.Instance);

    static string Rendered(string sql)
    {
        var text = ChatStore.Tenancy.StoreContext.Render(sql, "\"public\"");
        if (ChatStore.Tenancy.StoreContext.NamesTenant(sql))
            TenantFirst.Add(text);
        return text;
    }

    public static readonly string AppendSql = Rendered(MessageStore.AppendSql);

    public static readonly string LatestSql = Rendered(MessageStore.LatestSql);

    // The same without the window: for a conversation whose deleted messages leave the window short.
    public static readonly string LatestUnboundedSql = Rendered(MessageStore.LatestUnboundedSql);

    static readonly Guid[] NoIds = [];

    /// <summary>A message to import: appended at the end of its conversation, in input order.</summary>
    public sealed record ImportRow(Guid TenantId, Guid ConversationId, Guid UserId, string Role, string Content, DateTimeOffset CreatedAt);
    static readonly string[] NoDomains = [];

    public async Task<Message> AppendAsync(Guid tenant, Guid conversationId, string role, string content)
    {
        await using var conn = await dataSource.OpenConnectionAsync();
        await using var batch = Batch(conn, tenant, AppendSql, out var cmd);
        var p = cmd.Parameters;
        p.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
        p.Add(new NpgsqlParameter<Guid> { TypedValue = conversationId });
        p.Add(new NpgsqlParameter<string> { TypedValue = role });
        p.Add(new NpgsqlParameter<string> { TypedValue = content });
        p.Add(new NpgsqlParameter<string> { TypedValue = MessageStatus.Complete });
        p.Add(new NpgsqlParameter { Value = DBNull.Value });
        p.Add(new NpgsqlParameter<string> { TypedValue = "[]", NpgsqlDbType = NpgsqlDbType.Jsonb });
        p.Add(new NpgsqlParameter<string> { TypedValue = "{}", NpgsqlDbType = NpgsqlDbType.Jsonb });
        p.Add(new NpgsqlParameter<string[]> { TypedValue = NoDomains });
        p.Add(new NpgsqlParameter { Value = DBNull.Value });
        p.Add(new NpgsqlParameter<int> { TypedValue = 0 });
        p.Add(new NpgsqlParameter<int> { TypedValue = 0 });
        p.Add(new NpgsqlParameter<decimal> { TypedValue = 0m });
        p.Add(new NpgsqlParameter { Value = DBNull.Value });
        p.Add(new NpgsqlParameter { Value = DBNull.Value });
        p.Add(new NpgsqlParameter { Value = DBNull.Value });
        p.Add(new NpgsqlParameter { Value = DBNull.Value });
        p.Add(new NpgsqlParameter<Guid[]> { TypedValue = NoIds });
        await using var reader = await batch.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
            throw new InvalidOperationException($"conversation {conversationId} not found");
        // The statement returns what the database assigned (ids, seq, times); the rest is what was sent.
        return new Message(reader.GetGuid(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetInt64(3), role, content, MessageStatus.Complete, null,
            EmptyArray, EmptyObject, NoDomains, null, 0, 0, 0.00000000m, null, null, null,
            reader.GetFieldValue<DateTimeOffset>(18), reader.GetFieldValue<DateTimeOffset>(19), null, null);
    }

    public async Task<MessageHistory> HistoryAsync(Guid tenant, Guid conversationId, int limit)
    {
        var (messages, complete) = await LatestAsync(LatestSql, tenant, conversationId, limit);
        if (messages.Count <= limit && !complete)
            (messages, _) = await LatestAsync(LatestUnboundedSql, tenant, conversationId, limit);
        var more = messages.Count > limit;
        if (more)
            messages.RemoveAt(messages.Count - 1);
        messages.Reverse();
        return new MessageHistory(messages, more);
    }

    async Task<(List<Message> Messages, bool Complete)> LatestAsync(string sql, Guid tenant, Guid conversationId, int limit)
    {
        await using var conn = await dataSource.OpenConnectionAsync();
        await using var batch = Batch(conn, tenant, sql, out var cmd);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conversationId });
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = long.MaxValue });
        cmd.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = false });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        await using var reader = await batch.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
            throw new InvalidOperationException($"conversation {conversationId} not found");
        var messages = new List<Message>(Math.Min(limit + 1, 64));
        var complete = reader.GetBoolean(22);
        if (!reader.IsDBNull(0))
        {
            do messages.Add(MessageStore.Map(reader)); // the library's statement, so the library's row mapping
            while (await reader.ReadAsync());
        }
        return (messages, complete);
    }

    // ------------------------------------------------------------------------------------------
    // Import: the floor is binary COPY straight into messages. PostgreSQL refuses COPY FROM into a table
    // under row-level security, so this runs as the owner (the superuser here), without the tenant
    // setting: faster than anything tenant-safe can be, which is what a floor is for.

    const string LockConversationsSql = "SELECT id, last_seq FROM \"public\".conversations WHERE id = ANY ($1) AND deleted_at IS NULL FOR UPDATE";

    const string BumpConversationsSql = """
        UPDATE "public".conversations c
           SET last_seq = c.last_seq + u.n, message_count = c.message_count + u.n,
               last_message_at = greatest(c.last_message_at, u.last), last_activity_at = now()
          FROM unnest($1::uuid[], $2::int[], $3::timestamptz[]) AS u (id, n, last)
         WHERE c.id = u.id
        """;

    public async Task<long> ImportAsync(IReadOnlyList<ImportRow> rows)
    {
        await using var conn = await dataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var ids = rows.Select(r => r.ConversationId).Distinct().ToArray();
        var next = new Dictionary<Guid, (long Seq, int Count, DateTimeOffset Last)>(ids.Length);
        await using (var lockCmd = new NpgsqlCommand(LockConversationsSql, conn, tx))
        {
            lockCmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
            await using var reader = await lockCmd.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                next[reader.GetGuid(0)] = (reader.GetInt64(1), 0, DateTimeOffset.MinValue);
        }
        if (next.Count != ids.Length)
            throw new InvalidOperationException("unknown conversation");
        await using (var w = await conn.BeginBinaryImportAsync("""
            COPY "public".messages (id, tenant_id, conversation_id, user_id, seq, role, content, status, citations, metadata, domains,
                                    input_tokens, output_tokens, cost_usd, created_at, updated_at) FROM STDIN (FORMAT BINARY)
            """))
        {
            foreach (var r in rows)
            {
                var (seq, count, last) = next[r.ConversationId];
                next[r.ConversationId] = (seq + 1, count + 1, r.CreatedAt > last ? r.CreatedAt : last);
                await w.StartRowAsync();
                await w.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
                await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid);
                await w.WriteAsync(r.ConversationId, NpgsqlDbType.Uuid);
                await w.WriteAsync(r.UserId, NpgsqlDbType.Uuid);
                await w.WriteAsync(seq + 1, NpgsqlDbType.Bigint);
                await w.WriteAsync(r.Role, NpgsqlDbType.Text);
                await w.WriteAsync(r.Content, NpgsqlDbType.Text);
                await w.WriteAsync(MessageStatus.Complete, NpgsqlDbType.Text);
                await w.WriteAsync("[]", NpgsqlDbType.Jsonb);
                await w.WriteAsync("{}", NpgsqlDbType.Jsonb);
                await w.WriteAsync(NoDomains, NpgsqlDbType.Array | NpgsqlDbType.Text);
                await w.WriteAsync(0, NpgsqlDbType.Integer);
                await w.WriteAsync(0, NpgsqlDbType.Integer);
                await w.WriteAsync(0m, NpgsqlDbType.Numeric);
                await w.WriteAsync(r.CreatedAt, NpgsqlDbType.TimestampTz);
                await w.WriteAsync(r.CreatedAt, NpgsqlDbType.TimestampTz);
            }
            await w.CompleteAsync();
        }
        await using (var bump = new NpgsqlCommand(BumpConversationsSql, conn, tx))
        {
            bump.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = next.Keys.ToArray() });
            bump.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = next.Values.Select(v => v.Count).ToArray() });
            bump.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = next.Values.Select(v => v.Last).ToArray() });
            await bump.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
        return rows.Count;
    }

    // ------------------------------------------------------------------------------------------
    // Search

    public async Task<List<TextHit>> FullTextAsync(Guid tenant, string text)
    {
        await using var conn = await dataSource.OpenConnectionAsync();
        await using var batch = Batch(conn, tenant, SearchSql.FullTextSql, out var cmd);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = text });
        await using var reader = await batch.ExecuteReaderAsync();
        var hits = new List<TextHit>(20);
        while (await reader.ReadAsync())
            hits.Add(new TextHit(reader.GetGuid(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetString(3), reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5), reader.GetFloat(6), reader.GetString(7)));
        return hits;
    }

    public async Task<List<KnnHit>> KnnAsync(SearchSql sql, Guid tenant, float[] vector, Guid? user, int k)
    {
        await using var conn = await dataSource.OpenConnectionAsync();
        await using var batch = Batch(conn, tenant, sql.KnnSql, out var cmd);
        batch.BatchCommands.Insert(1, new NpgsqlBatchCommand(SearchSql.VectorSettingsSql));
        cmd.Parameters.Add(new NpgsqlParameter<float[]> { TypedValue = vector });
        cmd.Parameters.Add(user is Guid u ? new NpgsqlParameter<Guid> { TypedValue = u } : new NpgsqlParameter { Value = DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = k });
        await using var reader = await batch.ExecuteReaderAsync();
        await reader.NextResultAsync();
        var hits = new List<KnnHit>(k);
        while (await reader.ReadAsync())
            hits.Add(new KnnHit(reader.GetGuid(0), reader.GetDouble(1)));
        return hits;
    }

    public async Task<List<FusedHit>> HybridAsync(SearchSql sql, Guid tenant, string text, float[] vector, int candidates, int rrfK, int limit)
    {
        await using var conn = await dataSource.OpenConnectionAsync();
        await using var batch = Batch(conn, tenant, sql.HybridSql, out var cmd);
        batch.BatchCommands.Insert(1, new NpgsqlBatchCommand(SearchSql.VectorSettingsSql));
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = text });
        cmd.Parameters.Add(new NpgsqlParameter<float[]> { TypedValue = vector });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = candidates });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = rrfK });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var reader = await batch.ExecuteReaderAsync();
        await reader.NextResultAsync();
        var hits = new List<FusedHit>(limit);
        while (await reader.ReadAsync())
            hits.Add(new FusedHit(reader.GetGuid(0), reader.GetDouble(1), reader.IsDBNull(2) ? null : reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetInt64(3),
                reader.IsDBNull(4) ? null : reader.GetString(4)));
        return hits;
    }

    static readonly JsonElement EmptyArray = JsonDocument.Parse("[]").RootElement;
    static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement;
}
