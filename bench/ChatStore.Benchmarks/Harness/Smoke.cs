using System.Globalization;
using System.Text;
using ChatStore.Benchmarks.Peers;
using ChatStore.Messages;

namespace ChatStore.Benchmarks.Harness;

/// <summary>The smoke test's checks: the implementations must return (and store) the same results for the same inputs.</summary>
public static class Smoke
{
    public sealed class MismatchException(string message) : Exception(message);

    public static int Checks { get; private set; }

    public static void Equal<T>(string what, T expected, T actual)
    {
        Checks++;
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
            throw new MismatchException($"{what}: expected {expected}, got {actual}");
    }

    public static void AllEqual(string what, IReadOnlyList<string> results, IReadOnlyList<string>? names = null)
    {
        Checks++;
        names ??= ["A", "B", "C", "D"];
        for (var i = 1; i < results.Count; i++)
            if (results[i] != results[0])
                throw new MismatchException($"{what}: {names[i]} differs from {names[0]}:\n--- {names[0]}\n{Head(results[0])}\n--- {names[i]}\n{Head(results[i])}");
        if (results.Count > 0 && results[0].Length == 0)
            throw new MismatchException($"{what}: every implementation returned nothing; the check would prove nothing.");
    }

    static string Head(string s) => s.Length <= 2000 ? s : s[..2000] + "…";

    static string D(decimal d) => d.ToString("0.########", CultureInfo.InvariantCulture);

    public static string Canonical(IEnumerable<Message> messages, bool hasMore)
    {
        var sb = new StringBuilder().Append("more=").Append(hasMore).Append('\n');
        foreach (var m in messages)
            sb.Append(CultureInfo.InvariantCulture,
                $"{m.Id} {m.ConversationId} {m.UserId} {m.Seq} {m.Role} {m.Status} {m.Model} {m.InputTokens} {m.OutputTokens} {D(m.CostUsd)} {m.ResponseMs} {m.Citations.GetRawText()} {m.Metadata.GetRawText()} [{string.Join(',', m.Domains)}] {m.CreatedAt.UtcTicks} {m.DeletedAt?.UtcTicks} {m.Content}\n");
        return sb.ToString();
    }

    public static string Canonical(IEnumerable<MessageRow> messages, bool hasMore)
    {
        var sb = new StringBuilder().Append("more=").Append(hasMore).Append('\n');
        foreach (var m in messages)
            sb.Append(CultureInfo.InvariantCulture,
                $"{m.Id} {m.ConversationId} {m.UserId} {m.Seq} {m.Role} {m.Status} {m.Model} {m.InputTokens} {m.OutputTokens} {D(m.CostUsd)} {m.ResponseMs} {m.Citations} {m.Metadata} [{string.Join(',', m.Domains)}] {m.CreatedAt.UtcTicks} {m.DeletedAt?.UtcTicks} {m.Content}\n");
        return sb.ToString();
    }

    /// <summary>A conversation's stored messages (without ids and times, which differ by construction) and counters, read as the owner.</summary>
    public static async Task<string> ConversationRowsAsync(BenchContext ctx, Guid conversationId, bool withTimes = false)
    {
        var sb = new StringBuilder();
        foreach (var r in await ctx.OwnerQueryAsync("SELECT last_seq, message_count, last_message_at IS NOT NULL FROM conversations WHERE id = $1", conversationId))
            sb.AppendJoin(' ', r).Append('\n');
        var rows = await ctx.OwnerQueryAsync($"""
            SELECT seq, role, content, status, citations::text, metadata::text, array_to_string(domains, ','), model, input_tokens, output_tokens,
                   cost_usd, response_ms, error, idempotency_key, language::text, search_vector::text, parent_id IS NULL, deleted_at IS NULL
                   {(withTimes ? ", created_at, date_group" : "")}
              FROM messages WHERE conversation_id = $1 ORDER BY seq
            """, conversationId);
        foreach (var r in rows)
            sb.AppendJoin(' ', r.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))).Append('\n');
        return sb.ToString();
    }

    public static string Canonical(IEnumerable<TextHit> hits) =>
        string.Join('\n', hits.Select(h => string.Create(CultureInfo.InvariantCulture, $"{h.Id} {h.UserId} {h.ConversationId} {h.Role} {h.Status} {h.CreatedAt.UtcTicks} {h.Rank:R} {h.Snippet}")));

    public static string Canonical(IEnumerable<KnnHit> hits) =>
        string.Join('\n', hits.Select(h => string.Create(CultureInfo.InvariantCulture, $"{h.MemoryId} {h.Distance:R}")));

    // Scores to 12 digits: SQL sums the reciprocal ranks in numeric, .NET in double.
    public static string Canonical(IEnumerable<FusedHit> hits) =>
        string.Join('\n', hits.Select(h => string.Create(CultureInfo.InvariantCulture, $"{h.Id} {h.Score:G12} {h.TextRank} {h.VectorRank} {h.Snippet}")));
}
