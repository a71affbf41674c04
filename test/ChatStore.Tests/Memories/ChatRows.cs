namespace ChatStore.Tests.Memories;

/// <summary>
/// Conversations and messages inserted directly as the owner, for tests that need them as memory
/// sources or document links without depending on the conversation and message stores.
/// </summary>
internal static class ChatRows
{
    /// <summary>A new conversation of <paramref name="userId"/>.</summary>
    public static Task<Guid> ConversationAsync(Guid tenantId, Guid userId) =>
        TestStore.ScalarAsync<Guid>(
            "INSERT INTO conversations (id, tenant_id, user_id, title) VALUES ($1, $2, $3, 'test') RETURNING id",
            Guid.CreateVersion7(), tenantId, userId);

    /// <summary>A new message at the end of <paramref name="conversationId"/>.</summary>
    public static Task<Guid> MessageAsync(Guid tenantId, Guid conversationId, Guid userId, string content = "hello") =>
        TestStore.ScalarAsync<Guid>(
            """
            INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content)
            SELECT $1, $2, $3, $4, coalesce(max(seq), 0) + 1, 'user', $5 FROM messages WHERE conversation_id = $3
            RETURNING id
            """,
            Guid.CreateVersion7(), tenantId, conversationId, userId, content);
}
