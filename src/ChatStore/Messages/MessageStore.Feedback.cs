using Npgsql;

namespace ChatStore.Messages;

// Feedback and corrections on messages. The user giving them must be a (not deleted) user of the tenant;
// the message must be visible (not deleted, in a conversation that is not deleted).
public sealed partial class MessageStore
{
    const string FeedbackColumns = "id, message_id, user_id, rating, score, comment, created_at, updated_at";

    const string CorrectionColumns = "id, message_id, user_id, original_content, corrected_content, reason, created_at";

    // One per user per message: a second call replaces the first (all three fields).
    internal const string SetFeedbackSql = $$"""
        INSERT INTO {schema}.message_feedback AS f (id, tenant_id, message_id, user_id, rating, score, comment)
        SELECT $1, m.tenant_id, m.id, u.id, $4::text, $5::smallint, $6::text
          FROM {schema}.messages m JOIN {schema}.users u ON u.tenant_id = {tenant} AND u.id = $3 AND u.deleted_at IS NULL
         WHERE m.tenant_id = {tenant} AND m.id = $2 AND {{Live}}
        ON CONFLICT (tenant_id, message_id, user_id) DO UPDATE SET rating = excluded.rating, score = excluded.score, comment = excluded.comment
        RETURNING {{FeedbackColumns}}
        """;

    // Why feedback or a correction stored nothing (run only then).
    const string ParticipantsSql = $$"""
        SELECT EXISTS (SELECT 1 FROM {schema}.messages m WHERE m.tenant_id = {tenant} AND m.id = $1 AND {{Live}}),
               EXISTS (SELECT 1 FROM {schema}.users u WHERE u.tenant_id = {tenant} AND u.id = $2 AND u.deleted_at IS NULL)
        """;

    const string GetFeedbackSql = $$"""
        SELECT {{FeedbackColumns}} FROM {schema}.message_feedback f
         WHERE f.tenant_id = {tenant} AND f.message_id = $1 AND f.user_id = $2
           AND EXISTS (SELECT 1 FROM {schema}.messages m WHERE m.tenant_id = {tenant} AND m.id = f.message_id AND {{Live}})
        """;

    const string DeleteFeedbackSql = $$"""
        DELETE FROM {schema}.message_feedback f
         WHERE f.tenant_id = {tenant} AND f.message_id = $1 AND f.user_id = $2
           AND EXISTS (SELECT 1 FROM {schema}.messages m WHERE m.tenant_id = {tenant} AND m.id = f.message_id AND {{Live}})
        """;

    // Keyset on (message_id, user_id), the unique key; the message row first so an unknown message is not found.
    internal const string ListFeedbackSql = $$"""
        SELECT f.* FROM {schema}.messages m
          LEFT JOIN LATERAL (
               SELECT {{FeedbackColumns}} FROM {schema}.message_feedback f
                WHERE f.tenant_id = {tenant} AND f.message_id = m.id AND f.user_id > $2 ORDER BY f.user_id LIMIT $3) f ON true
         WHERE m.tenant_id = {tenant} AND m.id = $1 AND {{Live}}
        """;

    const string AddCorrectionSql = $$"""
        INSERT INTO {schema}.message_corrections AS target (id, tenant_id, message_id, user_id, original_content, corrected_content, reason)
        SELECT $1, m.tenant_id, m.id, u.id, m.content, $4, $5
          FROM {schema}.messages m JOIN {schema}.users u ON u.tenant_id = {tenant} AND u.id = $3 AND u.deleted_at IS NULL
         WHERE m.tenant_id = {tenant} AND m.id = $2 AND {{Live}}
        RETURNING {{CorrectionColumns}}
        """;

    // Keyset on id (UUIDv7: creation order) among the message's corrections (message_corrections_message_idx).
    const string ListCorrectionsSql = $$"""
        SELECT k.* FROM {schema}.messages m
          LEFT JOIN LATERAL (
               SELECT {{CorrectionColumns}} FROM {schema}.message_corrections k
                WHERE k.tenant_id = {tenant} AND k.message_id = m.id AND k.id > $2 ORDER BY k.id LIMIT $3) k ON true
         WHERE m.tenant_id = {tenant} AND m.id = $1 AND {{Live}}
        """;

    /// <summary>
    /// Sets <paramref name="userId"/>'s feedback on a message: a rating (like/dislike), a score (1–10) or both,
    /// and a comment. It replaces the user's earlier feedback on the message.
    /// </summary>
    /// <exception cref="ChatStoreNotFoundException">The message or the user does not exist for this tenant.</exception>
    public async Task<Feedback> SetFeedbackAsync(Guid messageId, Guid userId, NewFeedback feedback, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        using var op = Telemetry.Start("messages.set_feedback");
        Validate.Id(messageId, "messageId");
        Validate.Id(userId, "userId");
        var rating = feedback.Rating is null ? null : Validate.OneOf(feedback.Rating, "rating", FeedbackRating.All);
        if (feedback.Score is int score)
            Validate.Range(score, "score", 1, 10);
        if (rating is null && feedback.Score is null)
            throw new ChatStoreValidationException("rating", "required", "a rating or a score (or both) is required.");
        var comment = Validate.Text(feedback.Comment, "comment", _scope.Limits.MaxContentLength);
        Feedback? set;
        await using (var cmd = await _scope.CommandAsync(SetFeedbackSql, cancellationToken).ConfigureAwait(false))
        {
            cmd.Add(Ids.New()).Add(messageId).Add(userId).Add(rating).Add(feedback.Score is int s ? (short?)s : null).Add(comment);
            set = await cmd.ReadSingleAsync(MapFeedback, cancellationToken).ConfigureAwait(false);
        }
        return set ?? throw await ParticipantNotFoundAsync(messageId, userId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><paramref name="userId"/>'s feedback on a message.</summary>
    /// <exception cref="ChatStoreNotFoundException">The message does not exist or the user gave no feedback on it.</exception>
    public async Task<Feedback> GetFeedbackAsync(Guid messageId, Guid userId, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("messages.get_feedback");
        Validate.Id(messageId, "messageId");
        Validate.Id(userId, "userId");
        await using var cmd = await _scope.CommandAsync(GetFeedbackSql, cancellationToken).ConfigureAwait(false);
        cmd.Add(messageId).Add(userId);
        return await cmd.ReadSingleAsync(MapFeedback, cancellationToken).ConfigureAwait(false)
            ?? throw new ChatStoreNotFoundException("feedback", $"{messageId}/{userId}");
    }

    /// <summary>Removes <paramref name="userId"/>'s feedback on a message.</summary>
    /// <exception cref="ChatStoreNotFoundException">The message does not exist or the user gave no feedback on it.</exception>
    public async Task DeleteFeedbackAsync(Guid messageId, Guid userId, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("messages.delete_feedback");
        Validate.Id(messageId, "messageId");
        Validate.Id(userId, "userId");
        await using var cmd = await _scope.CommandAsync(DeleteFeedbackSql, cancellationToken).ConfigureAwait(false);
        cmd.Add(messageId).Add(userId);
        if (await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            throw new ChatStoreNotFoundException("feedback", $"{messageId}/{userId}");
    }

    /// <summary>The feedback on a message, ordered by user id, keyset-paginated.</summary>
    /// <exception cref="ChatStoreNotFoundException">No such message for this tenant.</exception>
    public async Task<Page<Feedback>> ListFeedbackAsync(Guid messageId, int limit = 50, string? cursor = null, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("messages.list_feedback");
        Validate.Id(messageId, "messageId");
        Validate.PageSize(limit, _scope.Limits.MaxPageSize);
        var after = cursor is null ? Guid.Empty : Cursor.Decode(cursor).Id;
        var items = await ListUnderMessageAsync(ListFeedbackSql, messageId, after, limit, MapFeedback, cancellationToken).ConfigureAwait(false);
        return Page.Of(items, limit, f => Cursor.Encode(0, f.UserId));
    }

    /// <summary>Records <paramref name="userId"/>'s correction of a message; the message's current content is kept as the original.</summary>
    /// <exception cref="ChatStoreNotFoundException">The message or the user does not exist for this tenant.</exception>
    public async Task<Correction> AddCorrectionAsync(Guid messageId, Guid userId, string correctedContent, string? reason = null,
        CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("messages.add_correction");
        Validate.Id(messageId, "messageId");
        Validate.Id(userId, "userId");
        var limits = _scope.Limits;
        correctedContent = Validate.Required(correctedContent, "correctedContent", limits.MaxContentLength);
        reason = Validate.Text(reason, "reason", limits.MaxContentLength);
        Correction? added;
        await using (var cmd = await _scope.CommandAsync(AddCorrectionSql, cancellationToken).ConfigureAwait(false))
        {
            cmd.Add(Ids.New()).Add(messageId).Add(userId).Add(correctedContent).Add(reason);
            added = await cmd.ReadSingleAsync(MapCorrection, cancellationToken).ConfigureAwait(false);
        }
        return added ?? throw await ParticipantNotFoundAsync(messageId, userId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The corrections of a message by id (UUIDv7: creation order, to the millisecond), keyset-paginated.</summary>
    /// <exception cref="ChatStoreNotFoundException">No such message for this tenant.</exception>
    public async Task<Page<Correction>> ListCorrectionsAsync(Guid messageId, int limit = 50, string? cursor = null, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("messages.list_corrections");
        Validate.Id(messageId, "messageId");
        Validate.PageSize(limit, _scope.Limits.MaxPageSize);
        var after = cursor is null ? Guid.Empty : Cursor.Decode(cursor).Id;
        var items = await ListUnderMessageAsync(ListCorrectionsSql, messageId, after, limit, MapCorrection, cancellationToken).ConfigureAwait(false);
        return Page.Of(items, limit, c => Cursor.Encode(0, c.Id));
    }

    /// <summary>
    /// The feedback on each of <paramref name="messageIds"/> (at most 500, a transcript page), in one round trip:
    /// ordered by message, then user. Unknown ids have none.
    /// </summary>
    public Task<IReadOnlyList<Feedback>> ListFeedbackForAsync(IReadOnlyList<Guid> messageIds, CancellationToken cancellationToken = default) =>
        ListForMessagesAsync("messages.list_feedback_for", $$"""
            SELECT {{FeedbackColumns}} FROM {schema}.message_feedback f
             WHERE f.tenant_id = $1 AND f.message_id = ANY ($2) ORDER BY f.message_id, f.user_id
            """, messageIds, MapFeedback, cancellationToken);

    /// <summary>The corrections of each of <paramref name="messageIds"/> (at most 500), in one round trip, ordered by message, then id.</summary>
    public Task<IReadOnlyList<Correction>> ListCorrectionsForAsync(IReadOnlyList<Guid> messageIds, CancellationToken cancellationToken = default) =>
        ListForMessagesAsync("messages.list_corrections_for", $$"""
            SELECT {{CorrectionColumns}} FROM {schema}.message_corrections k
             WHERE k.tenant_id = $1 AND k.message_id = ANY ($2) ORDER BY k.message_id, k.id
            """, messageIds, MapCorrection, cancellationToken);

    async Task<IReadOnlyList<T>> ListForMessagesAsync<T>(string operation, string sql, IReadOnlyList<Guid> messageIds, Func<NpgsqlDataReader, T> map,
        CancellationToken cancellationToken)
    {
        using var op = Telemetry.Start(operation);
        ArgumentNullException.ThrowIfNull(messageIds);
        if (messageIds.Count > 500)
            throw new ChatStoreValidationException("messageIds", "max_items", $"has {messageIds.Count} ids; ask for at most 500 at a time.");
        if (messageIds.Count == 0) return [];
        await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
        cmd.Add(_scope.TenantId).Add(messageIds.ToArray());
        return await cmd.ReadListAsync(map, cancellationToken).ConfigureAwait(false);
    }

    // Rows of a LEFT JOIN LATERAL under the message row: no row → no message; one all-NULL row → none.
    async Task<List<T>> ListUnderMessageAsync<T>(string sql, Guid messageId, Guid after, int limit, Func<NpgsqlDataReader, T> map,
        CancellationToken cancellationToken)
    {
        await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
        cmd.Add(messageId).Add(after).Add(limit + 1);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            throw new ChatStoreNotFoundException("message", messageId);
        var items = new List<T>();
        if (!reader.IsDBNull(0))
        {
            do items.Add(map(reader));
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false));
        }
        return items;
    }

    async Task<ChatStoreException> ParticipantNotFoundAsync(Guid messageId, Guid userId, CancellationToken cancellationToken)
    {
        await using var cmd = await _scope.CommandAsync(ParticipantsSql, cancellationToken).ConfigureAwait(false);
        cmd.Add(messageId).Add(userId);
        var (message, user) = await cmd.ReadSingleAsync(r => (r.GetBoolean(0), r.GetBoolean(1)), cancellationToken).ConfigureAwait(false);
        return !message ? new ChatStoreNotFoundException("message", messageId)
            : !user ? new ChatStoreNotFoundException("user", userId)
            : new ChatStoreConflictException($"Message {messageId} changed while recording the feedback; retry.");
    }

    static Feedback MapFeedback(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetGuid(1), r.GetGuid(2), r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(4) ? null : r.GetInt16(4),
        r.IsDBNull(5) ? null : r.GetString(5), r.GetFieldValue<DateTimeOffset>(6), r.GetFieldValue<DateTimeOffset>(7));

    static Correction MapCorrection(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetGuid(1), r.GetGuid(2), r.GetString(3), r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5),
        r.GetFieldValue<DateTimeOffset>(6));
}
