using System.Text.Json;
using ChatStore.Tenants;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Subjects
{
    /// <summary>
    /// Subjects of users' conversations: create, get, update, list, soft delete.
    /// <see cref="ForUser"/> gives a store restricted to one user's subjects.
    /// </summary>
    public sealed class SubjectStore
    {
        // The table's own checks: kind 1..100 characters, name 1..500.
        const int MaxKindLength = 100;
        const int MaxNameLength = 500;

        const string Columns = "id, tenant_id, user_id, kind, name, attributes::text, created_at, updated_at, deleted_at";

        readonly TenantScope _scope;
        readonly Guid? _ownerId;

        internal SubjectStore(TenantScope scope, Guid? ownerId = null)
        {
            _scope = scope;
            _ownerId = ownerId;
        }

        /// <summary>
        /// The same store restricted to <paramref name="userId"/>'s subjects: another user's subject (or
        /// user id) is not found. Give this to code acting for a signed-in user.
        /// </summary>
        public SubjectStore ForUser(Guid userId) => new(_scope, Validate.Id(userId, "userId"));

        /// <summary>Creates a subject for an existing (not deleted) user of the tenant.</summary>
        public async Task<Subject> CreateAsync(NewSubject subject, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(subject);
            using var op = Telemetry.Start("subjects.create");
            var id = subject.Id ?? Ids.New();
            Validate.Id(id, "id");
            Owned(subject.UserId);
            var kind = Validate.Required(subject.Kind, "kind", KindLength);
            var name = Validate.Required(subject.Name, "name", NameLength);
            var attributes = Validate.Json(subject.Attributes, "attributes", _scope.Limits.MaxJsonBytes, JsonValueKind.Object) ?? "{}";
            const string sql = $$"""
                INSERT INTO {schema}.subjects AS target (id, tenant_id, user_id, kind, name, attributes)
                SELECT $1, u.tenant_id, u.id, $3, $4, $5
                  FROM {schema}.users u
                 WHERE u.tenant_id = {tenant} AND u.id = $2 AND u.deleted_at IS NULL
                RETURNING {{Columns}}
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id).Add(subject.UserId).Add(kind).Add(name).Add(attributes, NpgsqlDbType.Jsonb);
            try
            {
                return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("user", subject.UserId);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new ChatStoreConflictException($"A subject with id {id} already exists.", e);
            }
        }

        /// <summary>A subject by id (not soft-deleted).</summary>
        public async Task<Subject> GetAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("subjects.get");
            const string sql = $$"""
                SELECT {{Columns}} FROM {schema}.subjects WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR user_id = $2)
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id).Add(_ownerId);
            return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("subject", id);
        }

        /// <summary>Changes the name and/or replaces the attributes; null leaves a field as it is.</summary>
        public async Task<Subject> UpdateAsync(Guid id, SubjectUpdate update, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(update);
            using var op = Telemetry.Start("subjects.update");
            var name = Validate.Text(update.Name, "name", NameLength);
            if (name is { Length: 0 })
                throw new ChatStoreValidationException("name", "required", "must not be empty.");
            var attributes = Validate.Json(update.Attributes, "attributes", _scope.Limits.MaxJsonBytes, JsonValueKind.Object);
            const string sql = $$"""
                UPDATE {schema}.subjects SET name = coalesce($3, name), attributes = coalesce($4, attributes)
                 WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR user_id = $2)
                RETURNING {{Columns}}
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id).Add(_ownerId).Add(name).Add(attributes, NpgsqlDbType.Jsonb);
            return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("subject", id);
        }

        /// <summary>A user's subjects in creation order, optionally of one kind, keyset-paginated.</summary>
        public async Task<Page<Subject>> ListAsync(Guid userId, string? kind = null, int limit = 50, string? cursor = null,
            CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("subjects.list");
            Owned(userId);
            kind = Validate.Text(kind, "kind", KindLength);
            Validate.PageSize(limit, _scope.Limits.MaxPageSize);
            var after = cursor is null ? Guid.Empty : Cursor.Decode(cursor).Id;
            // Served by subjects_user_list_idx, or subjects_user_kind_list_idx for one kind.
            const string sql = $$"""
                SELECT {{Columns}} FROM {schema}.subjects
                 WHERE tenant_id = {tenant} AND user_id = $1 AND deleted_at IS NULL
                   AND id > $2 AND ($3::text IS NULL OR kind = $3)
                 ORDER BY id
                 LIMIT $4
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(userId).Add(after).Add(kind).Add(limit + 1);
            var items = await cmd.ReadListAsync(Map, cancellationToken).ConfigureAwait(false);
            return Page.Of(items, limit, s => Cursor.Encode(0, s.Id));
        }

        /// <summary>
        /// Soft-deletes a subject: it is no longer found or listed, and cannot be given to a conversation.
        /// Conversations that refer to it keep their reference.
        /// </summary>
        public async Task DeleteAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("subjects.delete");
            // A deleted subject has no vectors (search reads no liveness inside the index scan).
            const string sql = """
                WITH s AS (
                    UPDATE {schema}.subjects SET deleted_at = now()
                     WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR user_id = $2)
                    RETURNING id
                ), e AS (
                    DELETE FROM {schema}.embeddings e WHERE e.tenant_id = {tenant} AND e.subject_id = ANY (ARRAY(SELECT id FROM s))
                )
                SELECT count(*)::int FROM s
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id).Add(_ownerId);
            if (await cmd.ReadSingleAsync(r => r.GetInt32(0), cancellationToken).ConfigureAwait(false) == 0)
                throw new ChatStoreNotFoundException("subject", id);
        }

        int KindLength => Math.Min(_scope.Limits.MaxShortTextLength, MaxKindLength);

        int NameLength => Math.Min(_scope.Limits.MaxTitleLength, MaxNameLength);

        /// <summary>Checks a user id argument, and that a restricted store is asked only about its own user.</summary>
        void Owned(Guid userId)
        {
            Validate.Id(userId, "userId");
            if (_ownerId is Guid owner && owner != userId)
                throw new ChatStoreNotFoundException("user", userId);
        }

        static Subject Map(NpgsqlDataReader r) => new(
            r.GetGuid(0), r.GetGuid(1), r.GetGuid(2), r.GetString(3), r.GetString(4), Json.Read(r, 5),
            r.GetFieldValue<DateTimeOffset>(6), r.GetFieldValue<DateTimeOffset>(7), r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8));
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>The tenant's subjects (what conversations are about).</summary>
        public Subjects.SubjectStore Subjects => new(this);
    }
}
