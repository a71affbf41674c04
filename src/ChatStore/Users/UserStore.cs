using ChatStore.Tenants;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Users
{
    /// <summary>A tenant's users: create, look up, update, list, record logins, soft delete.</summary>
    public sealed class UserStore
    {
        const string Columns = """
            id, tenant_id, external_id, email, name, role, sso_provider, sso_id, info::text, last_login_at, created_at, updated_at, deleted_at
            """;

        readonly TenantScope _scope;

        internal UserStore(TenantScope scope) => _scope = scope;

        /// <summary>Creates a user. A role outside the tenant's role set, a taken email or external id are errors.</summary>
        public async Task<User> CreateAsync(NewUser user, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(user);
            using var op = Telemetry.Start("users.create");
            var limits = _scope.Limits;
            var id = user.Id ?? Ids.New();
            Validate.Id(id, "id");
            var externalId = Validate.Text(user.ExternalId, "externalId", limits.MaxShortTextLength);
            var email = ValidateEmail(user.Email);
            var name = Validate.Text(user.Name, "name", limits.MaxTitleLength);
            var role = Validate.Text(user.Role, "role", limits.MaxShortTextLength);
            var ssoProvider = Validate.Text(user.SsoProvider, "ssoProvider", limits.MaxShortTextLength);
            var ssoId = Validate.Text(user.SsoId, "ssoId", limits.MaxShortTextLength);
            if (ssoProvider is null != ssoId is null)
                throw new ChatStoreValidationException(ssoProvider is null ? "ssoProvider" : "ssoId", "together", "ssoProvider and ssoId are set together.");
            var info = Validate.Json(user.Info, "info", limits.MaxJsonBytes, System.Text.Json.JsonValueKind.Object) ?? "{}";

            // The role is checked against the tenant's role set in the same statement.
            const string sql = $$"""
                INSERT INTO {schema}.users AS target (id, tenant_id, external_id, email, name, role, sso_provider, sso_id, info)
                SELECT $1, t.id, $2, $3, $4, coalesce($5, t.default_role), $6, $7, $8
                  FROM {schema}.tenants t
                 WHERE t.id = {tenant} AND coalesce($5, t.default_role) = ANY (t.roles)
                RETURNING {{Columns}}
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id).Add(externalId).Add(email).Add(name).Add(role).Add(ssoProvider).Add(ssoId).Add(info, NpgsqlDbType.Jsonb);
            User? created;
            try
            {
                created = await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw Conflict(e);
            }
            return created ?? throw await UnknownRoleAsync(role, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>A user by id (not soft-deleted).</summary>
        public Task<User> GetAsync(Guid id, CancellationToken cancellationToken = default) =>
            FindAsync("users.get", $$"""SELECT {{Columns}} FROM {schema}.users WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL""", id, id, cancellationToken);

        /// <summary>A user by the app's external id.</summary>
        public Task<User> GetByExternalIdAsync(string externalId, CancellationToken cancellationToken = default) =>
            FindAsync("users.get_by_external_id", $$"""SELECT {{Columns}} FROM {schema}.users WHERE tenant_id = {tenant} AND external_id = $1 AND deleted_at IS NULL""",
                Validate.Required(externalId, "externalId", _scope.Limits.MaxShortTextLength), externalId, cancellationToken);

        /// <summary>A user by email, case-insensitively.</summary>
        public Task<User> GetByEmailAsync(string email, CancellationToken cancellationToken = default) =>
            FindAsync("users.get_by_email", $$"""SELECT {{Columns}} FROM {schema}.users WHERE tenant_id = {tenant} AND lower(email) = lower($1) AND deleted_at IS NULL""",
                ValidateEmail(email) ?? throw new ChatStoreValidationException("email", "required", "is required."), email, cancellationToken);

        async Task<User> FindAsync<T>(string operation, string sql, T key, object shownKey, CancellationToken cancellationToken)
        {
            using var op = Telemetry.Start(operation);
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(key);
            return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("user", shownKey);
        }

        /// <summary>Updates the fields that are set in <paramref name="update"/>.</summary>
        public async Task<User> UpdateAsync(Guid id, UserUpdate update, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(update);
            using var op = Telemetry.Start("users.update");
            var limits = _scope.Limits;
            var email = ValidateEmail(update.Email);
            var name = Validate.Text(update.Name, "name", limits.MaxTitleLength);
            var role = Validate.Text(update.Role, "role", limits.MaxShortTextLength);
            var externalId = Validate.Text(update.ExternalId, "externalId", limits.MaxShortTextLength);
            var info = Validate.Json(update.Info, "info", limits.MaxJsonBytes, System.Text.Json.JsonValueKind.Object);
            const string sql = $$"""
                UPDATE {schema}.users u SET
                    email = coalesce($2, u.email), name = coalesce($3, u.name), role = coalesce($4, u.role),
                    external_id = coalesce($5, u.external_id), info = coalesce($6, u.info)
                 WHERE u.tenant_id = {tenant} AND u.id = $1 AND u.deleted_at IS NULL
                   AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM {schema}.tenants t WHERE t.id = u.tenant_id AND $4::text = ANY (t.roles)))
                RETURNING {{Columns}}
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id).Add(email).Add(name).Add(role).Add(externalId).Add(info, NpgsqlDbType.Jsonb);
            User? updated;
            try
            {
                updated = await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw Conflict(e);
            }
            if (updated is not null)
                return updated;
            await GetAsync(id, cancellationToken).ConfigureAwait(false); // not found → throws
            throw await UnknownRoleAsync(role, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Users by id (creation order), keyset-paginated; optionally only one role.</summary>
        public async Task<Page<User>> ListAsync(int limit = 50, string? cursor = null, string? role = null, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("users.list");
            Validate.PageSize(limit, _scope.Limits.MaxPageSize);
            Validate.Text(role, "role", _scope.Limits.MaxShortTextLength);
            var after = cursor is null ? Guid.Empty : Cursor.Decode(cursor).Id;
            const string sql = $$"""
                SELECT {{Columns}} FROM {schema}.users
                 WHERE tenant_id = {tenant} AND id > $1 AND deleted_at IS NULL AND ($2::text IS NULL OR role = $2)
                 ORDER BY id LIMIT $3
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(after).Add(role).Add(limit + 1);
            var items = await cmd.ReadListAsync(Map, cancellationToken).ConfigureAwait(false);
            return Page.Of(items, limit, u => Cursor.Encode(0, u.Id));
        }

        /// <summary>
        /// Users whose email or external id equals <paramref name="text"/>, or whose name or email contains it
        /// (case-insensitively), exact matches first, then by id; at most <paramref name="limit"/>. For operators
        /// looking someone up: the name match reads the tenant's users.
        /// </summary>
        public async Task<IReadOnlyList<User>> FindAsync(string text, int limit = 50, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("users.find");
            text = Validate.Required(text, "text", _scope.Limits.MaxShortTextLength).Trim();
            Validate.PageSize(limit, _scope.Limits.MaxPageSize);
            // $2 is the text as a LIKE pattern (its % _ \ escaped), matched anywhere in the name or email.
            const string sql = $$"""
                SELECT {{Columns}} FROM {schema}.users
                 WHERE tenant_id = $1 AND deleted_at IS NULL
                   AND (lower(email) = lower($3) OR external_id = $3 OR lower(name) LIKE $2 OR lower(email) LIKE $2)
                 ORDER BY (lower(email) = lower($3) OR external_id = $3) DESC, id
                 LIMIT $4
                """;
            var pattern = "%" + text.ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal)
                .Replace("_", "\\_", StringComparison.Ordinal) + "%";
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(_scope.TenantId).Add(pattern).Add(text).Add(limit);
            return await cmd.ReadListAsync(Map, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Records a login now.</summary>
        public async Task<User> RecordLoginAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("users.record_login");
            const string sql = $$"""UPDATE {schema}.users SET last_login_at = now() WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL RETURNING {{Columns}}""";
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id);
            return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("user", id);
        }

        /// <summary>Soft-deletes a user and revokes their sessions. Erasing all their data is <c>scope.Export.EraseUserAsync</c>.</summary>
        public async Task DeleteAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("users.delete");
            const string sql = """
                WITH u AS (UPDATE {schema}.users SET deleted_at = now() WHERE tenant_id = {tenant} AND id = $1 AND deleted_at IS NULL RETURNING id),
                     s AS (UPDATE {schema}.sessions s SET revoked_at = now() FROM u WHERE s.tenant_id = {tenant} AND s.user_id = u.id AND s.revoked_at IS NULL)
                SELECT count(*)::int FROM u
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id);
            if (await cmd.ReadSingleAsync(r => r.GetInt32(0), cancellationToken).ConfigureAwait(false) == 0)
                throw new ChatStoreNotFoundException("user", id);
        }

        string? ValidateEmail(string? email)
        {
            email = Validate.Text(email, "email", 320);
            if (email is not null && (email.Length < 3 || email.IndexOf('@', StringComparison.Ordinal) is < 1 || email.Any(char.IsWhiteSpace)))
                throw new ChatStoreValidationException("email", "format", "is not an email address.");
            return email;
        }

        static ChatStoreConflictException Conflict(PostgresException e) => e.ConstraintName switch
        {
            "users_email_key" => new("A user with this email already exists in the tenant.", e),
            "users_external_id_key" => new("A user with this external id already exists in the tenant.", e),
            "users_sso_key" => new("A user with this SSO identity already exists in the tenant.", e),
            _ => new("A user with this id already exists.", e),
        };

        async Task<ChatStoreValidationException> UnknownRoleAsync(string? role, CancellationToken cancellationToken)
        {
            var tenant = await new TenantStore(_scope.Context).GetAsync(_scope.TenantId, cancellationToken).ConfigureAwait(false);
            return new ChatStoreValidationException("role", "enum", $"must be one of the tenant's roles ({string.Join(", ", tenant.Roles)}); got '{role}'.");
        }

        internal static User Map(NpgsqlDataReader r) => new(
            r.GetGuid(0), r.GetGuid(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
            r.IsDBNull(4) ? null : r.GetString(4), r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7),
            Json.Read(r, 8), r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9),
            r.GetFieldValue<DateTimeOffset>(10), r.GetFieldValue<DateTimeOffset>(11), r.IsDBNull(12) ? null : r.GetFieldValue<DateTimeOffset>(12));
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>The tenant's users.</summary>
        public Users.UserStore Users => new(this);
    }
}
