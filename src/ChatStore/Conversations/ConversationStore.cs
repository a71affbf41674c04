using System.Text.Json;
using ChatStore.Tenancy;
using ChatStore.Tenants;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Conversations
{
    /// <summary>
    /// Users' conversations: create, get, rename, archive, pin, mode and state, subject, metadata, list,
    /// soft delete, restore, hard delete, and public share links.
    /// <para>
    /// Ownership: a store from <c>scope.Conversations</c> reaches every conversation of the tenant (for
    /// trusted server code and operators). <see cref="ForUser"/> gives the same store restricted to one
    /// user: every operation then also requires the conversation to be that user's, and another user's
    /// conversation is not found, exactly like another tenant's. An HTTP layer acting for a signed-in
    /// user should only ever use <c>scope.Conversations.ForUser(session.UserId)</c>.
    /// </para>
    /// </summary>
    public sealed partial class ConversationStore
    {
        const string Columns = """
            id, tenant_id, user_id, title, status, pinned, mode, state::text, subject_id, metadata::text,
            last_seq, message_count, last_message_at, last_activity_at, created_at, updated_at, deleted_at
            """;

        // The filters of a list; parameters: $1 user, ($2, $3) keyset cursor, $4 status, $5 pinned,
        // $6 subject, $7 from, $8 to, $9 limit. A filter whose parameter is null plans away.
        const string ListFilters = """
            tenant_id = {tenant} AND user_id = $1
            """ + ListFiltersAfterUser;

        // Every filter but the user's ($2 to $8, as in ListFilters).
        const string ListFiltersAfterUser = """

               AND ($2::timestamptz IS NULL OR (last_activity_at, id) < ($2::timestamptz, $3::uuid))
               AND ($4::text IS NULL OR status = $4)
               AND ($5::boolean IS NULL OR pinned = $5)
               AND ($6::uuid IS NULL OR subject_id = $6)
               AND ($7::timestamptz IS NULL OR last_activity_at >= $7)
               AND ($8::timestamptz IS NULL OR last_activity_at < $8)
            """;

        // A page of live conversations: an ordered range scan of conversations_recent_idx that stops
        // after limit + 1 matching rows.
        internal const string ListSql = $$"""
            SELECT {{Columns}} FROM {schema}.conversations
             WHERE {{ListFilters}} AND deleted_at IS NULL
             ORDER BY last_activity_at DESC, id DESC
             LIMIT $9
            """;

        // Live and deleted: a page from each of the two partial indexes (conversations_recent_idx and
        // conversations_deleted_recent_idx), merged. At most 2 × (limit + 1) rows are read and sorted.
        internal const string ListWithDeletedSql = $$"""
            SELECT * FROM (
                (SELECT {{Columns}} FROM {schema}.conversations
                  WHERE {{ListFilters}} AND deleted_at IS NULL
                  ORDER BY last_activity_at DESC, id DESC
                  LIMIT $9)
                UNION ALL
                (SELECT {{Columns}} FROM {schema}.conversations
                  WHERE {{ListFilters}} AND deleted_at IS NOT NULL
                  ORDER BY last_activity_at DESC, id DESC
                  LIMIT $9)
            ) c
             ORDER BY last_activity_at DESC, id DESC
             LIMIT $9
            """;

        readonly TenantScope _scope;
        readonly Guid? _ownerId;

        internal ConversationStore(TenantScope scope, Guid? ownerId = null)
        {
            _scope = scope;
            _ownerId = ownerId;
        }

        /// <summary>
        /// The same store restricted to <paramref name="userId"/>'s conversations: another user's
        /// conversation, share or user id is not found. Give this to code acting for a signed-in user.
        /// </summary>
        public ConversationStore ForUser(Guid userId) => new(_scope, Validate.Id(userId, "userId"));

        /// <summary>The user this store is restricted to (see <see cref="ForUser"/>), or null when it reaches the whole tenant.</summary>
        public Guid? OwnerId => _ownerId;

        /// <summary>
        /// Creates a conversation for an existing (not deleted) user of the tenant. A subject, when
        /// given, must be one of that user's (not deleted) subjects; otherwise it is not found.
        /// </summary>
        public async Task<Conversation> CreateAsync(NewConversation conversation, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(conversation);
            using var op = Telemetry.Start("conversations.create");
            var limits = _scope.Limits;
            var id = conversation.Id ?? Ids.New();
            Validate.Id(id, "id");
            Owned(conversation.UserId);
            var title = Validate.Text(conversation.Title, "title", limits.MaxTitleLength) ?? "";
            var mode = ValidateMode(conversation.Mode);
            var state = Validate.Json(conversation.State, "state", limits.MaxJsonBytes, JsonValueKind.Object) ?? "{}";
            if (conversation.SubjectId is Guid s) Validate.Id(s, "subjectId");
            var metadata = Validate.Json(conversation.Metadata, "metadata", limits.MaxJsonBytes, JsonValueKind.Object) ?? "{}";

            // Row-level security hides other tenants' users and subjects; the subject must also be the user's.
            const string sql = $$"""
                INSERT INTO {schema}.conversations AS target (id, tenant_id, user_id, title, mode, state, subject_id, metadata)
                SELECT $1, u.tenant_id, u.id, $3, $4, $5, $6, $7
                  FROM {schema}.users u
                 WHERE u.tenant_id = {tenant} AND u.id = $2 AND u.deleted_at IS NULL
                   AND ($6::uuid IS NULL OR EXISTS (
                        SELECT 1 FROM {schema}.subjects s WHERE s.tenant_id = {tenant} AND s.id = $6 AND s.user_id = u.id AND s.deleted_at IS NULL))
                RETURNING {{Columns}}
                """;
            Conversation? created;
            await using (var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false))
            {
                cmd.Add(id).Add(conversation.UserId).Add(title).Add(mode).Add(state, NpgsqlDbType.Jsonb)
                    .Add(conversation.SubjectId).Add(metadata, NpgsqlDbType.Jsonb);
                try
                {
                    created = await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
                {
                    throw new ChatStoreConflictException($"A conversation with id {id} already exists.", e);
                }
            }
            if (created is not null)
                return created;
            // Nothing inserted: say which of the two was missing.
            throw await UserExistsAsync(conversation.UserId, cancellationToken).ConfigureAwait(false)
                ? new ChatStoreNotFoundException("subject", conversation.SubjectId!)
                : new ChatStoreNotFoundException("user", conversation.UserId);
        }

        /// <summary>A conversation by id (not soft-deleted).</summary>
        public async Task<Conversation> GetAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("conversations.get");
            const string sql = $$"""
                SELECT {{Columns}} FROM {schema}.conversations WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR user_id = $2)
                """;
            return await RowAsync(sql, id, null, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Sets the title (empty for none).</summary>
        public async Task<Conversation> RenameAsync(Guid id, string title, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("conversations.rename");
            title = Validate.Text(title, "title", _scope.Limits.MaxTitleLength)
                ?? throw new ChatStoreValidationException("title", "required", "is required (use an empty string for no title).");
            const string sql = $$"""
                UPDATE {schema}.conversations SET title = $3
                 WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR user_id = $2)
                RETURNING {{Columns}}
                """;
            return await RowAsync(sql, id, cmd => cmd.Add(title), cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Archives a conversation (idempotent).</summary>
        public async Task<Conversation> ArchiveAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("conversations.archive");
            return await SetStatusAsync(id, ConversationStatus.Archived, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Makes an archived conversation active again (idempotent).</summary>
        public async Task<Conversation> UnarchiveAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("conversations.unarchive");
            return await SetStatusAsync(id, ConversationStatus.Active, cancellationToken).ConfigureAwait(false);
        }

        Task<Conversation> SetStatusAsync(Guid id, ConversationStatus status, CancellationToken cancellationToken)
        {
            const string sql = $$"""
                UPDATE {schema}.conversations SET status = $3
                 WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR user_id = $2)
                RETURNING {{Columns}}
                """;
            return RowAsync(sql, id, cmd => cmd.Add(StatusText(status)), cancellationToken);
        }

        /// <summary>Pins (<paramref name="pinned"/> true) or unpins a conversation.</summary>
        public async Task<Conversation> PinAsync(Guid id, bool pinned = true, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("conversations.pin");
            const string sql = $$"""
                UPDATE {schema}.conversations SET pinned = $3
                 WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR user_id = $2)
                RETURNING {{Columns}}
                """;
            return await RowAsync(sql, id, cmd => cmd.Add(pinned), cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// Sets the active mode (null for none) and replaces the state with <paramref name="state"/> (a
        /// JSON object); a null <paramref name="state"/> keeps the current state.
        /// </summary>
        public async Task<Conversation> SetModeAsync(Guid id, string? mode, JsonElement? state = null, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("conversations.set_mode");
            mode = ValidateMode(mode);
            var stateJson = Validate.Json(state, "state", _scope.Limits.MaxJsonBytes, JsonValueKind.Object);
            const string sql = $$"""
                UPDATE {schema}.conversations SET mode = $3, state = coalesce($4, state)
                 WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR user_id = $2)
                RETURNING {{Columns}}
                """;
            return await RowAsync(sql, id, cmd => cmd.Add(mode).Add(stateJson, NpgsqlDbType.Jsonb), cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// Sets what the conversation is about: a (not deleted) subject of the conversation's user, or
        /// null for nothing. Another user's or tenant's subject is not found.
        /// </summary>
        public async Task<Conversation> SetSubjectAsync(Guid id, Guid? subjectId, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("conversations.set_subject");
            if (subjectId is Guid s) Validate.Id(s, "subjectId");
            const string sql = $$"""
                UPDATE {schema}.conversations c SET subject_id = $3
                 WHERE c.tenant_id = {tenant} AND c.id = $1 AND c.deleted_at IS NULL AND ($2::uuid IS NULL OR c.user_id = $2)
                   AND ($3::uuid IS NULL OR EXISTS (
                        SELECT 1 FROM {schema}.subjects s WHERE s.tenant_id = {tenant} AND s.id = $3 AND s.user_id = c.user_id AND s.deleted_at IS NULL))
                RETURNING {{Columns}}
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id).Add(_ownerId).Add(subjectId);
            var updated = await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false);
            if (updated is not null)
                return updated;
            await GetAsync(id, cancellationToken).ConfigureAwait(false); // the conversation is missing → throws
            throw new ChatStoreNotFoundException("subject", subjectId!);
        }

        /// <summary>
        /// Changes the metadata. By default a shallow merge patch: top-level keys of
        /// <paramref name="metadata"/> (a JSON object) are set, and keys whose value is JSON null are
        /// removed. With <paramref name="replace"/> the metadata becomes <paramref name="metadata"/>.
        /// </summary>
        public async Task<Conversation> UpdateMetadataAsync(Guid id, JsonElement metadata, bool replace = false, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("conversations.update_metadata");
            var json = Validate.Json(metadata, "metadata", _scope.Limits.MaxJsonBytes, JsonValueKind.Object)
                ?? throw new ChatStoreValidationException("metadata", "required", "is required.");
            const string sql = $$"""
                UPDATE {schema}.conversations SET metadata = CASE WHEN $4 THEN $3
                    ELSE (metadata || $3) - ARRAY(SELECT key FROM jsonb_each($3) WHERE value = 'null'::jsonb) END
                 WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR user_id = $2)
                RETURNING {{Columns}}
                """;
            return await RowAsync(sql, id, cmd => cmd.Add(json, NpgsqlDbType.Jsonb).Add(replace), cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// A user's conversations, most recently active first (by last activity, then id), keyset-paginated
        /// and filtered by <paramref name="query"/>. Served by <c>conversations_recent_idx</c> (and
        /// <c>conversations_deleted_recent_idx</c> when deleted ones are included).
        /// </summary>
        public async Task<Page<Conversation>> ListAsync(Guid userId, ConversationQuery? query = null, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("conversations.list");
            query ??= new ConversationQuery();
            Owned(userId);
            await using var cmd = await _scope.CommandAsync(query.IncludeDeleted ? ListWithDeletedSql : ListSql, cancellationToken).ConfigureAwait(false);
            AddListParameters(cmd, userId, query);
            var items = await cmd.ReadListAsync(Map, cancellationToken).ConfigureAwait(false);
            return Page.Of(items, query.Limit, c => Cursor.Encode(c.LastActivityAt, c.Id));
        }

        // Every user's live conversations (or one user's, $1 when not null), most recently active first; the
        // filters of ListFilters. Served by conversations_activity_idx (tenant_id,
        // last_activity_at) read backwards, or by conversations_recent_idx for one user; either stops after limit + 1 rows.
        internal const string ListAcrossUsersSql = $$"""
            SELECT {{Columns}} FROM {schema}.conversations
             WHERE tenant_id = {tenant} AND ($1::uuid IS NULL OR user_id = $1){{ListFiltersAfterUser}} AND deleted_at IS NULL
             ORDER BY last_activity_at DESC, id DESC
             LIMIT $9
            """;

        /// <summary>
        /// The tenant's live conversations across its users (or only <paramref name="userId"/>'s), most recently
        /// active first, keyset-paginated and filtered like <see cref="ListAsync"/> (deleted ones are not included).
        /// A store restricted with <see cref="ForUser"/> lists only its user's.
        /// </summary>
        public async Task<Page<Conversation>> ListAcrossUsersAsync(Guid? userId = null, ConversationQuery? query = null, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("conversations.list_across_users");
            if (userId is Guid u) Owned(u);
            query ??= new ConversationQuery();
            await using var cmd = await _scope.CommandAsync(ListAcrossUsersSql, cancellationToken).ConfigureAwait(false);
            AddListParameters(cmd, userId ?? _ownerId, query);
            var items = await cmd.ReadListAsync(Map, cancellationToken).ConfigureAwait(false);
            return Page.Of(items, query.Limit, c => Cursor.Encode(c.LastActivityAt, c.Id));
        }

        /// <summary>Checks a list's query and adds $1 to $9 of <see cref="ListFilters"/>.</summary>
        void AddListParameters(TenantCommand cmd, Guid? userId, ConversationQuery query)
        {
            Validate.PageSize(query.Limit, _scope.Limits.MaxPageSize);
            (DateTimeOffset At, Guid Id)? after = query.Cursor is null ? null : Cursor.DecodeTime(query.Cursor);
            var status = query.Status is ConversationStatus st ? StatusText(st) : null;
            if (query.SubjectId is Guid s) Validate.Id(s, "subjectId");
            if (query.From is DateTimeOffset from && query.To is DateTimeOffset to && to <= from)
                throw new ChatStoreValidationException("to", "range", "must be after from.");
            cmd.Add(userId).Add(after?.At).Add(after?.Id).Add(status)
                .Add(query.Pinned).Add(query.SubjectId).Add(query.From?.ToUniversalTime()).Add(query.To?.ToUniversalTime()).Add(query.Limit + 1);
        }

        /// <summary>
        /// Soft-deletes a conversation: it is no longer found or listed (unless a list includes deleted
        /// ones) and its share links stop working; <see cref="RestoreAsync"/> brings it back.
        /// </summary>
        public async Task DeleteAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("conversations.delete");
            // A deleted conversation's messages have no vectors (search reads no liveness inside the index scan).
            const string sql = """
                WITH e AS (
                    DELETE FROM {schema}.embeddings e
                     WHERE e.tenant_id = {tenant} AND e.conversation_id = $1 AND e.message_id IS NOT NULL
                       AND EXISTS (SELECT 1 FROM {schema}.conversations c
                                    WHERE c.tenant_id = {tenant} AND c.id = $1 AND c.deleted_at IS NULL AND ($2::uuid IS NULL OR c.user_id = $2))
                )
                UPDATE {schema}.conversations SET deleted_at = now() WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR user_id = $2)
                """;
            await ExecuteAsync(sql, id, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Restores a soft-deleted conversation (a conversation that is not deleted is returned as it is).</summary>
        public async Task<Conversation> RestoreAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("conversations.restore");
            const string sql = $$"""
                UPDATE {schema}.conversations SET deleted_at = NULL WHERE tenant_id = {tenant} AND id = $1 AND ($2::uuid IS NULL OR user_id = $2)
                RETURNING {{Columns}}
                """;
            return await RowAsync(sql, id, null, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Deletes a conversation (soft-deleted or not) for good, with its messages, share links and their dependents.</summary>
        public async Task HardDeleteAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("conversations.hard_delete");
            // Documents, reminders and usage events outlive the conversation: their references to it and to its
            // messages are cleared in the same statement (the foreign keys have no ON DELETE action of their own).
            const string sql = """
                WITH target AS (
                    SELECT c.id FROM {schema}.conversations c WHERE c.tenant_id = {tenant} AND c.id = $1 AND ($2::uuid IS NULL OR c.user_id = $2)
                ), docs AS (
                    UPDATE {schema}.documents d SET conversation_id = NULL FROM target WHERE d.tenant_id = {tenant} AND d.conversation_id = target.id
                ), reminders AS (
                    UPDATE {schema}.reminders r SET conversation_id = NULL FROM target WHERE r.tenant_id = {tenant} AND r.conversation_id = target.id
                ), messages AS (
                    SELECT m.id FROM {schema}.messages m, target WHERE m.tenant_id = {tenant} AND m.conversation_id = target.id
                ), usage AS (
                    UPDATE {schema}.usage_events u
                       SET conversation_id = NULLIF(u.conversation_id, $1),
                           message_id = CASE WHEN u.message_id IN (SELECT id FROM messages) THEN NULL ELSE u.message_id END
                     WHERE u.tenant_id = {tenant} AND EXISTS (SELECT 1 FROM target)
                       AND (u.conversation_id = $1 OR u.message_id IN (SELECT id FROM messages))
                )
                DELETE FROM {schema}.conversations WHERE tenant_id = {tenant} AND id = $1 AND ($2::uuid IS NULL OR user_id = $2)
                """;
            await ExecuteAsync(sql, id, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Runs a statement keyed by ($1 id, $2 owner) that returns one conversation, or throws not found.</summary>
        async Task<Conversation> RowAsync(string sql, Guid id, Action<TenantCommand>? parameters, CancellationToken cancellationToken)
        {
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id).Add(_ownerId);
            parameters?.Invoke(cmd);
            return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("conversation", id);
        }

        /// <summary>Runs a statement keyed by ($1 id, $2 owner) that must affect a row, or throws not found.</summary>
        async Task ExecuteAsync(string sql, Guid id, CancellationToken cancellationToken)
        {
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id).Add(_ownerId);
            if (await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                throw new ChatStoreNotFoundException("conversation", id);
        }

        async Task<bool> UserExistsAsync(Guid userId, CancellationToken cancellationToken)
        {
            const string sql = "SELECT EXISTS (SELECT 1 FROM {schema}.users WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL)";
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(userId);
            return await cmd.ReadSingleAsync(r => r.GetBoolean(0), cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Checks a user id argument, and that a restricted store is asked only about its own user.</summary>
        void Owned(Guid userId, string field = "userId")
        {
            Validate.Id(userId, field);
            if (_ownerId is Guid owner && owner != userId)
                throw new ChatStoreNotFoundException("user", userId);
        }

        string? ValidateMode(string? mode)
        {
            mode = Validate.Text(mode, "mode", _scope.Limits.MaxShortTextLength);
            if (mode is { Length: 0 })
                throw new ChatStoreValidationException("mode", "required", "must not be empty (use null for no mode).");
            return mode;
        }

        static string StatusText(ConversationStatus status) => status switch
        {
            ConversationStatus.Active => "active",
            ConversationStatus.Archived => "archived",
            _ => throw new ChatStoreValidationException("status", "enum", $"must be Active or Archived; got {(int)status}."),
        };

        internal static Conversation Map(NpgsqlDataReader r) => new(
            r.GetGuid(0), r.GetGuid(1), r.GetGuid(2), r.GetString(3),
            r.GetString(4) == "archived" ? ConversationStatus.Archived : ConversationStatus.Active, r.GetBoolean(5),
            r.IsDBNull(6) ? null : r.GetString(6), Json.Read(r, 7), r.IsDBNull(8) ? null : r.GetGuid(8), Json.Read(r, 9),
            r.GetInt64(10), r.GetInt32(11), r.IsDBNull(12) ? null : r.GetFieldValue<DateTimeOffset>(12), r.GetFieldValue<DateTimeOffset>(13),
            r.GetFieldValue<DateTimeOffset>(14), r.GetFieldValue<DateTimeOffset>(15), r.IsDBNull(16) ? null : r.GetFieldValue<DateTimeOffset>(16));
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>The tenant's conversations and their share links (<c>.ForUser(userId)</c> for one user's).</summary>
        public Conversations.ConversationStore Conversations => new(this);
    }
}
