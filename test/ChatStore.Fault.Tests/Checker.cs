using Npgsql;

namespace ChatStore.Fault.Tests;

sealed record StoredMessage(Guid Id, Guid ConversationId, long Seq, string Content);

sealed record StoredConversation(Guid Id, long MessageCount, long LastSeq);

/// <summary>What the checker found: every list is empty, and <see cref="StuckKeys"/> 0, when all is well.</summary>
sealed record Verdict(IReadOnlyList<Guid> Lost, IReadOnlyList<string> Duplicated, IReadOnlyList<Guid> SeqGaps, IReadOnlyList<Guid> Miscounted, long StuckKeys)
{
    public bool Clean => Lost.Count == 0 && Duplicated.Count == 0 && SeqGaps.Count == 0 && Miscounted.Count == 0 && StuckKeys == 0;

    public override string ToString() =>
        $"lost {Lost.Count}, duplicated {Duplicated.Count}, conversations with seq gaps {SeqGaps.Count}, miscounted {Miscounted.Count}, stuck keys {StuckKeys}";
}

/// <summary>
/// Compares what the service acknowledged with what the database holds (read as the superuser, past row-level
/// security): every acknowledged message is stored with its content (none lost), every content is stored once
/// (none duplicated), each conversation's seqs are 1..n (gapless), its message_count and last_seq match its rows,
/// and no idempotency key is left without a response.
/// </summary>
static class Checker
{
    public static Verdict Check(IEnumerable<Ack> acks, IReadOnlyList<StoredMessage> messages, IReadOnlyList<StoredConversation> conversations, long stuckKeys)
    {
        var byId = messages.ToDictionary(m => m.Id);
        var lost = acks.Where(a => !byId.TryGetValue(a.MessageId, out var m) || m.Content != a.Content || m.ConversationId != a.ConversationId)
            .Select(a => a.MessageId).Distinct().ToList();
        var duplicated = messages.GroupBy(m => m.Content).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        var rows = messages.ToLookup(m => m.ConversationId);
        var gaps = conversations.Where(c =>
        {
            var seqs = rows[c.Id].Select(m => m.Seq).Order().ToList();
            return seqs.Where((s, i) => s != i + 1).Any();
        }).Select(c => c.Id).ToList();
        var miscounted = conversations.Where(c => c.MessageCount != rows[c.Id].Count() || c.LastSeq != rows[c.Id].Select(m => m.Seq).DefaultIfEmpty(0).Max())
            .Select(c => c.Id).ToList();
        return new Verdict(lost, duplicated, gaps, miscounted, stuckKeys);
    }

    /// <summary>Reads <paramref name="tenant"/>'s messages, conversations and unanswered keys and checks them against <paramref name="acks"/>.</summary>
    public static async Task<Verdict> CheckAsync(string connectionString, Guid tenant, IEnumerable<Ack> acks)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        var messages = new List<StoredMessage>();
        await using (var cmd = new NpgsqlCommand("SELECT id, conversation_id, seq, content FROM messages WHERE tenant_id = $1", conn) { Parameters = { new() { Value = tenant } } })
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                messages.Add(new StoredMessage(reader.GetGuid(0), reader.GetGuid(1), reader.GetInt64(2), reader.GetString(3)));
        var conversations = new List<StoredConversation>();
        await using (var cmd = new NpgsqlCommand("SELECT id, message_count, last_seq FROM conversations WHERE tenant_id = $1", conn) { Parameters = { new() { Value = tenant } } })
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                conversations.Add(new StoredConversation(reader.GetGuid(0), Convert.ToInt64(reader.GetValue(1)), Convert.ToInt64(reader.GetValue(2))));
        await using var stuck = new NpgsqlCommand("SELECT count(*) FROM idempotency_keys WHERE tenant_id = $1 AND status_code IS NULL", conn) { Parameters = { new() { Value = tenant } } };
        return Check(acks, messages, conversations, (long)(await stuck.ExecuteScalarAsync())!);
    }
}
