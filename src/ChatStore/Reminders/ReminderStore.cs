using System.Text.Json;
using ChatStore.Tenancy;
using ChatStore.Tenants;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Reminders
{
    /// <summary>
    /// Reminders: create, read, list, change, cancel, complete, and <see cref="ClaimDueAsync"/> for
    /// workers, which hands each due reminder to exactly one worker (SKIP LOCKED) and moves recurring
    /// ones to their next occurrence in their time zone.
    /// </summary>
    public sealed class ReminderStore
    {
        const string Columns = """
            r.id, r.user_id, r.conversation_id, r.title, r.body, r.due_at, r.recurrence, r.timezone, r.status,
            r.claimed_at, r.sent_count, r.metadata::text, r.created_at, r.updated_at
            """;

        static readonly DateTimeOffset MinDue = new(1900, 1, 1, 0, 0, 0, TimeSpan.Zero);
        static readonly DateTimeOffset MaxDue = new(9999, 1, 1, 0, 0, 0, TimeSpan.Zero);

        readonly TenantScope _scope;

        internal ReminderStore(TenantScope scope) => _scope = scope;

        /// <summary>Creates a pending reminder for a user of the tenant (and, optionally, one of their conversations).</summary>
        public async Task<Reminder> CreateAsync(NewReminder reminder, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(reminder);
            using var op = Telemetry.Start("reminders.create");
            var limits = _scope.Limits;
            var id = Validate.Id(reminder.Id ?? Ids.New(), "id");
            Validate.Id(reminder.UserId, "userId");
            if (reminder.ConversationId is Guid c) Validate.Id(c, "conversationId");
            var title = Validate.Required(reminder.Title, "title", limits.MaxTitleLength);
            var body = Validate.Text(reminder.Body, "body", limits.MaxContentLength);
            var dueAt = ValidateDueAt(reminder.DueAt);
            var zone = FindZone(reminder.Timezone ?? "UTC", "timezone");
            var recurrence = ParseRecurrence(reminder.Recurrence);
            CheckUntil(recurrence, zone, dueAt);
            var metadata = Validate.Json(reminder.Metadata, "metadata", limits.MaxJsonBytes, JsonValueKind.Object) ?? "{}";

            // The user, and the conversation when given, must be the tenant's (and the conversation the user's).
            const string sql = $$"""
                INSERT INTO {schema}.reminders AS r
                       (id, tenant_id, user_id, conversation_id, title, body, due_at, series_start, recurrence, timezone, metadata)
                SELECT $1, u.tenant_id, u.id, $3::uuid, $4, $5::text, $6, CASE WHEN $7::text IS NULL THEN NULL ELSE $6 END, $7::text, $8, $9
                  FROM {schema}.users u
                 WHERE u.tenant_id = {tenant} AND u.id = $2 AND u.deleted_at IS NULL
                   AND ($3::uuid IS NULL OR EXISTS (
                        SELECT 1 FROM {schema}.conversations c WHERE c.tenant_id = {tenant} AND c.id = $3 AND c.user_id = u.id AND c.deleted_at IS NULL))
                RETURNING {{Columns}}
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id).Add(reminder.UserId).Add(reminder.ConversationId).Add(title).Add(body).Add(dueAt)
               .Add(recurrence?.ToString()).Add(zone.Id).Add(metadata, NpgsqlDbType.Jsonb);
            Reminder? created;
            try
            {
                created = await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new ChatStoreConflictException("A reminder with this id already exists.", e);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                throw new ChatStoreNotFoundException("user", reminder.UserId); // deleted while we wrote
            }
            if (created is not null)
                return created;
            await _scope.Users.GetAsync(reminder.UserId, cancellationToken).ConfigureAwait(false); // an unknown user throws
            throw new ChatStoreNotFoundException("conversation", reminder.ConversationId!);
        }

        /// <summary>A reminder by id.</summary>
        public async Task<Reminder> GetAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("reminders.get");
            const string sql = $$"""SELECT {{Columns}} FROM {schema}.reminders r WHERE r.tenant_id = {tenant} AND r.id = $1""";
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id);
            return await cmd.ReadSingleAsync(Map, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("reminder", id);
        }

        /// <summary>A user's reminders by due time (then id), keyset-paginated; optionally only one <see cref="ReminderStatus"/>.</summary>
        public async Task<Page<Reminder>> ListAsync(Guid userId, string? status = null, int limit = 50, string? cursor = null,
            CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("reminders.list");
            if (status is not null) Validate.OneOf(status, "status", ReminderStatus.All);
            Validate.PageSize(limit, _scope.Limits.MaxPageSize);
            (DateTimeOffset At, Guid Id)? after = cursor is null ? null : Cursor.DecodeTime(cursor);
            // Served by reminders_user_idx (tenant_id, user_id, due_at); the row comparison bounds its due_at.
            const string sql = $$"""
                SELECT {{Columns}} FROM {schema}.reminders r
                 WHERE r.tenant_id = {tenant} AND r.user_id = $1
                   AND ($2::text IS NULL OR r.status = $2)
                   AND ($3::timestamptz IS NULL OR (r.due_at, r.id) > ($3, $4))
                 ORDER BY r.due_at, r.id LIMIT $5
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(userId).Add(status).Add(after?.At).Add(after?.Id ?? Guid.Empty).Add(limit + 1);
            var items = await cmd.ReadListAsync(Map, cancellationToken).ConfigureAwait(false);
            return Page.Of(items, limit, r => Cursor.Encode(r.DueAt, r.Id));
        }

        /// <summary>
        /// Changes the fields that are set. A new due time, recurrence or time zone restarts the series
        /// at the due time and makes a sent or completed reminder pending again. A cancelled reminder
        /// cannot be changed.
        /// </summary>
        public async Task<Reminder> UpdateAsync(Guid id, ReminderUpdate update, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(update);
            using var op = Telemetry.Start("reminders.update");
            var limits = _scope.Limits;
            var title = Validate.Text(update.Title, "title", limits.MaxTitleLength);
            if (title is { Length: 0 }) throw new ChatStoreValidationException("title", "required", "must not be empty.");
            var body = Validate.Text(update.Body, "body", limits.MaxContentLength);
            DateTimeOffset? dueAt = update.DueAt is DateTimeOffset d ? ValidateDueAt(d) : null;
            var newZone = update.Timezone is null ? null : FindZone(update.Timezone, "timezone");
            var newRecurrence = update.Recurrence is null ? null : ParseRecurrence(update.Recurrence);
            var reschedule = update.DueAt is not null || update.Recurrence is not null || update.Timezone is not null;

            // The checks that need the stored schedule (UNTIL against the due time, in the time zone) run under the row's lock.
            await using var tx = await _scope.BeginAsync(cancellationToken).ConfigureAwait(false);
            var current = await ReadForUpdateAsync(tx, id, cancellationToken).ConfigureAwait(false);
            if (current.Status == ReminderStatus.Cancelled)
                throw new ChatStoreConflictException($"Reminder {id} is cancelled; create a new reminder instead.");
            var zone = newZone ?? FindZone(current.Timezone, "timezone");
            var recurrence = update.Recurrence is null ? current.Recurrence : newRecurrence?.ToString();
            var due = dueAt ?? current.DueAt;
            if (reschedule) CheckUntil(TryParse(recurrence), zone, due);

            const string sql = $$"""
                UPDATE {schema}.reminders r SET
                       title = coalesce($2, r.title), body = coalesce($3, r.body), due_at = $4, recurrence = $5, timezone = $6,
                       series_start = CASE WHEN $5::text IS NULL THEN NULL WHEN $7 THEN $4 ELSE coalesce(r.series_start, r.due_at) END,
                       status = CASE WHEN $7 AND r.status IN ('sent', 'completed') THEN 'pending' ELSE r.status END
                 WHERE r.tenant_id = {tenant} AND r.id = $1
                RETURNING {{Columns}}
                """;
            Reminder updated;
            await using (var cmd = tx.Command(sql))
            {
                TenantTransaction.Add(cmd, id);
                TenantTransaction.Add(cmd, title);
                TenantTransaction.Add(cmd, body);
                TenantTransaction.Add(cmd, due.ToUniversalTime());
                TenantTransaction.Add(cmd, recurrence, NpgsqlDbType.Text);
                TenantTransaction.Add(cmd, zone.Id);
                TenantTransaction.Add(cmd, reschedule);
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                updated = Map(reader);
            }
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return updated;
        }

        /// <summary>Cancels a pending or sent reminder; cancelling a cancelled one changes nothing. A completed reminder cannot be cancelled.</summary>
        public Task<Reminder> CancelAsync(Guid id, CancellationToken cancellationToken = default) =>
            SetStatusAsync("reminders.cancel", id, ReminderStatus.Cancelled, cancellationToken);

        /// <summary>Completes a pending or sent reminder (ending a recurring series); completing a completed one changes nothing. A cancelled reminder cannot be completed.</summary>
        public Task<Reminder> CompleteAsync(Guid id, CancellationToken cancellationToken = default) =>
            SetStatusAsync("reminders.complete", id, ReminderStatus.Completed, cancellationToken);

        /// <summary>Deletes a reminder for good (any status); a worker that claimed it keeps what it read.</summary>
        public async Task DeleteAsync(Guid id, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("reminders.delete");
            const string sql = "DELETE FROM {schema}.reminders WHERE tenant_id = {tenant} AND id = $1";
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id);
            if (await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                throw new ChatStoreNotFoundException("reminder", id);
        }

        async Task<Reminder> SetStatusAsync(string operation, Guid id, string status, CancellationToken cancellationToken)
        {
            using var op = Telemetry.Start(operation);
            // One statement: lock the row, change it only from pending/sent, and report the status it had.
            const string sql = $$"""
                WITH cur AS (SELECT id, status FROM {schema}.reminders WHERE tenant_id = {tenant} AND id = $1 FOR UPDATE),
                     upd AS (UPDATE {schema}.reminders r SET status = $2
                               FROM cur WHERE r.tenant_id = {tenant} AND r.id = cur.id AND cur.status IN ('pending', 'sent')
                             RETURNING {{Columns}})
                SELECT cur.status, upd.* FROM cur LEFT JOIN upd ON true
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(id).Add(status);
            var (was, changed) = await cmd.ReadSingleAsync(r => ((string?)r.GetString(0), r.IsDBNull(1) ? null : Map(r, 1)), cancellationToken).ConfigureAwait(false);
            if (was is null)
                throw new ChatStoreNotFoundException("reminder", id);
            if (changed is not null)
                return changed;
            if (was == status)
                return await GetAsync(id, cancellationToken).ConfigureAwait(false);
            throw new ChatStoreConflictException($"Reminder {id} is {was}; it cannot become {status}.");
        }

        /// <summary>
        /// Claims up to <paramref name="limit"/> of the tenant's reminders due at <paramref name="now"/>,
        /// earliest first, for one worker: rows another worker holds are skipped (FOR UPDATE SKIP
        /// LOCKED), so concurrent workers never get the same reminder. A one-off reminder becomes
        /// <c>sent</c>; a recurring one stays <c>pending</c>, due at its first occurrence after
        /// <paramref name="now"/> (missed occurrences are skipped), or becomes <c>completed</c> when its
        /// COUNT or UNTIL runs out. Either way its sent count goes up by one and claimed_at is <paramref name="now"/>.
        /// </summary>
        public async Task<IReadOnlyList<ClaimedReminder>> ClaimDueAsync(DateTimeOffset now, int limit = 100, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("reminders.claim_due");
            Validate.PageSize(limit, _scope.Limits.MaxPageSize);
            now = Validate.Range(now, "now", MinDue, MaxDue).ToUniversalTime();

            await using var tx = await _scope.BeginAsync(cancellationToken).ConfigureAwait(false);
            // Served by reminders_due_idx (tenant_id, due_at) WHERE status = 'pending'.
            const string claim = $$"""
                SELECT {{Columns}}, r.series_start FROM {schema}.reminders r
                 WHERE r.tenant_id = {tenant} AND r.status = 'pending' AND r.due_at <= $1
                 ORDER BY r.due_at LIMIT $2
                   FOR UPDATE SKIP LOCKED
                """;
            var due = new List<(Reminder Reminder, DateTimeOffset? SeriesStart)>();
            await using (var cmd = tx.Command(claim))
            {
                TenantTransaction.Add(cmd, now);
                TenantTransaction.Add(cmd, limit);
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    due.Add((Map(reader), reader.IsDBNull(14) ? null : reader.GetFieldValue<DateTimeOffset>(14)));
            }
            if (due.Count == 0)
                return [];

            var ids = new Guid[due.Count];
            var nextDue = new DateTimeOffset[due.Count];
            var statuses = new string[due.Count];
            for (var i = 0; i < due.Count; i++)
            {
                var (r, start) = due[i];
                ids[i] = r.Id;
                (nextDue[i], statuses[i]) = (r.DueAt, ReminderStatus.Sent);
                if (TryParse(r.Recurrence) is not Recurrence rule)
                    continue;
                var zone = TimeZoneInfo.TryFindSystemTimeZoneById(r.Timezone, out var z) ? z : TimeZoneInfo.Utc;
                (nextDue[i], statuses[i]) = rule.NextAfter(start ?? r.DueAt, zone, now) is DateTimeOffset next
                    ? (next, ReminderStatus.Pending)
                    : (r.DueAt, ReminderStatus.Completed);
            }

            const string advance = $$"""
                UPDATE {schema}.reminders r
                   SET due_at = n.due_at, status = n.status, claimed_at = $4, sent_count = r.sent_count + 1
                  FROM unnest($1::uuid[], $2::timestamptz[], $3::text[]) AS n (id, due_at, status)
                 WHERE r.tenant_id = {tenant} AND r.id = n.id
                RETURNING {{Columns}}
                """;
            var claimed = new Dictionary<Guid, Reminder>(due.Count);
            await using (var cmd = tx.Command(advance))
            {
                TenantTransaction.Add(cmd, ids);
                TenantTransaction.Add(cmd, nextDue);
                TenantTransaction.Add(cmd, statuses);
                TenantTransaction.Add(cmd, now);
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var r = Map(reader);
                    claimed[r.Id] = r;
                }
            }
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return due.Select(d => new ClaimedReminder(d.Reminder.DueAt, claimed[d.Reminder.Id])).ToList();
        }

        static async Task<Reminder> ReadForUpdateAsync(TenantTransaction tx, Guid id, CancellationToken cancellationToken)
        {
            const string sql = $$"""SELECT {{Columns}} FROM {schema}.reminders r WHERE r.tenant_id = {tenant} AND r.id = $1 FOR UPDATE""";
            await using var cmd = tx.Command(sql);
            TenantTransaction.Add(cmd, id);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Map(reader) : throw new ChatStoreNotFoundException("reminder", id);
        }

        static DateTimeOffset ValidateDueAt(DateTimeOffset dueAt) => Validate.Range(dueAt, "dueAt", MinDue, MaxDue).ToUniversalTime();

        Recurrence? ParseRecurrence(string? text)
        {
            text = Validate.Text(text, "recurrence", _scope.Limits.MaxShortTextLength);
            return string.IsNullOrWhiteSpace(text) ? null : Recurrence.Parse(text);
        }

        /// <summary>A stored rule; one that no longer parses is treated as none (the reminder is sent once).</summary>
        static Recurrence? TryParse(string? text)
        {
            if (text is null) return null;
            try
            {
                return Recurrence.Parse(text);
            }
            catch (ChatStoreValidationException)
            {
                return null;
            }
        }

        static void CheckUntil(Recurrence? recurrence, TimeZoneInfo zone, DateTimeOffset dueAt)
        {
            if (recurrence?.UntilIn(zone) is DateTimeOffset until && until < dueAt)
                throw new ChatStoreValidationException("recurrence", "rrule", $"UNTIL={recurrence.Until} is before dueAt ({dueAt:O}); the reminder would never repeat.");
        }

        /// <summary>An IANA time zone id known to this machine's time zone database.</summary>
        internal static TimeZoneInfo FindZone(string id, string field)
        {
            Validate.Required(id, field, 64);
            // Only the characters of IANA ids: no paths into the time zone directory, no Windows names.
            if (id.Contains("..", StringComparison.Ordinal) || id[0] == '/' || !id.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '/' or '_' or '-' or '+')
                || !TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone))
                throw new ChatStoreValidationException(field, "timezone", $"'{id}' is not a known IANA time zone such as Europe/Berlin or America/New_York.");
            return zone;
        }

        static Reminder Map(NpgsqlDataReader r) => Map(r, 0);

        static Reminder Map(NpgsqlDataReader r, int o) => new(
            r.GetGuid(o), r.GetGuid(o + 1), r.IsDBNull(o + 2) ? null : r.GetGuid(o + 2), r.GetString(o + 3),
            r.IsDBNull(o + 4) ? null : r.GetString(o + 4), r.GetFieldValue<DateTimeOffset>(o + 5), r.IsDBNull(o + 6) ? null : r.GetString(o + 6),
            r.GetString(o + 7), r.GetString(o + 8), r.IsDBNull(o + 9) ? null : r.GetFieldValue<DateTimeOffset>(o + 9), r.GetInt32(o + 10),
            Json.Read(r, o + 11), r.GetFieldValue<DateTimeOffset>(o + 12), r.GetFieldValue<DateTimeOffset>(o + 13));
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>The tenant's reminders.</summary>
        public Reminders.ReminderStore Reminders => new(this);
    }
}
