using System.Text;
using System.Text.Json;
using ChatStore.Tenants;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Memories
{
    /// <summary>
    /// A tenant's memories: facts, preferences and notes about users, deduplicated per user by normalised
    /// content, versioned through <c>superseded_by</c>, linked to the conversations and messages they came from.
    /// </summary>
    public sealed class MemoryStore
    {
        const string Columns = """
            id, tenant_id, user_id, content, kind, importance, external_id, superseded_by, metadata::text AS metadata,
            language::text AS language, created_at, updated_at, deleted_at
            """;

        // content_hash = SHA-256 of the UTF-8 of the normalised content: NFKC, trimmed, whitespace runs collapsed to
        // one space, lower-cased. .NET lower-cases and collapses whitespace first (NormaliseForHash); PostgreSQL's
        // normalize() then applies NFKC, which .NET cannot do everywhere (string.Normalize does nothing when a process
        // runs with invariant globalization), lower-cases the ASCII letters NFKC produced (℃ → °C → °c), and collapses
        // and trims the spaces NFKC produced (¨ → space + diaeresis). Every step is deterministic: the same text hashes
        // the same from any process and on any database collation. Used as {{HashOf}}$n{{HashEnd}}.
        const string HashOf = """sha256(convert_to(btrim(regexp_replace(lower(normalize(""";
        const string HashEnd = """::text, NFKC) COLLATE "C"), ' {2,}', ' ', 'g'), ' '), 'UTF8'))""";

        const int MaxAttempts = 3;

        readonly TenantScope _scope;

        internal MemoryStore(TenantScope scope) => _scope = scope;

        /// <summary>
        /// Adds a memory about a user, or returns the user's live memory with the same normalised content
        /// (<see cref="AddMemoryResult.Created"/> false), linking the given sources to whichever is returned. Safe
        /// under concurrency: simultaneous adds of one text store one memory. The user, conversations and messages
        /// must belong to the tenant and user; otherwise it is not found and nothing is stored.
        /// </summary>
        public async Task<AddMemoryResult> AddAsync(NewMemory memory, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(memory);
            using var op = Telemetry.Start("memories.add");
            var limits = _scope.Limits;
            Validate.Id(memory.UserId, "userId");
            var content = ValidateContent(memory.Content, "content");
            var kind = Validate.OneOf(memory.Kind, "kind", MemoryKinds.All);
            var importance = Validate.Range(memory.Importance, "importance", 0f, 1f);
            var externalId = Validate.Text(memory.ExternalId, "externalId", limits.MaxShortTextLength);
            if (externalId is { Length: 0 }) throw new ChatStoreValidationException("externalId", "required", "must not be empty.");
            var metadata = Validate.Json(memory.Metadata, "metadata", limits.MaxJsonBytes, JsonValueKind.Object) ?? "{}";
            var (conversationIds, messageIds) = ValidateSources(memory.Sources);
            var normalised = NormaliseForHash(content);
            var id = Ids.New();

            // One statement checks the user and every source, inserts the memory unless the user has a live one with
            // the same hash (ON CONFLICT on memories_content_key), else reads that one, and links the sources to the
            // result. The leading columns say what was missing when nothing could be stored.
            const string sql = $$"""
                WITH u AS (
                    SELECT u.id, t.search_language
                      FROM {schema}.users u JOIN {schema}.tenants t ON t.id = u.tenant_id
                     WHERE u.tenant_id = {tenant} AND u.id = $2 AND u.deleted_at IS NULL),
                src AS (
                    SELECT DISTINCT s.conversation_id, s.message_id FROM unnest($9::uuid[], $10::uuid[]) AS s (conversation_id, message_id)),
                bad AS (
                    SELECT s.conversation_id, s.message_id, c.id IS NULL AS no_conversation
                      FROM src s
                      LEFT JOIN {schema}.conversations c ON c.tenant_id = {tenant} AND c.id = s.conversation_id AND c.user_id = $2 AND c.deleted_at IS NULL
                      LEFT JOIN {schema}.messages m ON m.tenant_id = {tenant} AND m.id = s.message_id AND m.conversation_id = s.conversation_id AND m.deleted_at IS NULL
                     WHERE c.id IS NULL OR (s.message_id IS NOT NULL AND m.id IS NULL)
                     LIMIT 1),
                h AS (SELECT {{HashOf}}$8{{HashEnd}} AS hash),
                ins AS (
                    INSERT INTO {schema}.memories AS target (id, tenant_id, user_id, content, kind, importance, external_id, content_hash, metadata, language)
                    SELECT $1, {tenant}, u.id, $3, $4, $5, $6, h.hash, $7, u.search_language
                      FROM u, h
                     WHERE NOT EXISTS (SELECT 1 FROM bad)
                    ON CONFLICT (tenant_id, user_id, content_hash) WHERE deleted_at IS NULL AND superseded_by IS NULL DO NOTHING
                    RETURNING {{Columns}}),
                existing AS (
                    SELECT {{Columns}} FROM {schema}.memories
                     WHERE tenant_id = {tenant} AND user_id = $2 AND content_hash = (SELECT hash FROM h)
                       AND deleted_at IS NULL AND superseded_by IS NULL
                       AND EXISTS (SELECT 1 FROM u) AND NOT EXISTS (SELECT 1 FROM bad) AND NOT EXISTS (SELECT 1 FROM ins)),
                result AS (
                    SELECT true AS created, * FROM ins
                    UNION ALL
                    SELECT false, * FROM existing),
                linked AS (
                    INSERT INTO {schema}.memory_sources AS target (tenant_id, memory_id, conversation_id, message_id)
                    SELECT {tenant}, r.id, s.conversation_id, s.message_id FROM result r, src s
                    ON CONFLICT DO NOTHING)
                SELECT EXISTS (SELECT 1 FROM u), b.conversation_id, b.message_id, b.no_conversation, r.*
                  FROM (SELECT 1) one LEFT JOIN bad b ON true LEFT JOIN result r ON true
                """;
            for (var attempt = 1; ; attempt++)
            {
                await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
                cmd.Add(id).Add(memory.UserId).Add(content).Add(kind).Add(importance).Add(externalId).Add(metadata, NpgsqlDbType.Jsonb)
                    .Add(normalised).Add(conversationIds).Add(messageIds);
                AddOutcome outcome;
                try
                {
                    outcome = (await cmd.ReadSingleAsync(r => new AddOutcome(
                        r.GetBoolean(0), r.IsDBNull(1) ? null : r.GetGuid(1), r.IsDBNull(2) ? null : r.GetGuid(2), !r.IsDBNull(3) && r.GetBoolean(3),
                        r.IsDBNull(5) ? null : new AddMemoryResult(Map(r, 5), r.GetBoolean(4))), cancellationToken).ConfigureAwait(false))!;
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == "memories_external_id_key")
                {
                    // Either another live memory of the user has this external id, or a concurrent add of the same
                    // memory won the race past the dedupe check: a second attempt tells them apart.
                    if (attempt < MaxAttempts) continue;
                    throw new ChatStoreConflictException($"The user already has a memory with external id '{externalId}'.", e);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
                {
                    throw NotFoundFromForeignKey(e);
                }
                if (!outcome.UserFound)
                    throw new ChatStoreNotFoundException("user", memory.UserId);
                if (outcome.BadConversation is Guid conversation)
                    throw outcome.NoConversation ? new ChatStoreNotFoundException("conversation", conversation) : new ChatStoreNotFoundException("message", outcome.BadMessage!);
                if (outcome.Result is not null)
                    return outcome.Result;
                // A concurrent add of the same content committed after this statement's snapshot: ON CONFLICT saw its
                // row, the read could not. The next statement's snapshot sees it.
                if (attempt >= MaxAttempts)
                    throw new ChatStoreConflictException("The memory was changed concurrently while it was being added; retry the operation.");
            }
        }

        sealed record AddOutcome(bool UserFound, Guid? BadConversation, Guid? BadMessage, bool NoConversation, AddMemoryResult? Result);

        /// <summary>
        /// Updates a memory by making a new version: a new row with the changes (and the old one's sources), and the
        /// old row's <see cref="Memory.SupersededBy"/> set to it, atomically. Returns the new version. Only the current
        /// version can be updated (an earlier one is a conflict), and content equal (normalised) to another live
        /// memory of the user is a conflict.
        /// </summary>
        public async Task<Memory> UpdateAsync(Guid id, MemoryUpdate update, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(update);
            using var op = Telemetry.Start("memories.update");
            var content = update.Content is null ? null : ValidateContent(update.Content, "content");
            var kind = update.Kind is null ? null : Validate.OneOf(update.Kind, "kind", MemoryKinds.All);
            float? importance = update.Importance is float i ? Validate.Range(i, "importance", 0f, 1f) : null;
            var metadata = Validate.Json(update.Metadata, "metadata", _scope.Limits.MaxJsonBytes, JsonValueKind.Object);
            if (content is null && kind is null && importance is null && metadata is null)
                throw new ChatStoreValidationException("update", "required", "changes nothing; set content, kind, importance or metadata.");
            var newId = Ids.New();

            // old runs first (new reads its output), so the old row has left the dedupe index before the new one is
            // inserted: a new version with the same content is no duplicate, another live memory's content is.
            const string sql = $$"""
                WITH old AS (
                    UPDATE {schema}.memories SET superseded_by = $2
                     WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL AND superseded_by IS NULL
                    RETURNING id, tenant_id, user_id, content, kind, importance, external_id, content_hash, metadata),
                -- A superseded version has no vectors (search reads no liveness inside the index scan); the new one is embedded anew.
                forget AS (
                    DELETE FROM {schema}.embeddings e WHERE e.tenant_id = {tenant} AND e.memory_id = ANY (ARRAY(SELECT id FROM old))),
                new AS (
                    INSERT INTO {schema}.memories AS target (id, tenant_id, user_id, content, kind, importance, external_id, content_hash, metadata, language)
                    SELECT $2, o.tenant_id, o.user_id, coalesce($3, o.content), coalesce($5, o.kind), coalesce($6, o.importance), o.external_id,
                           CASE WHEN $4::text IS NULL THEN o.content_hash ELSE {{HashOf}}$4{{HashEnd}} END, coalesce($7, o.metadata), t.search_language
                      FROM old o JOIN {schema}.tenants t ON t.id = o.tenant_id
                    RETURNING {{Columns}}),
                sources AS (
                    INSERT INTO {schema}.memory_sources AS target (tenant_id, memory_id, conversation_id, message_id, created_at)
                    SELECT s.tenant_id, n.id, s.conversation_id, s.message_id, s.created_at
                      FROM new n JOIN {schema}.memory_sources s ON s.tenant_id = {tenant} AND s.memory_id = $1)
                SELECT * FROM new
                """;
            Memory? updated;
            await using (var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false))
            {
                cmd.Add(id).Add(newId).Add(content).Add(content is null ? null : NormaliseForHash(content)).Add(kind).Add(importance)
                    .Add(metadata, NpgsqlDbType.Jsonb);
                try
                {
                    updated = await cmd.ReadSingleAsync(r => Map(r, 0), cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == "memories_content_key")
                {
                    throw new ChatStoreConflictException("The user already has another live memory with this content; update or delete that one instead.", e);
                }
            }
            if (updated is not null)
                return updated;

            const string state = """SELECT superseded_by FROM {schema}.memories WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL""";
            await using var check = await _scope.CommandAsync(state, cancellationToken).ConfigureAwait(false);
            check.Add(id);
            var supersededBy = await check.ReadSingleAsync(r => (Guid?)(r.IsDBNull(0) ? Guid.Empty : r.GetGuid(0)), cancellationToken).ConfigureAwait(false);
            throw supersededBy switch
            {
                null => new ChatStoreNotFoundException("memory", id),
                Guid next when next != Guid.Empty => new ChatStoreConflictException($"Memory {id} was superseded by {next}; update the current version."),
                _ => new ChatStoreConflictException($"Memory {id} changed while it was being updated; retry the operation."),
            };
        }

        /// <summary>A memory version by id (current or superseded, not soft-deleted).</summary>
        public async Task<Memory> GetAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("memories.get");
            const string sql = $$"""SELECT {{Columns}} FROM {schema}.memories WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL""";
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id);
            return await cmd.ReadSingleAsync(r => Map(r, 0), cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("memory", id);
        }

        /// <summary>Every version of the memory that <paramref name="id"/> is a version of, oldest first (the current one last).</summary>
        public async Task<IReadOnlyList<Memory>> HistoryAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("memories.history");
            // Earlier versions walk back through memories_superseded_by_idx, later ones forward through the primary key.
            const string sql = $$"""
                WITH RECURSIVE start AS (
                    SELECT id, superseded_by FROM {schema}.memories WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL),
                earlier (id, step) AS (
                    SELECT id, 0 FROM start
                    UNION ALL
                    SELECT m.id, e.step - 1 FROM {schema}.memories m JOIN earlier e ON m.tenant_id = {tenant} AND m.superseded_by = e.id WHERE e.step > -100000),
                later (id, next, step) AS (
                    SELECT id, superseded_by, 0 FROM start
                    UNION ALL
                    SELECT m.id, m.superseded_by, l.step + 1 FROM {schema}.memories m JOIN later l ON m.tenant_id = {tenant} AND m.id = l.next WHERE l.step < 100000),
                chain AS (SELECT id, step FROM earlier UNION SELECT id, step FROM later)
                SELECT {{Columns}} FROM {schema}.memories JOIN chain USING (id) WHERE tenant_id = {tenant} ORDER BY step
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id);
            var versions = await cmd.ReadListAsync(r => Map(r, 0), cancellationToken).ConfigureAwait(false);
            return versions.Count > 0 ? versions : throw new ChatStoreNotFoundException("memory", id);
        }

        /// <summary>A user's memories, newest first, keyset-paginated; current versions that are not deleted unless the query says otherwise.</summary>
        public async Task<Page<Memory>> ListAsync(Guid userId, MemoryQuery? query = null, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("memories.list");
            query ??= new MemoryQuery();
            var limit = Validate.PageSize(query.Limit, _scope.Limits.MaxPageSize);
            var kind = query.Kind is null ? null : Validate.OneOf(query.Kind, "kind", MemoryKinds.All);
            float? minImportance = query.MinImportance is float m ? Validate.Range(m, "minImportance", 0f, 1f) : null;
            var (afterAt, afterId) = query.Cursor is null ? (DateTimeOffset.MaxValue, Guid.AllBitsSet) : Cursor.DecodeTime(query.Cursor);

            // Live memories come from memories_user_idx; with deleted ones, memories_user_deleted_idx is merged in.
            const string filter = """
                tenant_id = {tenant} AND user_id = $1 AND (created_at, id) < ($2, $3)
                AND ($4::text IS NULL OR kind = $4) AND ($5::real IS NULL OR importance >= $5) AND ($6 OR superseded_by IS NULL)
                """;
            const string live = $$"""
                SELECT {{Columns}} FROM {schema}.memories
                 WHERE {{filter}} AND deleted_at IS NULL
                 ORDER BY created_at DESC, id DESC LIMIT $7
                """;
            const string withDeleted = $$"""
                SELECT * FROM (
                    (SELECT {{Columns}} FROM {schema}.memories WHERE {{filter}} AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT $7)
                    UNION ALL
                    (SELECT {{Columns}} FROM {schema}.memories WHERE {{filter}} AND deleted_at IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT $7)
                ) m
                 ORDER BY created_at DESC, id DESC LIMIT $7
                """;
            await using var cmd = await _scope.CommandAsync(query.IncludeDeleted ? withDeleted : live, cancellationToken).ConfigureAwait(false);
            cmd.Add(userId).Add(afterAt).Add(afterId).Add(kind).Add(minImportance).Add(query.IncludeSuperseded).Add(limit + 1);
            var items = await cmd.ReadListAsync(r => Map(r, 0), cancellationToken).ConfigureAwait(false);
            return Page.Of(items, limit, x => Cursor.Encode(x.CreatedAt, x.Id));
        }

        /// <summary>Soft-deletes a memory with all its versions (earlier and later), so none of its content is listed again.</summary>
        public async Task DeleteAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("memories.delete");
            const string sql = """
                WITH RECURSIVE start AS (
                    SELECT id, superseded_by FROM {schema}.memories WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL),
                earlier (id) AS (
                    SELECT id FROM start
                    UNION
                    SELECT m.id FROM {schema}.memories m JOIN earlier e ON m.tenant_id = {tenant} AND m.superseded_by = e.id),
                later (id, next) AS (
                    SELECT id, superseded_by FROM start
                    UNION
                    SELECT m.id, m.superseded_by FROM {schema}.memories m JOIN later l ON m.tenant_id = {tenant} AND m.id = l.next),
                deleted AS (
                    UPDATE {schema}.memories SET deleted_at = now()
                     WHERE tenant_id = {tenant} AND deleted_at IS NULL AND id IN (SELECT id FROM earlier UNION SELECT id FROM later)
                    RETURNING id),
                -- Deleted memories have no vectors (search reads no liveness inside the index scan).
                forget AS (
                    DELETE FROM {schema}.embeddings e WHERE e.tenant_id = {tenant} AND e.memory_id = ANY (ARRAY(SELECT id FROM deleted)))
                SELECT count(*)::int FROM deleted
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id);
            if (await cmd.ReadSingleAsync(r => r.GetInt32(0), cancellationToken).ConfigureAwait(false) == 0)
                throw new ChatStoreNotFoundException("memory", id);
        }

        /// <summary>
        /// Links a memory to a conversation (and optionally one of its messages) it was distilled from. The conversation
        /// must belong to the memory's user and the message to the conversation. Returns false when the link already existed.
        /// </summary>
        public async Task<bool> LinkSourceAsync(Guid memoryId, Guid conversationId, Guid? messageId = null, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("memories.link_source");
            Validate.Id(conversationId, "conversationId");
            if (messageId is Guid message) Validate.Id(message, "messageId");
            const string sql = """
                WITH mem AS (
                    SELECT id, user_id FROM {schema}.memories WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL),
                conv AS (
                    SELECT c.id FROM {schema}.conversations c JOIN mem ON c.user_id = mem.user_id WHERE c.tenant_id = {tenant} AND c.id = $2 AND c.deleted_at IS NULL),
                msg AS (
                    SELECT id FROM {schema}.messages WHERE tenant_id = {tenant} AND id = $3::uuid AND conversation_id = $2 AND deleted_at IS NULL),
                ins AS (
                    INSERT INTO {schema}.memory_sources AS target (tenant_id, memory_id, conversation_id, message_id)
                    SELECT {tenant}, mem.id, conv.id, $3::uuid
                      FROM mem, conv
                     WHERE $3::uuid IS NULL OR EXISTS (SELECT 1 FROM msg)
                    ON CONFLICT DO NOTHING
                    RETURNING 1)
                SELECT EXISTS (SELECT 1 FROM mem), EXISTS (SELECT 1 FROM conv), $3::uuid IS NULL OR EXISTS (SELECT 1 FROM msg), EXISTS (SELECT 1 FROM ins)
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(memoryId).Add(conversationId).Add(messageId);
            (bool Memory, bool Conversation, bool Message, bool Created) found;
            try
            {
                found = await cmd.ReadSingleAsync(r => (r.GetBoolean(0), r.GetBoolean(1), r.GetBoolean(2), r.GetBoolean(3)), cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                throw NotFoundFromForeignKey(e);
            }
            if (!found.Memory) throw new ChatStoreNotFoundException("memory", memoryId);
            if (!found.Conversation) throw new ChatStoreNotFoundException("conversation", conversationId);
            if (!found.Message) throw new ChatStoreNotFoundException("message", messageId!);
            return found.Created;
        }

        /// <summary>The conversations and messages a memory version was distilled from, oldest link first.</summary>
        public async Task<IReadOnlyList<MemorySource>> ListSourcesAsync(Guid memoryId, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("memories.list_sources");
            const string sql = """
                SELECT m.id, s.conversation_id, s.message_id, s.created_at
                  FROM {schema}.memories m LEFT JOIN {schema}.memory_sources s ON s.tenant_id = {tenant} AND s.memory_id = m.id
                 WHERE m.tenant_id = {tenant} AND m.id = $1 AND m.deleted_at IS NULL
                 ORDER BY s.created_at, s.conversation_id, s.message_id NULLS FIRST
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(memoryId);
            var rows = await cmd.ReadListAsync(r => r.IsDBNull(1) ? null : new MemorySource(
                r.GetGuid(0), r.GetGuid(1), r.IsDBNull(2) ? null : r.GetGuid(2), r.GetFieldValue<DateTimeOffset>(3)), cancellationToken).ConfigureAwait(false);
            if (rows.Count == 0)
                throw new ChatStoreNotFoundException("memory", memoryId);
            return [.. rows.OfType<MemorySource>()];
        }

        /// <summary>
        /// The part of content normalisation .NET does: whitespace runs (any Unicode white space) collapsed to one
        /// space, trimmed, lower-cased with the invariant culture. The database does the rest (see <see cref="HashOf"/>).
        /// </summary>
        internal static string NormaliseForHash(string content)
        {
            var text = new StringBuilder(content.Length);
            var space = false;
            foreach (var c in content)
            {
                if (char.IsWhiteSpace(c))
                {
                    space = text.Length > 0;
                    continue;
                }
                if (space)
                {
                    text.Append(' ');
                    space = false;
                }
                text.Append(c);
            }
            return text.ToString().ToLowerInvariant();
        }

        string ValidateContent(string? content, string field)
        {
            var text = Validate.Required(content, field, _scope.Limits.MaxContentLength);
            if (string.IsNullOrWhiteSpace(text))
                throw new ChatStoreValidationException(field, "required", "must not be only white space.");
            return text;
        }

        (Guid[] Conversations, Guid?[] Messages) ValidateSources(IReadOnlyList<MemorySourceRef>? sources)
        {
            if (sources is null) return ([], []);
            if (sources.Count > _scope.Limits.MaxListItems)
                throw new ChatStoreValidationException("sources", "max_items", $"has {sources.Count} items; the limit is {_scope.Limits.MaxListItems}.");
            var conversations = new Guid[sources.Count];
            var messages = new Guid?[sources.Count];
            for (var i = 0; i < sources.Count; i++)
            {
                var source = sources[i] ?? throw new ChatStoreValidationException($"sources[{i}]", "required", "must not be null.");
                conversations[i] = Validate.Id(source.ConversationId, $"sources[{i}].conversationId");
                if (source.MessageId is Guid message) Validate.Id(message, $"sources[{i}].messageId");
                messages[i] = source.MessageId;
            }
            return (conversations, messages);
        }

        // A row the statement checked was deleted by another transaction before this one committed.
        static ChatStoreNotFoundException NotFoundFromForeignKey(PostgresException e) => new(
            e.ConstraintName switch
            {
                { } c when c.Contains("conversation", StringComparison.Ordinal) => "conversation",
                { } c when c.Contains("message", StringComparison.Ordinal) => "message",
                { } c when c.Contains("user", StringComparison.Ordinal) => "user",
                _ => "memory",
            },
            "(deleted concurrently)");

        static Memory Map(NpgsqlDataReader r, int o) => new(
            r.GetGuid(o), r.GetGuid(o + 1), r.GetGuid(o + 2), r.GetString(o + 3), r.GetString(o + 4), r.GetFloat(o + 5),
            r.IsDBNull(o + 6) ? null : r.GetString(o + 6), r.IsDBNull(o + 7) ? null : r.GetGuid(o + 7), Json.Read(r, o + 8), r.GetString(o + 9),
            r.GetFieldValue<DateTimeOffset>(o + 10), r.GetFieldValue<DateTimeOffset>(o + 11), r.IsDBNull(o + 12) ? null : r.GetFieldValue<DateTimeOffset>(o + 12));
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>The tenant's memories about its users.</summary>
        public Memories.MemoryStore Memories => new(this);
    }
}
