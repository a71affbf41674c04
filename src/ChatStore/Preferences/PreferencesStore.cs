using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Preferences
{
    /// <summary>
    /// Per-user preferences, learned patterns and feature toggles. Patches merge in the database
    /// (RFC 7396, in one upsert), so concurrent patches to different keys all survive.
    /// </summary>
    public sealed class PreferencesStore
    {
        const string Columns = "p.user_id, p.preferences::text, p.learned_patterns::text, p.feature_toggles::text, p.updated_at";

        readonly TenantScope _scope;

        internal PreferencesStore(TenantScope scope) => _scope = scope;

        /// <summary>A user's preferences; empty objects when nothing was stored yet. An unknown user (or another tenant's) is not found.</summary>
        public async Task<UserPreferences> GetAsync(Guid userId, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("preferences.get");
            const string sql = $$"""
                SELECT u.id, p.preferences::text, p.learned_patterns::text, p.feature_toggles::text, p.updated_at
                  FROM {schema}.users u LEFT JOIN {schema}.user_preferences p ON p.tenant_id = {tenant} AND p.user_id = u.id
                 WHERE u.tenant_id = {tenant} AND u.id = $1 AND u.deleted_at IS NULL
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(userId);
            return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("user", userId);
        }

        /// <summary>
        /// Applies RFC 7396 merge patches to the parts that are set, in one statement: the merge runs
        /// on the row as it is when the statement takes its lock, so a concurrent patch to another
        /// key is never lost. Creates the row on the first write.
        /// </summary>
        public async Task<UserPreferences> PatchAsync(Guid userId, PreferencesPatch patch, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(patch);
            using var op = Telemetry.Start("preferences.patch");
            var (preferences, learned, toggles) = ValidateParts(patch.Preferences, patch.LearnedPatterns, patch.FeatureToggles);
            // merge('{}', patch) on insert too: a first patch's null members must not be stored.
            const string sql = $$"""
                INSERT INTO {schema}.user_preferences AS p (tenant_id, user_id, preferences, learned_patterns, feature_toggles)
                SELECT u.tenant_id, u.id,
                       coalesce({schema}.chatstore_jsonb_merge_patch('{}', $2::jsonb), '{}'),
                       coalesce({schema}.chatstore_jsonb_merge_patch('{}', $3::jsonb), '{}'),
                       coalesce({schema}.chatstore_jsonb_merge_patch('{}', $4::jsonb), '{}')
                  FROM {schema}.users u
                 WHERE u.tenant_id = {tenant} AND u.id = $1 AND u.deleted_at IS NULL
                ON CONFLICT (tenant_id, user_id) DO UPDATE SET
                       preferences = coalesce({schema}.chatstore_jsonb_merge_patch(p.preferences, $2::jsonb), p.preferences),
                       learned_patterns = coalesce({schema}.chatstore_jsonb_merge_patch(p.learned_patterns, $3::jsonb), p.learned_patterns),
                       feature_toggles = coalesce({schema}.chatstore_jsonb_merge_patch(p.feature_toggles, $4::jsonb), p.feature_toggles)
                RETURNING {{Columns}}
                """;
            return await UpsertAsync(sql, userId, preferences, learned, toggles, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Replaces all three parts; a part that is null becomes an empty object.</summary>
        public async Task<UserPreferences> ReplaceAsync(Guid userId, PreferencesReplacement replacement, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(replacement);
            using var op = Telemetry.Start("preferences.replace");
            var (preferences, learned, toggles) = ValidateParts(replacement.Preferences, replacement.LearnedPatterns, replacement.FeatureToggles);
            const string sql = $$"""
                INSERT INTO {schema}.user_preferences AS p (tenant_id, user_id, preferences, learned_patterns, feature_toggles)
                SELECT u.tenant_id, u.id, $2, $3, $4
                  FROM {schema}.users u
                 WHERE u.tenant_id = {tenant} AND u.id = $1 AND u.deleted_at IS NULL
                ON CONFLICT (tenant_id, user_id) DO UPDATE SET
                       preferences = EXCLUDED.preferences, learned_patterns = EXCLUDED.learned_patterns, feature_toggles = EXCLUDED.feature_toggles
                RETURNING {{Columns}}
                """;
            return await UpsertAsync(sql, userId, preferences ?? "{}", learned ?? "{}", toggles ?? "{}", cancellationToken).ConfigureAwait(false);
        }

        async Task<UserPreferences> UpsertAsync(string sql, Guid userId, string? preferences, string? learned, string? toggles, CancellationToken cancellationToken)
        {
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(userId).Add(preferences, NpgsqlDbType.Jsonb).Add(learned, NpgsqlDbType.Jsonb).Add(toggles, NpgsqlDbType.Jsonb);
            try
            {
                return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("user", userId);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                throw new ChatStoreNotFoundException("user", userId); // deleted while we wrote
            }
        }

        (string?, string?, string?) ValidateParts(JsonElement? preferences, JsonElement? learned, JsonElement? toggles)
        {
            var max = _scope.Limits.MaxJsonBytes;
            return (Validate.Json(preferences, "preferences", max, JsonValueKind.Object),
                    Validate.Json(learned, "learnedPatterns", max, JsonValueKind.Object),
                    Validate.Json(toggles, "featureToggles", max, JsonValueKind.Object));
        }

        static UserPreferences Map(NpgsqlDataReader r) => new(
            r.GetGuid(0), Json.Read(r, 1), Json.Read(r, 2), Json.Read(r, 3), r.IsDBNull(4) ? null : r.GetFieldValue<DateTimeOffset>(4));
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>Users' preferences, learned patterns and feature toggles.</summary>
        public Preferences.PreferencesStore Preferences => new(this);
    }
}
