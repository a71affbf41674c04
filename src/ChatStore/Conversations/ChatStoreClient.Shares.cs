using ChatStore.Conversations;

namespace ChatStore;

public sealed partial class ChatStoreClient
{
    /// <summary>
    /// What a public share link shows, in whichever tenant its token names: the conversation's title,
    /// creation time and its messages up to the shared sequence number, with no owner identity. Only
    /// complete, not deleted user and assistant messages are shown (no system prompts or tool output).
    /// A malformed, unknown, revoked or expired token, or a deleted conversation, is a
    /// <see cref="ChatStoreNotFoundException"/> (an HTTP layer answers 404).
    /// </summary>
    public async Task<SharedConversation> GetSharedConversationAsync(string token, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("conversations.get_shared");
        if (ConversationStore.TenantOfShareToken(token) is not Guid tenantId || tenantId == Guid.Empty)
            throw ConversationStore.ShareNotFound();
        return await ForTenant(tenantId).Conversations.ReadShareAsync(token, cancellationToken).ConfigureAwait(false);
    }
}
