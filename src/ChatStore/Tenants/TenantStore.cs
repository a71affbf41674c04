using ChatStore.Tenancy;
using Npgsql;

namespace ChatStore.Tenants;

/// <summary>Operator operations: create and manage tenants and their API keys.</summary>
public sealed class TenantStore
{
    const string ApiKeyPrefix = "cs_key";
    const string TenantColumns = """
        id, name, roles, default_role, search_language::text, retention_inactive_days, retention_purge_deleted_days, created_at, updated_at
        """;
    const string ApiKeyColumns = "id, tenant_id, name, key_prefix, scopes, created_at, last_used_at, expires_at, revoked_at";

    readonly StoreContext _store;

    internal TenantStore(StoreContext store) => _store = store;

    /// <summary>Creates a tenant.</summary>
    public async Task<Tenant> CreateAsync(NewTenant tenant, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        using var op = Telemetry.Start("tenants.create");
        var id = tenant.Id ?? Ids.New();
        Validate.Id(id, "id");
        var name = Validate.Required(tenant.Name, "name", _store.Limits.MaxShortTextLength);
        var roles = RoleSet(tenant.Roles ?? ["user", "admin"]);
        var defaultRole = tenant.DefaultRole ?? roles[0];
        Validate.OneOf(defaultRole, "defaultRole", roles);
        var language = Validate.Required(tenant.SearchLanguage ?? "english", "searchLanguage", 63);

        const string sql = $$"""
            INSERT INTO {schema}.tenants (id, name, roles, default_role, search_language)
            VALUES ($1, $2, $3, $4, $5::regconfig)
            RETURNING {{TenantColumns}}
            """;
        await using var cmd = await TenantCommand.CreateAsync(_store, id, sql, cancellationToken).ConfigureAwait(false);
        cmd.Add(id).Add(name).Add(roles).Add(defaultRole).Add(language);
        try
        {
            return (await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false))!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new ChatStoreConflictException($"A tenant with id {id} already exists.", e);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedObject)
        {
            throw new ChatStoreValidationException("searchLanguage", "regconfig", $"'{language}' is not a text search configuration of this PostgreSQL (try english or simple).");
        }
    }

    /// <summary>A tenant by id.</summary>
    public async Task<Tenant> GetAsync(Guid id, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("tenants.get");
        const string sql = $$"""SELECT {{TenantColumns}} FROM {schema}.tenants WHERE id = $1""";
        await using var cmd = await TenantCommand.CreateAsync(_store, id, sql, cancellationToken).ConfigureAwait(false);
        cmd.Add(id);
        return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("tenant", id);
    }

    /// <summary>All tenants by id, keyset-paginated.</summary>
    public async Task<Page<Tenant>> ListAsync(int limit = 100, string? cursor = null, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("tenants.list");
        Validate.PageSize(limit, _store.Limits.MaxPageSize);
        var after = cursor is null ? Guid.Empty : Cursor.Decode(cursor).Id;
        const string sql = $$"""SELECT {{TenantColumns}} FROM {schema}.tenants WHERE id > $1 ORDER BY id LIMIT $2""";
        await using var cmd = await TenantCommand.CreateAsync(_store, null, sql, cancellationToken, operatorMode: true).ConfigureAwait(false);
        cmd.Add(after).Add(limit + 1);
        var items = await cmd.ReadListAsync(Map, cancellationToken).ConfigureAwait(false);
        return Page.Of(items, limit, t => Cursor.Encode(0, t.Id));
    }

    /// <summary>
    /// How much a tenant holds: live users, conversations, the messages in them (from the conversations'
    /// counters, so the messages table is not read), memories, documents and active API keys.
    /// </summary>
    public async Task<TenantCounts> CountsAsync(Guid tenantId, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("tenants.counts");
        Validate.Id(tenantId, "tenantId");
        const string sql = """
            SELECT (SELECT count(*) FROM {schema}.users WHERE tenant_id = $1 AND deleted_at IS NULL),
                   c.n, c.messages,
                   (SELECT count(*) FROM {schema}.memories WHERE tenant_id = $1 AND deleted_at IS NULL AND superseded_by IS NULL),
                   (SELECT count(*) FROM {schema}.documents WHERE tenant_id = $1 AND deleted_at IS NULL),
                   (SELECT count(*) FROM {schema}.api_keys WHERE tenant_id = $1 AND revoked_at IS NULL)
              FROM (SELECT count(*) AS n, coalesce(sum(message_count), 0)::bigint AS messages
                      FROM {schema}.conversations WHERE tenant_id = $1 AND deleted_at IS NULL) c
            """;
        await using var cmd = await TenantCommand.CreateAsync(_store, tenantId, sql, cancellationToken).ConfigureAwait(false);
        cmd.Add(tenantId);
        return (await cmd.ReadSingleAsync(r => new TenantCounts(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5)),
            cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Changes a tenant's name, role set, language or retention policy.</summary>
    public async Task<Tenant> UpdateAsync(Guid id, TenantUpdate update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        using var op = Telemetry.Start("tenants.update");
        var name = Validate.Text(update.Name, "name", _store.Limits.MaxShortTextLength);
        if (name is { Length: 0 }) throw new ChatStoreValidationException("name", "required", "must not be empty.");
        var roles = update.Roles is null ? null : RoleSet(update.Roles);
        var defaultRole = Validate.Text(update.DefaultRole, "defaultRole", _store.Limits.MaxShortTextLength);
        var language = Validate.Text(update.SearchLanguage, "searchLanguage", 63);
        if (update.RetentionInactiveDays < 0) throw new ChatStoreValidationException("retentionInactiveDays", "not_negative", "must be 0 (no policy) or more days.");
        if (update.RetentionPurgeDeletedDays < -1) throw new ChatStoreValidationException("retentionPurgeDeletedDays", "range", "must be -1 (no policy), 0 or more days.");

        const string sql = $$"""
            UPDATE {schema}.tenants SET
                name = coalesce($2, name),
                roles = coalesce($3, roles),
                default_role = coalesce($4, CASE WHEN $3::text[] IS NULL OR default_role = ANY ($3::text[]) THEN default_role ELSE ($3::text[])[1] END),
                search_language = coalesce($5::regconfig, search_language),
                retention_inactive_days = CASE WHEN $6::int IS NULL THEN retention_inactive_days ELSE nullif($6::int, 0) END,
                retention_purge_deleted_days = CASE WHEN $7::int IS NULL THEN retention_purge_deleted_days ELSE nullif($7::int, -1) END
            WHERE id = $1
            RETURNING {{TenantColumns}}
            """;
        await using var cmd = await TenantCommand.CreateAsync(_store, id, sql, cancellationToken).ConfigureAwait(false);
        cmd.Add(id).Add(name).Add(roles).Add(defaultRole).Add(language).Add(update.RetentionInactiveDays).Add(update.RetentionPurgeDeletedDays);
        try
        {
            return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("tenant", id);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.CheckViolation)
        {
            throw new ChatStoreValidationException("defaultRole", "enum", "must be one of the tenant's roles.");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedObject)
        {
            throw new ChatStoreValidationException("searchLanguage", "regconfig", $"'{language}' is not a text search configuration of this PostgreSQL (try english or simple).");
        }
    }

    /// <summary>Deletes a tenant and every row it owns.</summary>
    public async Task DeleteAsync(Guid id, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("tenants.delete");
        const string sql = """DELETE FROM {schema}.tenants WHERE id = $1""";
        await using var cmd = await TenantCommand.CreateAsync(_store, id, sql, cancellationToken).ConfigureAwait(false);
        cmd.Add(id);
        if (await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            throw new ChatStoreNotFoundException("tenant", id);
    }

    /// <summary>Creates an API key for a tenant. The secret is in the result only; the database keeps its SHA-256 hash.</summary>
    public async Task<CreatedApiKey> CreateApiKeyAsync(Guid tenantId, string name, IReadOnlyList<string>? scopes = null,
        DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("api_keys.create");
        name = Validate.Required(name, "name", _store.Limits.MaxShortTextLength);
        var scopeList = Validate.Texts(scopes, "scopes", 50, 100);
        var secret = Ids.NewTenantToken(ApiKeyPrefix, tenantId);
        var id = Ids.New();
        const string sql = $$"""
            INSERT INTO {schema}.api_keys AS target (id, tenant_id, name, key_hash, key_prefix, scopes, expires_at)
            SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM {schema}.tenants WHERE id = $2)
            RETURNING {{ApiKeyColumns}}
            """;
        await using var cmd = await TenantCommand.CreateAsync(_store, tenantId, sql, cancellationToken).ConfigureAwait(false);
        cmd.Add(id).Add(tenantId).Add(name).Add(Ids.HashToken(secret)).Add(secret[..12]).Add(scopeList).Add(expiresAt);
        var key = await cmd.ReadSingleAsync(MapKey, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("tenant", tenantId);
        return new CreatedApiKey(key, secret);
    }

    /// <summary>A tenant's API keys, newest first (revoked ones included, marked).</summary>
    public async Task<IReadOnlyList<ApiKey>> ListApiKeysAsync(Guid tenantId, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("api_keys.list");
        const string sql = $$"""SELECT {{ApiKeyColumns}} FROM {schema}.api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC""";
        await using var cmd = await TenantCommand.CreateAsync(_store, tenantId, sql, cancellationToken).ConfigureAwait(false);
        cmd.Add(tenantId);
        return await cmd.ReadListAsync(MapKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Revokes an API key; it stops working at once.</summary>
    public async Task RevokeApiKeyAsync(Guid tenantId, Guid keyId, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("api_keys.revoke");
        const string sql = "UPDATE {schema}.api_keys SET revoked_at = least(revoked_at, now()) WHERE id = $1 AND tenant_id = $2";
        await using var cmd = await TenantCommand.CreateAsync(_store, tenantId, sql, cancellationToken).ConfigureAwait(false);
        cmd.Add(keyId).Add(tenantId);
        if (await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            throw new ChatStoreNotFoundException("api key", keyId);
    }

    /// <summary>The key a secret belongs to, when it is valid (not revoked, not expired); null otherwise. Records its use.</summary>
    public async Task<ApiKey?> AuthenticateApiKeyAsync(string secret, CancellationToken cancellationToken = default)
    {
        using var op = Telemetry.Start("api_keys.authenticate");
        if (Ids.TenantOfToken(secret, ApiKeyPrefix) is not Guid tenantId)
            return null;
        const string sql = $$"""
            UPDATE {schema}.api_keys SET last_used_at = now()
             WHERE key_hash = $1 AND tenant_id = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
            RETURNING {{ApiKeyColumns}}
            """;
        await using var cmd = await TenantCommand.CreateAsync(_store, tenantId, sql, cancellationToken).ConfigureAwait(false);
        cmd.Add(Ids.HashToken(secret)).Add(tenantId);
        return await cmd.ReadSingleAsync(MapKey, cancellationToken).ConfigureAwait(false);
    }

    string[] RoleSet(IReadOnlyList<string> roles)
    {
        var set = Validate.Texts(roles, "roles", 50, _store.Limits.MaxShortTextLength);
        if (set.Length == 0) throw new ChatStoreValidationException("roles", "required", "must name at least one role.");
        if (set.Distinct(StringComparer.Ordinal).Count() != set.Length) throw new ChatStoreValidationException("roles", "unique", "must not repeat a role.");
        return set;
    }

    static Tenant Map(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetString(1), r.GetFieldValue<string[]>(2), r.GetString(3), r.GetString(4),
        r.IsDBNull(5) ? null : r.GetInt32(5), r.IsDBNull(6) ? null : r.GetInt32(6),
        r.GetFieldValue<DateTimeOffset>(7), r.GetFieldValue<DateTimeOffset>(8));

    static ApiKey MapKey(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetString(3), r.GetFieldValue<string[]>(4), r.GetFieldValue<DateTimeOffset>(5),
        r.IsDBNull(6) ? null : r.GetFieldValue<DateTimeOffset>(6), r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7),
        r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8));
}
