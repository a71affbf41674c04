using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Usage
{
    /// <summary>
    /// Usage events (tokens, credits, cost per action), credit balances that debits never take below
    /// zero, and usage totals by user, model and day.
    /// </summary>
    public sealed class UsageStore
    {
        const string Columns = """
            e.id, e.user_id, e.conversation_id, e.message_id, e.action, e.model, e.input_tokens, e.output_tokens,
            e.credits, e.cost_usd, e.metadata::text, e.occurred_at
            """;

        // numeric(18, 4) and numeric(18, 8).
        const decimal MaxCredits = 99_999_999_999_999.9999m;
        const decimal MaxCost = 9_999_999_999.99999999m;
        static readonly DateTimeOffset MinTime = new(1900, 1, 1, 0, 0, 0, TimeSpan.Zero);
        static readonly DateTimeOffset MaxTime = new(9999, 1, 1, 0, 0, 0, TimeSpan.Zero);

        // The user must be the tenant's, the conversation the user's, the message the user's (and in the conversation).
        const string Check = """
            chk AS (
                SELECT u.id, u.tenant_id, now() AS now,
                       ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM {schema}.conversations c WHERE c.tenant_id = {tenant} AND c.id = $3 AND c.user_id = u.id)) AS conversation_ok,
                       ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM {schema}.messages m WHERE m.tenant_id = {tenant} AND m.id = $4 AND m.user_id = u.id
                                                      AND ($3::uuid IS NULL OR m.conversation_id = $3))) AS message_ok
                  FROM {schema}.users u WHERE u.tenant_id = {tenant} AND u.id = $2 AND u.deleted_at IS NULL)
            """;

        readonly TenantScope _scope;

        internal UsageStore(TenantScope scope) => _scope = scope;

        /// <summary>Records a usage event.</summary>
        public async Task<UsageEvent> RecordAsync(NewUsageEvent usage, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(usage);
            using var op = Telemetry.Start("usage.record");
            var e = ValidateEvent(usage, "", checkCredits: true);
            const string sql = $$"""
                WITH {{Check}},
                ins AS (
                    INSERT INTO {schema}.usage_events AS e (id, tenant_id, user_id, conversation_id, message_id, action, model,
                                input_tokens, output_tokens, credits, cost_usd, metadata, occurred_at)
                    SELECT $1::uuid, chk.tenant_id, chk.id, $3::uuid, $4::uuid, $5::text, $6::text, $7::int, $8::int, $9::numeric, $10::numeric,
                           $11::jsonb, coalesce($12::timestamptz, chk.now)
                      FROM chk WHERE chk.conversation_ok AND chk.message_ok
                    RETURNING {{Columns}})
                SELECT chk.conversation_ok, chk.message_ok, ins.* FROM chk LEFT JOIN ins ON true
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(e.Id).Add(usage.UserId);
            AddEvent(cmd, e, usage.Credits);
            return await ReadAsync(cmd, usage, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Adds <paramref name="amount"/> (more than 0, at most 4 decimal places) to a user's balance; returns the new balance.</summary>
        public async Task<decimal> GrantCreditsAsync(Guid userId, decimal amount, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("usage.grant_credits");
            ValidateAmount(amount, "amount");
            const string sql = """
                INSERT INTO {schema}.credit_balances AS b (tenant_id, user_id, balance)
                SELECT u.tenant_id, u.id, $2 FROM {schema}.users u WHERE u.tenant_id = {tenant} AND u.id = $1 AND u.deleted_at IS NULL
                ON CONFLICT (tenant_id, user_id) DO UPDATE SET balance = b.balance + EXCLUDED.balance
                RETURNING b.balance
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(userId).Add(amount);
            try
            {
                return await cmd.ReadSingleAsync(r => (decimal?)r.GetDecimal(0), cancellationToken).ConfigureAwait(false)
                       ?? throw new ChatStoreNotFoundException("user", userId);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.NumericValueOutOfRange)
            {
                throw new ChatStoreConflictException($"Granting {amount} credits would take the balance above {MaxCredits}.", e);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                throw new ChatStoreNotFoundException("user", userId);
            }
        }

        /// <summary>A user's credit balance; 0 when they never had credits.</summary>
        public async Task<decimal> GetBalanceAsync(Guid userId, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("usage.get_balance");
            const string sql = """
                SELECT coalesce(b.balance, 0)
                  FROM {schema}.users u LEFT JOIN {schema}.credit_balances b ON b.tenant_id = {tenant} AND b.user_id = u.id
                 WHERE u.tenant_id = {tenant} AND u.id = $1 AND u.deleted_at IS NULL
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(userId);
            return await cmd.ReadSingleAsync(r => (decimal?)r.GetDecimal(0), cancellationToken).ConfigureAwait(false)
                   ?? throw new ChatStoreNotFoundException("user", userId);
        }

        /// <summary>
        /// Takes <paramref name="amount"/> credits from a user's balance, and records <paramref name="usage"/>
        /// (when given) with <c>Credits</c> = <paramref name="amount"/> in the same statement: both
        /// happen or neither does. A balance never goes below zero, however many debits run at once:
        /// one that would is a <see cref="ChatStoreConflictException"/> naming the balance, and changes nothing.
        /// </summary>
        public async Task<CreditDebit> DebitAsync(Guid userId, decimal amount, NewUsageEvent? usage = null, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("usage.debit");
            ValidateAmount(amount, "amount");
            var e = usage is null ? null : ValidateEvent(usage, "usage.", checkCredits: false);
            if (usage is not null && usage.UserId != userId)
                throw new ChatStoreValidationException("usage.userId", "match", "must be the user being debited.");
            if (usage is not null && usage.Credits != 0 && usage.Credits != amount)
                throw new ChatStoreValidationException("usage.credits", "match", $"must be 0 or the debited amount ({amount}); the event records the amount.");

            // The row lock serialises debits of one user; "balance >= $9" is re-checked on the locked row.
            const string sql = $$"""
                WITH {{Check}},
                debit AS (
                    UPDATE {schema}.credit_balances b SET balance = b.balance - $9
                      FROM chk WHERE b.tenant_id = {tenant} AND b.user_id = chk.id AND b.balance >= $9 AND chk.conversation_ok AND chk.message_ok
                    RETURNING b.balance),
                ins AS (
                    INSERT INTO {schema}.usage_events AS e (id, tenant_id, user_id, conversation_id, message_id, action, model,
                                input_tokens, output_tokens, credits, cost_usd, metadata, occurred_at)
                    SELECT $1::uuid, chk.tenant_id, chk.id, $3::uuid, $4::uuid, $5::text, $6::text, $7::int, $8::int, $9::numeric, $10::numeric,
                           $11::jsonb, coalesce($12::timestamptz, chk.now)
                      FROM chk, debit WHERE $1::uuid IS NOT NULL
                    RETURNING {{Columns}})
                SELECT chk.conversation_ok, chk.message_ok, debit.balance,
                       (SELECT b.balance FROM {schema}.credit_balances b WHERE b.tenant_id = {tenant} AND b.user_id = chk.id), ins.*
                  FROM chk LEFT JOIN debit ON true LEFT JOIN ins ON true
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(e?.Id).Add(userId);
            AddEvent(cmd, e, amount);
            try
            {
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    throw new ChatStoreNotFoundException("user", userId);
                ThrowIfMissingReference(reader, usage);
                if (reader.IsDBNull(2))
                {
                    var balance = reader.IsDBNull(3) ? 0m : reader.GetDecimal(3);
                    throw new ChatStoreConflictException($"Insufficient credits: the balance of user {userId} is {balance}; {amount} were requested.");
                }
                return new CreditDebit(reader.GetDecimal(2), reader.IsDBNull(4) ? null : Map(reader, 4));
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new ChatStoreConflictException("A usage event with this id already exists; nothing was debited.", ex);
            }
        }

        /// <summary>
        /// Totals of input and output tokens, credits, cost and events in [From, To), grouped by any of
        /// user, model and UTC day (one total when no grouping is asked for), ordered by day, user, model.
        /// </summary>
        public async Task<IReadOnlyList<UsageTotal>> TotalsAsync(UsageTotalsQuery query, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(query);
            using var op = Telemetry.Start("usage.totals");
            var from = Validate.Range(query.From, "from", MinTime, MaxTime).ToUniversalTime();
            var to = Validate.Range(query.To, "to", MinTime, MaxTime).ToUniversalTime();
            if (to <= from)
                throw new ChatStoreValidationException("to", "range", "must be after from.");
            if (query.UserId is Guid u) Validate.Id(u, "userId");
            var groupBy = query.GroupBy ?? [];
            if (groupBy.Count > UsageGrouping.All.Length)
                throw new ChatStoreValidationException("groupBy", "max_items", $"has {groupBy.Count} items; group by at most {string.Join(", ", UsageGrouping.All)}.");
            for (var i = 0; i < groupBy.Count; i++)
                Validate.OneOf(groupBy[i], $"groupBy[{i}]", UsageGrouping.All);

            // The grouping keys are switched on and off by parameters: one statement text for every combination.
            // With a user: usage_events_user_time_idx (tenant_id, user_id, occurred_at); without: usage_events_tenant_time_idx (tenant_id, occurred_at).
            const string select = """
                SELECT CASE WHEN $3 THEN e.user_id END, CASE WHEN $4 THEN e.model END,
                       CASE WHEN $5 THEN (e.occurred_at AT TIME ZONE 'UTC')::date END,
                       sum(e.input_tokens)::bigint, sum(e.output_tokens)::bigint, sum(e.credits), sum(e.cost_usd), count(*)
                  FROM {schema}.usage_events e
                 WHERE e.tenant_id = {tenant} AND e.occurred_at >= $1 AND e.occurred_at < $2
                """;
            const string group = "\n GROUP BY 1, 2, 3 ORDER BY 3, 1, 2";
            const string tenantSql = select + group;
            const string userSql = select + "   AND e.user_id = $6" + group;
            await using var cmd = await _scope.CommandAsync(query.UserId is null ? tenantSql : userSql, cancellationToken).ConfigureAwait(false);
            cmd.Add(from).Add(to).Add(groupBy.Contains(UsageGrouping.User)).Add(groupBy.Contains(UsageGrouping.Model)).Add(groupBy.Contains(UsageGrouping.Day));
            if (query.UserId is Guid userId) cmd.Add(userId);
            var rows = await cmd.ReadListAsync(r => new UsageTotal(
                r.IsDBNull(0) ? null : r.GetGuid(0), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? null : r.GetFieldValue<DateOnly>(2),
                r.GetInt64(3), r.GetInt64(4), r.GetDecimal(5), r.GetDecimal(6), r.GetInt64(7)), cancellationToken).ConfigureAwait(false);
            if (rows.Count == 0 && groupBy.Count == 0)
                rows.Add(new UsageTotal(null, null, null, 0, 0, 0, 0, 0));
            return rows;
        }

        sealed record CheckedEvent(Guid Id, Guid? ConversationId, Guid? MessageId, string Action, string? Model,
            int InputTokens, int OutputTokens, decimal CostUsd, string Metadata, DateTimeOffset? OccurredAt);

        CheckedEvent ValidateEvent(NewUsageEvent usage, string prefix, bool checkCredits)
        {
            var limits = _scope.Limits;
            var id = Validate.Id(usage.Id ?? Ids.New(), prefix + "id");
            Validate.Id(usage.UserId, prefix + "userId");
            if (usage.ConversationId is Guid c) Validate.Id(c, prefix + "conversationId");
            if (usage.MessageId is Guid m) Validate.Id(m, prefix + "messageId");
            var action = Validate.Required(usage.Action, prefix + "action", Math.Min(100, limits.MaxShortTextLength));
            var model = Validate.Text(usage.Model, prefix + "model", limits.MaxShortTextLength);
            Validate.NotNegative(usage.InputTokens, prefix + "inputTokens");
            Validate.NotNegative(usage.OutputTokens, prefix + "outputTokens");
            if (checkCredits) ValidateCredits(usage.Credits, prefix + "credits");
            Validate.Range(Validate.NotNegative(usage.CostUsd, prefix + "costUsd"), prefix + "costUsd", 0m, MaxCost);
            var metadata = Validate.Json(usage.Metadata, prefix + "metadata", limits.MaxJsonBytes, JsonValueKind.Object) ?? "{}";
            DateTimeOffset? occurredAt = usage.OccurredAt is DateTimeOffset at
                ? Validate.Range(at, prefix + "occurredAt", MinTime, MaxTime).ToUniversalTime()
                : null;
            return new CheckedEvent(id, usage.ConversationId, usage.MessageId, action, model, usage.InputTokens, usage.OutputTokens,
                decimal.Round(usage.CostUsd, 8, MidpointRounding.AwayFromZero), metadata, occurredAt);
        }

        /// <summary>Adds $3..$12: the event's references and fields, with <paramref name="credits"/> as $9.</summary>
        static void AddEvent(Tenancy.TenantCommand cmd, CheckedEvent? e, decimal credits) =>
            cmd.Add(e?.ConversationId).Add(e?.MessageId).Add(e?.Action).Add(e?.Model).Add(e?.InputTokens ?? 0).Add(e?.OutputTokens ?? 0)
               .Add(credits).Add(e?.CostUsd ?? 0m).Add(e?.Metadata ?? "{}", NpgsqlDbType.Jsonb).Add(e?.OccurredAt);

        static async Task<UsageEvent> ReadAsync(Tenancy.TenantCommand cmd, NewUsageEvent usage, CancellationToken cancellationToken)
        {
            try
            {
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    throw new ChatStoreNotFoundException("user", usage.UserId);
                ThrowIfMissingReference(reader, usage);
                return Map(reader, 2);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new ChatStoreConflictException("A usage event with this id already exists.", e);
            }
        }

        static void ThrowIfMissingReference(NpgsqlDataReader reader, NewUsageEvent? usage)
        {
            if (!reader.GetBoolean(0))
                throw new ChatStoreNotFoundException("conversation", usage!.ConversationId!);
            if (!reader.GetBoolean(1))
                throw new ChatStoreNotFoundException("message", usage!.MessageId!);
        }

        static void ValidateAmount(decimal amount, string field)
        {
            if (amount <= 0)
                throw new ChatStoreValidationException(field, "positive", $"must be more than 0; got {amount}.");
            ValidateCredits(amount, field);
        }

        static void ValidateCredits(decimal credits, string field)
        {
            Validate.Range(Validate.NotNegative(credits, field), field, 0m, MaxCredits);
            if (decimal.Round(credits, 4) != credits)
                throw new ChatStoreValidationException(field, "scale", $"has more than 4 decimal places ({credits}); credits are kept to 4.");
        }

        static UsageEvent Map(NpgsqlDataReader r, int o) => new(
            r.GetGuid(o), r.GetGuid(o + 1), r.IsDBNull(o + 2) ? null : r.GetGuid(o + 2), r.IsDBNull(o + 3) ? null : r.GetGuid(o + 3),
            r.GetString(o + 4), r.IsDBNull(o + 5) ? null : r.GetString(o + 5), r.GetInt32(o + 6), r.GetInt32(o + 7),
            r.GetDecimal(o + 8), r.GetDecimal(o + 9), Json.Read(r, o + 10), r.GetFieldValue<DateTimeOffset>(o + 11));
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>The tenant's usage events, credit balances and usage totals.</summary>
        public Usage.UsageStore Usage => new(this);
    }
}
