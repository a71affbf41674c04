using System.Text.Json;
using ChatStore.Tenancy;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Messages
{
    /// <summary>
    /// A tenant's messages: append (with idempotency keys and document links), streaming, regenerate, read
    /// history, edit, soft delete and restore, plus feedback, corrections and document links.
    /// Every operation is one round trip on its success path.
    /// </summary>
    /// <remarks>
    /// Counters on the conversation: <c>last_seq</c> counts every message ever appended (the next seq is
    /// <c>last_seq + 1</c>); <c>message_count</c> counts the live (not soft-deleted) messages, so deleting
    /// a message decrements it and restoring increments it. Messages of a soft-deleted conversation, and
    /// soft-deleted messages (except through <see cref="HistoryQuery.IncludeDeleted"/> and
    /// <see cref="RestoreAsync"/>), are not found.
    /// </remarks>
    public sealed partial class MessageStore
    {
        // The columns of Message, in Map's order. Unqualified: used where messages is the only table in scope.
        const string Columns = """
            id, conversation_id, user_id, seq, role, content, status, parent_id, citations::text AS citations, metadata::text AS metadata, domains, model,
            input_tokens, output_tokens, cost_usd, response_ms, error, idempotency_key, created_at, updated_at, edited_at, deleted_at
            """;

        // A message aliased m is visible: not soft-deleted, in a conversation that is not soft-deleted.
        // A scalar subquery rather than EXISTS, with deleted_at tested in its select list: the planner then
        // has one way to reach the conversation, its primary key, per message. As a semi-join with
        // "deleted_at IS NULL" in the WHERE it could read every live conversation of the tenant through
        // the partial index conversations_recent_idx (it did for a tenant newer than its statistics).
        const string Live = """
            m.deleted_at IS NULL AND (SELECT c.deleted_at IS NULL FROM {schema}.conversations c WHERE c.tenant_id = {tenant} AND c.id = m.conversation_id)
            """;

        const byte AppendKind = (byte)'A', RegenerateKind = (byte)'R';

        static readonly JsonElement EmptyArray = Json.Parse("[]");
        static readonly JsonElement EmptyObject = Json.Parse("{}");

        readonly TenantScope _scope;

        internal MessageStore(TenantScope scope) => _scope = scope;

        // ------------------------------------------------------------------------------------------
        // Append and regenerate

        // One statement: the conversation row is bumped with UPDATE … RETURNING, whose row lock
        // serialises concurrent appenders, so seq = last_seq + 1 is gapless; the message and its
        // document links are inserted from the bumped row. The bump is skipped when the idempotency key
        // is already taken (the stored message comes back with its request hash instead); a concurrent
        // append with the same key that committed after this statement's snapshot makes the INSERT fail
        // on messages_idempotency_key, which rolls the bump back. Parent and documents are checked under
        // row-level security (foreign keys alone would accept another tenant's ids).
        // A new message comes back as the columns the server chose (id, conversation, user, seq, times):
        // the rest is what the caller sent, so the content is not sent back and decoded a second time. A
        // replay comes back whole (it may have changed since: chunks, completion) with its request hash.
        // $2 is the conversation, or null to use the parent's (regenerate). CASE, not coalesce: under
        // row-level security PostgreSQL treats coalesce as possibly leaky and will not use it as an index
        // condition, so c.id = coalesce(…) would scan every conversation of the tenant.
        internal const string AppendSql = $$"""
            WITH existing AS (
                SELECT * FROM {schema}.messages
                 WHERE $16::text IS NOT NULL AND tenant_id = {tenant} AND idempotency_key = $16::text
            ), conv AS (
                UPDATE {schema}.conversations c
                   SET last_seq = c.last_seq + 1, message_count = c.message_count + 1, last_message_at = now(), last_activity_at = now()
                 WHERE c.tenant_id = {tenant}
                   AND c.id = CASE WHEN $2::uuid IS NULL THEN (SELECT p.conversation_id FROM {schema}.messages p WHERE p.tenant_id = {tenant} AND p.id = $6::uuid) ELSE $2::uuid END
                   AND c.deleted_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM existing)
                   AND ($6::uuid IS NULL OR EXISTS (
                        SELECT 1 FROM {schema}.messages p WHERE p.tenant_id = {tenant} AND p.id = $6::uuid AND p.conversation_id = c.id AND p.deleted_at IS NULL))
                   AND (cardinality($18::uuid[]) = 0 OR cardinality($18::uuid[]) = (
                        SELECT count(*) FROM {schema}.documents d WHERE d.tenant_id = {tenant} AND d.id = ANY ($18::uuid[]) AND d.user_id = c.user_id AND d.deleted_at IS NULL))
                RETURNING c.id, c.tenant_id, c.user_id, c.last_seq
            ), ins AS (
                INSERT INTO {schema}.messages AS target (id, tenant_id, conversation_id, user_id, seq, role, content, status, parent_id, citations, metadata,
                                               domains, model, input_tokens, output_tokens, cost_usd, response_ms, error, idempotency_key,
                                               request_hash, language)
                SELECT $1::uuid, conv.tenant_id, conv.id, conv.user_id, conv.last_seq, $3::text, $4::text, $5::text, $6::uuid, $7::jsonb, $8::jsonb,
                       $9::text[], $10::text, $11::int, $12::int, $13::numeric, $14::int, $15::text, $16::text, $17::bytea, t.search_language
                  FROM conv JOIN {schema}.tenants t ON t.id = conv.tenant_id
                RETURNING *
            ), links AS (
                INSERT INTO {schema}.message_documents AS target (tenant_id, message_id, document_id)
                SELECT ins.tenant_id, ins.id, d.id FROM ins, unnest($18::uuid[]) AS d (id)
            )
            SELECT id, conversation_id, user_id, seq, NULL::text, NULL::text, NULL::text, NULL::uuid, NULL::text, NULL::text, NULL::text[], NULL::text,
                   NULL::int, NULL::int, NULL::numeric, NULL::int, NULL::text, NULL::text, created_at, updated_at, NULL::timestamptz, NULL::timestamptz,
                   NULL::bytea
              FROM ins
            UNION ALL
            SELECT {{Columns}}, request_hash FROM existing
            """;

        // Why an append stored nothing (run only then): the conversation, the parent, the documents.
        const string AppendDiagnosisSql = """
            WITH p AS (SELECT conversation_id FROM {schema}.messages WHERE tenant_id = {tenant} AND id = $2::uuid AND deleted_at IS NULL),
                 c AS (SELECT id, user_id FROM {schema}.conversations
                        WHERE tenant_id = {tenant} AND id = CASE WHEN $1::uuid IS NULL THEN (SELECT conversation_id FROM p) ELSE $1::uuid END AND deleted_at IS NULL)
            SELECT EXISTS (SELECT 1 FROM c),
                   $2::uuid IS NULL OR EXISTS (SELECT 1 FROM p JOIN c ON c.id = p.conversation_id),
                   ARRAY(SELECT x FROM unnest($3::uuid[]) AS x WHERE NOT EXISTS (
                       SELECT 1 FROM {schema}.documents d JOIN c ON d.user_id = c.user_id WHERE d.tenant_id = {tenant} AND d.id = x AND d.deleted_at IS NULL))
            """;

        const string ByKeySql = $$"""
            SELECT {{Columns}}, request_hash FROM {schema}.messages
             WHERE tenant_id = {tenant} AND idempotency_key = $1
            """;

        /// <summary>
        /// Appends a message to a conversation as its next seq, in one statement that also updates the
        /// conversation's <c>last_seq</c>, <c>message_count</c>, <c>last_message_at</c> and <c>last_activity_at</c>
        /// and links <see cref="NewMessage.DocumentIds"/>. The message belongs to the conversation's user and is
        /// indexed in the tenant's search language. Concurrent appends to one conversation get consecutive seqs.
        /// </summary>
        /// <exception cref="ChatStoreNotFoundException">The conversation (or the parent message, or a document) does not exist for this tenant or is deleted; nothing is stored.</exception>
        /// <exception cref="ChatStoreConflictException">The idempotency key was used for a different message.</exception>
        /// <exception cref="ChatStoreValidationException">The input broke a rule; nothing is stored.</exception>
        public Task<Message> AppendAsync(Guid conversationId, NewMessage message, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(message);
            Validate.Id(conversationId, "conversationId");
            return AppendCoreAsync("messages.append", AppendKind, conversationId, message, message.ParentId, cancellationToken);
        }

        /// <summary>
        /// Appends a new answer to <paramref name="messageId"/> in its conversation, with <c>parent_id</c> set to it
        /// (for a regenerated response). Otherwise like <see cref="AppendAsync"/>.
        /// </summary>
        /// <exception cref="ChatStoreNotFoundException">The message does not exist for this tenant or is deleted; nothing is stored.</exception>
        public Task<Message> RegenerateAsync(Guid messageId, NewMessage message, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(message);
            Validate.Id(messageId, "messageId");
            if (message.ParentId is Guid p && p != messageId)
                throw new ChatStoreValidationException("parentId", "mismatch", "must be null or the regenerated message's id.");
            return AppendCoreAsync("messages.regenerate", RegenerateKind, null, message, messageId, cancellationToken);
        }

        async Task<Message> AppendCoreAsync(string operation, byte kind, Guid? conversationId, NewMessage m, Guid? parentId, CancellationToken cancellationToken)
        {
            using var op = Telemetry.Start(operation);
            var limits = _scope.Limits;
            var (id, role, content, status, citations, metadata, domains, model, error) = Check(m, limits);
            if (parentId is Guid parent)
                Validate.Id(parent, "parentId");
            var key = m.IdempotencyKey is null ? null : Validate.Required(m.IdempotencyKey, "idempotencyKey", limits.MaxShortTextLength);
            var documentIds = DocumentIds(m.DocumentIds, "documentIds", limits.MaxListItems);
            var hash = key is null ? null
                : RequestHash.Of(kind, m.Id, conversationId ?? Guid.Empty, m with { ParentId = parentId }, role, content, status, domains, documentIds);

            Message? message;
            byte[]? storedHash = null;
            try
            {
                await using var cmd = await _scope.CommandAsync(AppendSql, cancellationToken).ConfigureAwait(false);
                cmd.Add(id).Add(conversationId).Add(role).Add(content).Add(status).Add(parentId)
                    .Add(citations, NpgsqlDbType.Jsonb).Add(metadata, NpgsqlDbType.Jsonb).Add(domains).Add(model)
                    .Add(m.InputTokens).Add(m.OutputTokens).Add(m.CostUsd).Add(m.ResponseMs).Add(error).Add(key).Add(hash).Add(documentIds);
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    message = null;
                else if (reader.IsDBNull(4))
                    message = new Message(reader.GetGuid(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetInt64(3), role, content, status, parentId,
                        Detached(m.Citations, EmptyArray), Detached(m.Metadata, EmptyObject), domains, model, m.InputTokens, m.OutputTokens,
                        AsStored(m.CostUsd), m.ResponseMs, error, key, reader.GetFieldValue<DateTimeOffset>(18), reader.GetFieldValue<DateTimeOffset>(19),
                        null, null);
                else
                    (message, storedHash) = MapWithHash(reader)!.Value;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == "messages_idempotency_key")
            {
                // A concurrent append with the same key committed first; this statement (and its seq bump) rolled back.
                (message, storedHash) = await ByKeyAsync(key!, cancellationToken).ConfigureAwait(false)
                    ?? throw new ChatStoreConflictException("An append with the same idempotency key was running concurrently and did not persist; retry.", e);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new ChatStoreConflictException($"A message with id {id} already exists.", e);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                // A parent or document hard-deleted between the check and the insert.
                throw e.ConstraintName?.Contains("document", StringComparison.Ordinal) == true
                    ? new ChatStoreNotFoundException("document", string.Join(", ", documentIds))
                    : new ChatStoreNotFoundException("message", parentId ?? Guid.Empty);
            }

            if (message is null)
                throw await AppendNotFoundAsync(conversationId, parentId, documentIds, cancellationToken).ConfigureAwait(false);
            if (storedHash is not null && !storedHash.AsSpan().SequenceEqual(hash))
                throw new ChatStoreConflictException(
                    $"The idempotency key '{key}' was already used for message {message.Id} with different content; use a new key for a new message.");
            return message;
        }

        // The caller's JSON, detached from its document (which the caller may dispose), or the shared empty value.
        static JsonElement Detached(JsonElement? value, JsonElement empty) => value switch
        {
            null or { ValueKind: JsonValueKind.Undefined } => empty,
            { ValueKind: JsonValueKind.Array } e when e.GetArrayLength() == 0 => empty,
            { ValueKind: JsonValueKind.Object } e when e.GetPropertyCount() == 0 => empty,
            JsonElement e => e.Clone(),
        };

        // A cost as numeric(18, 8) stores and returns it: rounded half away from zero to 8 places, with scale 8.
        static decimal AsStored(decimal cost) => decimal.Round(cost, 8, MidpointRounding.AwayFromZero) + 0.00000000m;

        async Task<(Message, byte[]?)?> ByKeyAsync(string key, CancellationToken cancellationToken)
        {
            await using var cmd = await _scope.CommandAsync(ByKeySql, cancellationToken).ConfigureAwait(false);
            cmd.Add(key);
            return await cmd.ReadSingleAsync(MapWithHash, cancellationToken).ConfigureAwait(false);
        }

        async Task<ChatStoreException> AppendNotFoundAsync(Guid? conversationId, Guid? parentId, Guid[] documentIds, CancellationToken cancellationToken)
        {
            await using var cmd = await _scope.CommandAsync(AppendDiagnosisSql, cancellationToken).ConfigureAwait(false);
            cmd.Add(conversationId).Add(parentId).Add(documentIds);
            var (conversationOk, parentOk, missing) = (await cmd.ReadSingleAsync(
                r => (r.GetBoolean(0), r.GetBoolean(1), r.GetFieldValue<Guid[]>(2)), cancellationToken).ConfigureAwait(false))!;
            if (conversationId is null && !parentOk)
                return new ChatStoreNotFoundException("message", parentId!.Value);
            if (!conversationOk)
                return new ChatStoreNotFoundException("conversation", conversationId!.Value);
            if (!parentOk)
                return new ChatStoreNotFoundException("message", parentId!.Value);
            if (missing.Length > 0)
                return new ChatStoreNotFoundException("document", missing[0]);
            return new ChatStoreConflictException("The conversation changed while the message was appended; retry.");
        }

        // ------------------------------------------------------------------------------------------
        // Streaming

        // The length check keeps a stream within Limits.MaxContentLength (PostgreSQL counts code points).
        // octet_length reads the stored size without decompressing the content; characters are counted
        // only when the bytes pass the limit (a character is at least one byte). While a message streams
        // its search vector is NULL (migration 0004), so a chunk neither re-tokenises the content nor
        // touches the GIN index.
        internal const string AppendChunkSql = $$"""
            UPDATE {schema}.messages m SET content = m.content || $2
             WHERE m.tenant_id = {tenant} AND m.id = $1 AND m.status = 'streaming' AND {{Live}}
               AND (octet_length(m.content) + octet_length($2) <= $3 OR length(m.content) + length($2) <= $3)
            """;

        const string CompleteSql = $$"""
            UPDATE {schema}.messages m
               SET status = 'complete', content = coalesce($2::text, m.content), model = coalesce($3::text, m.model),
                   input_tokens = coalesce($4::int, m.input_tokens), output_tokens = coalesce($5::int, m.output_tokens),
                   cost_usd = coalesce($6::numeric, m.cost_usd), response_ms = coalesce($7::int, m.response_ms),
                   citations = coalesce($8::jsonb, m.citations), metadata = m.metadata || coalesce($9::jsonb, '{}')
             WHERE m.tenant_id = {tenant} AND m.id = $1 AND m.status = 'streaming' AND {{Live}}
            RETURNING {{Columns}}
            """;

        const string FailSql = $$"""
            UPDATE {schema}.messages m SET status = 'error', error = $2
             WHERE m.tenant_id = {tenant} AND m.id = $1 AND m.status = 'streaming' AND {{Live}}
            RETURNING {{Columns}}
            """;

        // Why a state change matched nothing (run only then): the status and length of a visible message.
        const string StateSql = $$"""
            SELECT m.status, length(m.content) FROM {schema}.messages m WHERE m.tenant_id = {tenant} AND m.id = $1 AND {{Live}}
            """;

        /// <summary>
        /// Appends <paramref name="chunk"/> to a streaming message's content; readers see the content so far.
        /// Sends nothing back, so a long stream costs no more than its chunks.
        /// </summary>
        /// <exception cref="ChatStoreNotFoundException">No such message for this tenant.</exception>
        /// <exception cref="ChatStoreConflictException">The message is not streaming (it was completed or failed).</exception>
        /// <exception cref="ChatStoreValidationException">The chunk is invalid text, or the content would exceed <see cref="ChatStoreLimits.MaxContentLength"/>.</exception>
        public async Task AppendChunkAsync(Guid messageId, string chunk, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("messages.append_chunk");
            Validate.Id(messageId, "messageId");
            var max = _scope.Limits.MaxContentLength;
            chunk = Validate.Text(chunk, "chunk", max) ?? throw new ChatStoreValidationException("chunk", "required", "is required.");
            int updated;
            await using (var cmd = await _scope.CommandAsync(AppendChunkSql, cancellationToken).ConfigureAwait(false))
            {
                cmd.Add(messageId).Add(chunk).Add(max);
                updated = await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            if (updated == 0)
                throw await StateErrorAsync(messageId, "append a chunk to", streaming: true, chunk.Length, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Marks a streaming message complete, optionally with its final content, tokens, cost, model, timing, citations and metadata.</summary>
        /// <exception cref="ChatStoreNotFoundException">No such message for this tenant.</exception>
        /// <exception cref="ChatStoreConflictException">The message is not streaming.</exception>
        public async Task<Message> CompleteAsync(Guid messageId, MessageCompletion? completion = null, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("messages.complete");
            Validate.Id(messageId, "messageId");
            var limits = _scope.Limits;
            completion ??= new MessageCompletion();
            var content = Validate.Text(completion.Content, "content", limits.MaxContentLength);
            var model = Validate.Text(completion.Model, "model", limits.MaxShortTextLength);
            if (completion.InputTokens is int input) Validate.NotNegative(input, "inputTokens");
            if (completion.OutputTokens is int output) Validate.NotNegative(output, "outputTokens");
            if (completion.CostUsd is decimal cost) ValidateCost(cost, "costUsd");
            if (completion.ResponseMs is int ms) Validate.NotNegative(ms, "responseMs");
            var citations = Validate.Json(completion.Citations, "citations", limits.MaxJsonBytes, JsonValueKind.Array);
            var metadata = Validate.Json(completion.Metadata, "metadata", limits.MaxJsonBytes, JsonValueKind.Object);
            Message? completed;
            await using (var cmd = await _scope.CommandAsync(CompleteSql, cancellationToken).ConfigureAwait(false))
            {
                cmd.Add(messageId).Add(content).Add(model).Add(completion.InputTokens).Add(completion.OutputTokens).Add(completion.CostUsd)
                    .Add(completion.ResponseMs).Add(citations, NpgsqlDbType.Jsonb).Add(metadata, NpgsqlDbType.Jsonb);
                completed = await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false);
            }
            return completed ?? throw await StateErrorAsync(messageId, "complete", streaming: true, 0, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Marks a streaming message failed with <paramref name="error"/>; its partial content stays.</summary>
        /// <exception cref="ChatStoreNotFoundException">No such message for this tenant.</exception>
        /// <exception cref="ChatStoreConflictException">The message is not streaming.</exception>
        public async Task<Message> FailAsync(Guid messageId, string error, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("messages.fail");
            Validate.Id(messageId, "messageId");
            error = Validate.Required(error, "error", _scope.Limits.MaxContentLength);
            Message? failed;
            await using (var cmd = await _scope.CommandAsync(FailSql, cancellationToken).ConfigureAwait(false))
            {
                cmd.Add(messageId).Add(error);
                failed = await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false);
            }
            return failed ?? throw await StateErrorAsync(messageId, "fail", streaming: true, 0, cancellationToken).ConfigureAwait(false);
        }

        // Why a state change matched nothing: the message is not visible, or its status forbids the change
        // (streaming: the change needs a streaming message, or a non-streaming one), or a chunk would make it too long.
        async Task<ChatStoreException> StateErrorAsync(Guid messageId, string action, bool streaming, int chunkLength, CancellationToken cancellationToken)
        {
            (string Status, int Length)? state;
            await using (var cmd = await _scope.CommandAsync(StateSql, cancellationToken).ConfigureAwait(false))
            {
                cmd.Add(messageId);
                state = await cmd.ReadSingleAsync(r => ((string, int)?)(r.GetString(0), r.GetInt32(1)), cancellationToken).ConfigureAwait(false);
            }
            if (state is null)
                return new ChatStoreNotFoundException("message", messageId);
            var (status, length) = state.Value;
            if (streaming && status != MessageStatus.Streaming)
                return new ChatStoreConflictException($"Cannot {action} message {messageId}: its status is {status}, not streaming.");
            if (!streaming && status == MessageStatus.Streaming)
                return new ChatStoreConflictException($"Cannot {action} message {messageId} while it is streaming; complete or fail it first.");
            var max = _scope.Limits.MaxContentLength;
            if (chunkLength > 0 && (long)length + chunkLength > max)
                return new ChatStoreValidationException("chunk", "max_length", $"would make the content {(long)length + chunkLength} characters long; the limit is {max}.");
            return new ChatStoreConflictException($"Message {messageId} changed while trying to {action} it; retry.");
        }

        // ------------------------------------------------------------------------------------------
        // Reading

        internal const string GetSql = $$"""SELECT {{Columns}} FROM {schema}.messages m WHERE m.tenant_id = {tenant} AND m.id = $1 AND {{Live}}""";

        // History reads a window of seqs, not "the conversation ordered, then LIMIT". Seqs are gapless
        // (deleted messages keep theirs) and the conversation row says how many messages were ever
        // appended (last_seq) and how many are live (message_count), so the limit + 1 latest live messages
        // before hi = min(before - 1, last_seq) have seq > hi - (limit + 1) - deleted. The scan of the
        // (conversation_id, seq) index is bounded by that range whatever plan PostgreSQL picks: an index
        // scan that stops after the page, or a bitmap scan and sort of at most limit + 1 + deleted rows;
        // never the whole conversation. The window is computed in a lateral subquery kept apart with
        // OFFSET 0: written inline, its arithmetic (not leakproof) could not be an index condition under
        // row-level security. "complete" says the window reached the end of the conversation; if a page
        // comes back short while it did not (only if counters were changed behind this store's back),
        // the unbounded query runs instead.
        // The conversation row comes first so that an unknown (or another tenant's) conversation reads as
        // not found and an empty one as one all-NULL row.
        // $1 conversation, $2 before (exclusive), $3 include deleted, $4 limit + 1.
        internal const string LatestSql = $$"""
            SELECT h.*, w.lo <= 0 FROM {schema}.conversations c
             CROSS JOIN LATERAL (
                   SELECT CASE WHEN $2 - 1 < c.last_seq THEN $2 - 1 ELSE c.last_seq END - $4
                          - CASE WHEN $3 OR c.message_count >= c.last_seq THEN 0 ELSE c.last_seq - c.message_count END AS lo
                   OFFSET 0) w
              LEFT JOIN LATERAL (
                   SELECT {{Columns}} FROM {schema}.messages m
                    WHERE m.tenant_id = {tenant} AND m.conversation_id = c.id AND m.seq < $2 AND m.seq > w.lo AND ($3 OR m.deleted_at IS NULL)
                    ORDER BY m.seq DESC LIMIT $4) h ON true
             WHERE c.tenant_id = {tenant} AND c.id = $1 AND c.deleted_at IS NULL
            """;

        // $1 conversation, $2 after (exclusive), $3 include deleted, $4 limit + 1, $5 before (exclusive).
        internal const string AfterSql = $$"""
            SELECT h.*, w.hi >= c.last_seq OR w.hi >= $5 - 1 FROM {schema}.conversations c
             CROSS JOIN LATERAL (
                   SELECT CASE WHEN $2 >= c.last_seq THEN $2
                               ELSE $2 + $4 + CASE WHEN $3 OR c.message_count >= c.last_seq THEN 0 ELSE c.last_seq - c.message_count END END AS hi
                   OFFSET 0) w
              LEFT JOIN LATERAL (
                   SELECT {{Columns}} FROM {schema}.messages m
                    WHERE m.tenant_id = {tenant} AND m.conversation_id = c.id AND m.seq > $2 AND m.seq <= w.hi AND m.seq < $5 AND ($3 OR m.deleted_at IS NULL)
                    ORDER BY m.seq LIMIT $4) h ON true
             WHERE c.tenant_id = {tenant} AND c.id = $1 AND c.deleted_at IS NULL
            """;

        // The same without the window, for the case described above.
        internal const string LatestUnboundedSql = $$"""
            SELECT h.*, true FROM {schema}.conversations c
              LEFT JOIN LATERAL (
                   SELECT {{Columns}} FROM {schema}.messages m
                    WHERE m.tenant_id = {tenant} AND m.conversation_id = c.id AND m.seq < $2 AND ($3 OR m.deleted_at IS NULL)
                    ORDER BY m.seq DESC LIMIT $4) h ON true
             WHERE c.tenant_id = {tenant} AND c.id = $1 AND c.deleted_at IS NULL
            """;

        const string AfterUnboundedSql = $$"""
            SELECT h.*, true FROM {schema}.conversations c
              LEFT JOIN LATERAL (
                   SELECT {{Columns}} FROM {schema}.messages m
                    WHERE m.tenant_id = {tenant} AND m.conversation_id = c.id AND m.seq > $2 AND m.seq < $5 AND ($3 OR m.deleted_at IS NULL)
                    ORDER BY m.seq LIMIT $4) h ON true
             WHERE c.tenant_id = {tenant} AND c.id = $1 AND c.deleted_at IS NULL
            """;

        /// <summary>A message by id (not soft-deleted, in a conversation that is not).</summary>
        /// <exception cref="ChatStoreNotFoundException">No such message for this tenant.</exception>
        public async Task<Message> GetAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("messages.get");
            Validate.Id(id, "id");
            await using var cmd = await _scope.CommandAsync(GetSql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id);
            return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("message", id);
        }

        const string GetIncludingDeletedSql = $$"""
            SELECT {{Columns}} FROM {schema}.messages m
             WHERE m.tenant_id = {tenant} AND m.id = $1 AND EXISTS (SELECT 1 FROM {schema}.conversations c WHERE c.tenant_id = {tenant} AND c.id = m.conversation_id AND c.deleted_at IS NULL)
            """;

        /// <summary>
        /// A message by id, soft-deleted or not, in a conversation that is not soft-deleted (for a trash view,
        /// or to check whose a message is before <see cref="RestoreAsync"/>).
        /// </summary>
        /// <exception cref="ChatStoreNotFoundException">No such message for this tenant, or its conversation is deleted.</exception>
        public async Task<Message> GetIncludingDeletedAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("messages.get_including_deleted");
            await using var cmd = await _scope.CommandAsync(GetIncludingDeletedSql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id);
            return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("message", id);
        }

        /// <summary>
        /// A conversation's messages in ascending seq order: the latest <see cref="HistoryQuery.Limit"/> (default),
        /// the latest before <see cref="HistoryQuery.BeforeSeq"/>, or the earliest after <see cref="HistoryQuery.AfterSeq"/>
        /// (bounded by <see cref="HistoryQuery.BeforeSeq"/> when both are set). Keyset on (conversation, seq):
        /// the cost depends on the page size, not on the conversation's length.
        /// </summary>
        /// <exception cref="ChatStoreNotFoundException">No such conversation for this tenant, or it is deleted.</exception>
        public async Task<MessageHistory> HistoryAsync(Guid conversationId, HistoryQuery? query = null, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("messages.history");
            Validate.Id(conversationId, "conversationId");
            query ??= new HistoryQuery();
            var limit = Validate.PageSize(query.Limit, _scope.Limits.MaxPageSize);
            var before = query.BeforeSeq is long b ? Validate.NotNegative(b, "beforeSeq") : long.MaxValue;
            var after = query.AfterSeq is long a ? Validate.NotNegative(a, "afterSeq") : (long?)null;
            var forward = after is not null;
            var (messages, complete) = await ReadHistoryAsync(forward ? AfterSql : LatestSql, conversationId, forward ? after!.Value : before,
                query.IncludeDeleted, limit, before, forward, cancellationToken).ConfigureAwait(false);
            if (messages.Count <= limit && !complete)
                (messages, _) = await ReadHistoryAsync(forward ? AfterUnboundedSql : LatestUnboundedSql, conversationId, forward ? after!.Value : before,
                    query.IncludeDeleted, limit, before, forward, cancellationToken).ConfigureAwait(false);
            var hasMore = messages.Count > limit;
            if (hasMore)
                messages.RemoveAt(messages.Count - 1);
            if (!forward)
                messages.Reverse();
            return new MessageHistory(messages, hasMore);
        }

        async Task<(List<Message> Messages, bool Complete)> ReadHistoryAsync(string sql, Guid conversationId, long from, bool includeDeleted, int limit,
            long before, bool forward, CancellationToken cancellationToken)
        {
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(conversationId).Add(from).Add(includeDeleted).Add(limit + 1);
            if (forward)
                cmd.Add(before);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                throw new ChatStoreNotFoundException("conversation", conversationId);
            var complete = reader.GetBoolean(22);
            var messages = new List<Message>(Math.Min(limit + 1, 64));
            if (!reader.IsDBNull(0))
            {
                do messages.Add(Map(reader));
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false));
            }
            return (messages, complete);
        }

        // ------------------------------------------------------------------------------------------
        // Edit, delete, restore

        const string EditSql = $$"""
            UPDATE {schema}.messages m SET content = $2, edited_at = now()
             WHERE m.tenant_id = {tenant} AND m.id = $1 AND m.status <> 'streaming' AND {{Live}}
            RETURNING {{Columns}}
            """;

        // message_count counts live messages: the soft delete and the decrement are one statement.
        internal const string DeleteSql = $$"""
            WITH d AS (
                UPDATE {schema}.messages m SET deleted_at = now() WHERE m.tenant_id = {tenant} AND m.id = $1 AND {{Live}} RETURNING m.id, m.conversation_id
            ), c AS (
                UPDATE {schema}.conversations c SET message_count = c.message_count - 1 FROM d WHERE c.tenant_id = {tenant} AND c.id = d.conversation_id
            ), e AS (
                -- A deleted message has no vectors (search reads no liveness inside the index scan); a restore embeds it again.
                DELETE FROM {schema}.embeddings e WHERE e.tenant_id = {tenant} AND e.message_id = ANY (ARRAY(SELECT id FROM d))
            )
            SELECT count(*)::int FROM d
            """;

        const string RestoreSql = $$"""
            WITH r AS (
                UPDATE {schema}.messages m SET deleted_at = NULL
                 WHERE m.tenant_id = {tenant} AND m.id = $1 AND m.deleted_at IS NOT NULL
                   AND (SELECT c.deleted_at IS NULL FROM {schema}.conversations c WHERE c.tenant_id = {tenant} AND c.id = m.conversation_id)
                RETURNING m.*
            ), c AS (
                UPDATE {schema}.conversations c SET message_count = c.message_count + 1 FROM r WHERE c.tenant_id = {tenant} AND c.id = r.conversation_id
            )
            SELECT {{Columns}} FROM r
            """;

        /// <summary>Replaces a message's content and sets <see cref="Message.EditedAt"/>.</summary>
        /// <exception cref="ChatStoreNotFoundException">No such message for this tenant.</exception>
        /// <exception cref="ChatStoreConflictException">The message is still streaming.</exception>
        public async Task<Message> EditAsync(Guid id, string content, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("messages.edit");
            Validate.Id(id, "id");
            content = Validate.Text(content, "content", _scope.Limits.MaxContentLength)
                ?? throw new ChatStoreValidationException("content", "required", "is required.");
            Message? edited;
            await using (var cmd = await _scope.CommandAsync(EditSql, cancellationToken).ConfigureAwait(false))
            {
                cmd.Add(id).Add(content);
                edited = await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false);
            }
            return edited ?? throw await StateErrorAsync(id, "edit", streaming: false, 0, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Soft-deletes a message (it keeps its seq; the conversation's <c>message_count</c> drops by one).</summary>
        /// <exception cref="ChatStoreNotFoundException">No such message for this tenant, or it is already deleted.</exception>
        public async Task DeleteAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("messages.delete");
            Validate.Id(id, "id");
            await using var cmd = await _scope.CommandAsync(DeleteSql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id);
            if (await cmd.ReadSingleAsync(r => r.GetInt32(0), cancellationToken).ConfigureAwait(false) == 0)
                throw new ChatStoreNotFoundException("message", id);
        }

        /// <summary>Restores a soft-deleted message (the conversation's <c>message_count</c> grows by one). Restoring a live message returns it unchanged.</summary>
        /// <exception cref="ChatStoreNotFoundException">No such message for this tenant, or its conversation is deleted.</exception>
        public async Task<Message> RestoreAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("messages.restore");
            Validate.Id(id, "id");
            Message? restored;
            await using (var cmd = await _scope.CommandAsync(RestoreSql, cancellationToken).ConfigureAwait(false))
            {
                cmd.Add(id);
                restored = await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false);
            }
            return restored ?? await GetAsync(id, cancellationToken).ConfigureAwait(false);
        }

        // ------------------------------------------------------------------------------------------
        // Document links

        // Links only documents of the message's user, all or none; returns whether the message is visible and which ids are unknown.
        internal const string LinkSql = $$"""
            WITH m AS (
                SELECT m.id, m.tenant_id, m.user_id FROM {schema}.messages m WHERE m.tenant_id = {tenant} AND m.id = $1 AND {{Live}}
            ), d AS (
                SELECT d.id FROM {schema}.documents d JOIN m ON d.user_id = m.user_id WHERE d.tenant_id = {tenant} AND d.id = ANY ($2::uuid[]) AND d.deleted_at IS NULL
            ), missing AS (
                SELECT ARRAY(SELECT x FROM unnest($2::uuid[]) AS x EXCEPT SELECT id FROM d) AS ids
            ), ins AS (
                INSERT INTO {schema}.message_documents AS target (tenant_id, message_id, document_id)
                SELECT m.tenant_id, m.id, d.id FROM m, d, missing WHERE cardinality(missing.ids) = 0
                ON CONFLICT DO NOTHING
            )
            SELECT EXISTS (SELECT 1 FROM m), (SELECT ids FROM missing)
            """;

        const string DocumentIdsSql = $$"""
            SELECT ARRAY(SELECT md.document_id FROM {schema}.message_documents md JOIN {schema}.documents d ON d.tenant_id = {tenant} AND d.id = md.document_id
                          WHERE md.tenant_id = {tenant} AND md.message_id = m.id AND d.deleted_at IS NULL ORDER BY md.document_id)
              FROM {schema}.messages m WHERE m.tenant_id = {tenant} AND m.id = $1 AND {{Live}}
            """;

        /// <summary>Links documents (of the message's user) to a message; links that exist already are kept. All or nothing.</summary>
        /// <exception cref="ChatStoreNotFoundException">The message or a document does not exist for this tenant and user; nothing is stored.</exception>
        public async Task LinkDocumentsAsync(Guid messageId, IReadOnlyList<Guid> documentIds, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("messages.link_documents");
            ArgumentNullException.ThrowIfNull(documentIds);
            Validate.Id(messageId, "messageId");
            var ids = DocumentIds(documentIds, "documentIds", _scope.Limits.MaxListItems);
            await using var cmd = await _scope.CommandAsync(LinkSql, cancellationToken).ConfigureAwait(false);
            cmd.Add(messageId).Add(ids);
            var (found, missing) = (await cmd.ReadSingleAsync(r => (r.GetBoolean(0), r.GetFieldValue<Guid[]>(1)), cancellationToken).ConfigureAwait(false))!;
            if (!found)
                throw new ChatStoreNotFoundException("message", messageId);
            if (missing.Length > 0)
                throw new ChatStoreNotFoundException("document", missing[0]);
        }

        /// <summary>The ids of the (not deleted) documents linked to a message, ordered by id.</summary>
        /// <exception cref="ChatStoreNotFoundException">No such message for this tenant.</exception>
        public async Task<IReadOnlyList<Guid>> ListDocumentIdsAsync(Guid messageId, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("messages.list_document_ids");
            Validate.Id(messageId, "messageId");
            await using var cmd = await _scope.CommandAsync(DocumentIdsSql, cancellationToken).ConfigureAwait(false);
            cmd.Add(messageId);
            return await cmd.ReadSingleAsync(r => r.GetFieldValue<Guid[]>(0), cancellationToken).ConfigureAwait(false)
                ?? throw new ChatStoreNotFoundException("message", messageId);
        }

        // ------------------------------------------------------------------------------------------
        // Validation and mapping

        /// <summary>A message's fields as stored: checked against the limits, defaults filled in, JSON as text.</summary>
        readonly record struct CheckedInput(Guid Id, string Role, string Content, string Status, string Citations, string Metadata, string[] Domains,
            string? Model, string? Error);

        static CheckedInput Check(MessageInput m, ChatStoreLimits limits)
        {
            var id = m.Id is Guid given ? Validate.Id(given, "id") : Ids.New();
            var role = Validate.OneOf(m.Role, "role", MessageRole.All);
            var content = Validate.Text(m.Content, "content", limits.MaxContentLength) ?? "";
            var status = m.Status is null ? MessageStatus.Complete : Validate.OneOf(m.Status, "status", MessageStatus.All);
            var citations = Validate.Json(m.Citations, "citations", limits.MaxJsonBytes, JsonValueKind.Array) ?? "[]";
            var metadata = Validate.Json(m.Metadata, "metadata", limits.MaxJsonBytes, JsonValueKind.Object) ?? "{}";
            var domains = Validate.Texts(m.Domains, "domains", limits.MaxListItems, limits.MaxShortTextLength);
            var model = Validate.Text(m.Model, "model", limits.MaxShortTextLength);
            Validate.NotNegative(m.InputTokens, "inputTokens");
            Validate.NotNegative(m.OutputTokens, "outputTokens");
            ValidateCost(m.CostUsd, "costUsd");
            if (m.ResponseMs is int ms)
                Validate.NotNegative(ms, "responseMs");
            var error = Validate.Text(m.Error, "error", limits.MaxContentLength);
            return new(id, role, content, status, citations, metadata, domains, model, error);
        }

        static void ValidateCost(decimal cost, string field)
        {
            Validate.NotNegative(cost, field);
            // numeric(18, 8): at most 10 integer digits.
            if (cost >= 10_000_000_000m)
                throw new ChatStoreValidationException(field, "range", $"must be less than 10,000,000,000; got {cost}.");
        }

        static Guid[] DocumentIds(IReadOnlyList<Guid>? ids, string field, int maxItems)
        {
            if (ids is null || ids.Count == 0)
                return [];
            if (ids.Count > maxItems)
                throw new ChatStoreValidationException(field, "max_items", $"has {ids.Count} items; the limit is {maxItems}.");
            for (var i = 0; i < ids.Count; i++)
                Validate.Id(ids[i], $"{field}[{i}]");
            return ids.Count == 1 ? [ids[0]] : ids.Distinct().ToArray();
        }

        // Most messages carry no citations and no metadata: share one parsed empty value for those.
        static JsonElement ReadJson(NpgsqlDataReader r, int ordinal)
        {
            var text = r.GetString(ordinal);
            return text switch { "[]" => EmptyArray, "{}" => EmptyObject, _ => Json.Parse(text) };
        }

        internal static Message Map(NpgsqlDataReader r) => new(
            r.GetGuid(0), r.GetGuid(1), r.GetGuid(2), r.GetInt64(3), r.GetString(4), r.GetString(5), r.GetString(6),
            r.IsDBNull(7) ? null : r.GetGuid(7), ReadJson(r, 8), ReadJson(r, 9), r.GetFieldValue<string[]>(10),
            r.IsDBNull(11) ? null : r.GetString(11), r.GetInt32(12), r.GetInt32(13), r.GetDecimal(14),
            r.IsDBNull(15) ? null : r.GetInt32(15), r.IsDBNull(16) ? null : r.GetString(16), r.IsDBNull(17) ? null : r.GetString(17),
            r.GetFieldValue<DateTimeOffset>(18), r.GetFieldValue<DateTimeOffset>(19),
            r.IsDBNull(20) ? null : r.GetFieldValue<DateTimeOffset>(20), r.IsDBNull(21) ? null : r.GetFieldValue<DateTimeOffset>(21));

        // Nullable, so that ReadSingleAsync's "no row" is null rather than a tuple of nulls.
        static (Message, byte[]?)? MapWithHash(NpgsqlDataReader r) => (Map(r), r.IsDBNull(22) ? null : r.GetFieldValue<byte[]>(22));
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>The tenant's messages: append, stream, history, edit, delete, feedback, corrections, document links.</summary>
        public Messages.MessageStore Messages => new(this);
    }
}
