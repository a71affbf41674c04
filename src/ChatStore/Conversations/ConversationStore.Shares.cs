using Npgsql;

namespace ChatStore.Conversations;

public sealed partial class ConversationStore
{
    internal const string ShareTokenPrefix = "cs_share";

    /// <summary>
    /// Creates a public share link showing the conversation up to <paramref name="upToSeq"/> (default:
    /// its last message now; later messages are not shown). The result holds the token (128 random bits),
    /// shown only here; <see cref="ChatStoreClient.GetSharedConversationAsync"/> reads the link.
    /// </summary>
    /// <param name="conversationId">The conversation (not soft-deleted).</param>
    /// <param name="expiresAt">When the link stops working (in the future), or null for never.</param>
    /// <param name="upToSeq">The last sequence number shown, from 0 to the conversation's last; its last when null.</param>
    /// <param name="createdBy">The user sharing it, recorded on the share (on a store restricted by <see cref="ForUser"/>, that user by default).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public async Task<CreatedShare> CreateShareAsync(Guid conversationId, DateTimeOffset? expiresAt = null, long? upToSeq = null, Guid? createdBy = null,
        CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("conversations.create_share");
        if (expiresAt is DateTimeOffset expires && expires <= _scope.Context.Time.GetUtcNow())
            throw new ChatStoreValidationException("expiresAt", "future", "must be in the future.");
        if (upToSeq is long seq) Validate.NotNegative(seq, "upToSeq");
        if (createdBy is Guid by) Owned(by, "createdBy");
        createdBy ??= _ownerId;

        var token = Ids.NewTenantToken(ShareTokenPrefix, _scope.TenantId, 16);
        // One statement: the conversation (and its last seq), whether the creator is a user of the
        // tenant, and the insert when both hold and the seq is in range; the outer row says which failed.
        const string sql = """
            WITH c AS (
                SELECT id, tenant_id, last_seq FROM {schema}.conversations
                 WHERE tenant_id = {tenant} AND id = $2 AND deleted_at IS NULL AND ($3::uuid IS NULL OR user_id = $3)
            ), creator AS (
                SELECT $6::uuid IS NULL OR EXISTS (SELECT 1 FROM {schema}.users WHERE tenant_id = {tenant} AND id = $6 AND deleted_at IS NULL) AS ok
            ), ins AS (
                INSERT INTO {schema}.conversation_shares AS target (id, tenant_id, conversation_id, created_by, token_hash, up_to_seq, expires_at)
                SELECT $1, c.tenant_id, c.id, $6, $4, coalesce($5, c.last_seq), $7
                  FROM c, creator
                 WHERE creator.ok AND coalesce($5, c.last_seq) <= c.last_seq
                RETURNING id, tenant_id, conversation_id, created_by, up_to_seq, created_at, expires_at, revoked_at
            )
            SELECT ins.*, c.last_seq, (SELECT ok FROM creator) FROM c LEFT JOIN ins ON true
            """;
        await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
        cmd.Add(Ids.New()).Add(conversationId).Add(_ownerId).Add(Ids.HashToken(token)).Add(upToSeq).Add(createdBy).Add(expiresAt?.ToUniversalTime());
        (ConversationShare? Share, long LastSeq, bool CreatorOk)? row;
        try
        {
            row = await cmd.ReadSingleAsync<(ConversationShare?, long, bool)?>(
                r => (r.IsDBNull(0) ? null : MapShare(r), r.GetInt64(8), r.GetBoolean(9)), cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            throw new ChatStoreNotFoundException("conversation", conversationId); // hard-deleted meanwhile
        }
        if (row is not { } found)
            throw new ChatStoreNotFoundException("conversation", conversationId);
        if (found.Share is not null)
            return new CreatedShare(found.Share, token);
        if (!found.CreatorOk)
            throw new ChatStoreNotFoundException("user", createdBy!);
        throw new ChatStoreValidationException("upToSeq", "range", $"must be at most the conversation's last seq ({found.LastSeq}); got {upToSeq}.");
    }

    /// <summary>A conversation's share links, newest first, revoked and expired ones included.</summary>
    public async Task<IReadOnlyList<ConversationShare>> ListSharesAsync(Guid conversationId, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("conversations.list_shares");
        // The outer join tells "no shares" (one row of nulls) from "no such conversation" (no row).
        const string sql = """
            SELECT s.id, s.tenant_id, s.conversation_id, s.created_by, s.up_to_seq, s.created_at, s.expires_at, s.revoked_at
              FROM {schema}.conversations c
              LEFT JOIN {schema}.conversation_shares s ON s.tenant_id = {tenant} AND s.conversation_id = c.id
             WHERE c.tenant_id = {tenant} AND c.id = $1 AND c.deleted_at IS NULL AND ($2::uuid IS NULL OR c.user_id = $2)
             ORDER BY s.created_at DESC, s.id DESC
            """;
        await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
        cmd.Add(conversationId).Add(_ownerId);
        var rows = await cmd.ReadListAsync(r => r.IsDBNull(0) ? null : MapShare(r), cancellationToken).ConfigureAwait(false);
        if (rows.Count == 0)
            throw new ChatStoreNotFoundException("conversation", conversationId);
        return rows.OfType<ConversationShare>().ToList();
    }

    /// <summary>Revokes a share link; it stops working at once. Revoking it again keeps the first revocation time.</summary>
    public async Task<ConversationShare> RevokeShareAsync(Guid shareId, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("conversations.revoke_share");
        const string sql = """
            UPDATE {schema}.conversation_shares s SET revoked_at = least(s.revoked_at, now())
              FROM {schema}.conversations c
             WHERE s.tenant_id = {tenant} AND s.id = $1 AND c.tenant_id = {tenant} AND c.id = s.conversation_id AND ($2::uuid IS NULL OR c.user_id = $2)
            RETURNING s.id, s.tenant_id, s.conversation_id, s.created_by, s.up_to_seq, s.created_at, s.expires_at, s.revoked_at
            """;
        await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
        cmd.Add(shareId).Add(_ownerId);
        return await cmd.ReadSingleAsync(MapShare, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("share", shareId);
    }

    /// <summary>What a share token shows; see <see cref="ChatStoreClient.GetSharedConversationAsync"/>.</summary>
    internal async Task<SharedConversation> ReadShareAsync(string token, CancellationToken cancellationToken)
    {
        using var op = Telemetry.Start("conversations.read_share");
        if (TenantOfShareToken(token) != _scope.TenantId)
            throw ShareNotFound();
        // Only the title, creation time and the shared messages: nothing about the owner. A share of a
        // deleted conversation, or of a deleted user's, shows nothing.
        const string sql = """
            SELECT c.title, c.created_at, m.seq, m.role, m.content, m.created_at, m.citations::text
              FROM {schema}.conversation_shares s
              JOIN {schema}.conversations c ON c.tenant_id = {tenant} AND c.id = s.conversation_id AND c.deleted_at IS NULL
              JOIN {schema}.users u ON u.tenant_id = {tenant} AND u.id = c.user_id AND u.deleted_at IS NULL
              LEFT JOIN LATERAL (
                   SELECT m.seq, m.role, m.content, m.created_at, m.citations
                     FROM {schema}.messages m
                    WHERE m.tenant_id = {tenant} AND m.conversation_id = c.id AND m.seq <= s.up_to_seq AND m.deleted_at IS NULL
                      AND m.status = 'complete' AND m.role IN ('user', 'assistant')
                    ORDER BY m.seq) m ON true
             WHERE s.tenant_id = {tenant} AND s.token_hash = $1 AND s.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > $2)
             ORDER BY m.seq
            """;
        await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
        // Expiry by the client's clock (its TimeProvider), like the check at creation.
        cmd.Add(Ids.HashToken(token)).Add(_scope.Context.Time.GetUtcNow());
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            throw ShareNotFound();
        var title = reader.GetString(0);
        var createdAt = reader.GetFieldValue<DateTimeOffset>(1);
        var messages = new List<SharedMessage>();
        do
        {
            if (!reader.IsDBNull(2))
            {
                messages.Add(new SharedMessage(reader.GetInt64(2), reader.GetString(3), reader.GetString(4),
                    reader.GetFieldValue<DateTimeOffset>(5), Json.Read(reader, 6)));
            }
        } while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false));
        return new SharedConversation(title, createdAt, messages);
    }

    /// <summary>The tenant a share token names, or null for anything that is not such a token.</summary>
    internal static Guid? TenantOfShareToken(string? token)
    {
        try
        {
            return Ids.TenantOfToken(token, ShareTokenPrefix);
        }
        catch (FormatException)
        {
            return null; // Base64Url.TryDecodeFromChars throws on some non-base64url text
        }
    }

    // Never the token itself: not-found messages end up in logs.
    internal static ChatStoreNotFoundException ShareNotFound() => new("share", "(token)");

    static ConversationShare MapShare(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetGuid(1), r.GetGuid(2), r.IsDBNull(3) ? null : r.GetGuid(3), r.GetInt64(4), r.GetFieldValue<DateTimeOffset>(5),
        r.IsDBNull(6) ? null : r.GetFieldValue<DateTimeOffset>(6), r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7));
}
