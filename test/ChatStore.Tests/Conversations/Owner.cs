using Npgsql;

namespace ChatStore.Tests.Conversations;

/// <summary>Statements run as the database owner (row-level security does not apply), to arrange state a test needs.</summary>
internal static class Owner
{
    public static Task<int> ExecuteAsync(string sql, params object[] args) => TestStore.ExecuteAsync(sql, args);

    /// <summary>Appends a message to a conversation the way the messages feature does (next seq, counters, activity).</summary>
    public static Task AddMessageAsync(Guid conversationId, string role, string content, string status = "complete", string citations = "[]") =>
        ExecuteAsync("""
            WITH m AS (
                INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content, status, citations)
                SELECT gen_random_uuid(), c.tenant_id, c.id, c.user_id, c.last_seq + 1, $2, $3, $4, $5::jsonb
                  FROM conversations c WHERE c.id = $1
                RETURNING conversation_id, seq, created_at)
            UPDATE conversations c SET last_seq = m.seq, message_count = c.message_count + 1, last_message_at = m.created_at, last_activity_at = m.created_at
              FROM m WHERE c.id = m.conversation_id
            """, conversationId, role, content, status, citations);
}
