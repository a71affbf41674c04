using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using ChatStore.Reminders;

namespace ChatStore.Tests.Reminders;

public sealed class ReminderStoreTests
{
    static DateTimeOffset Utc(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture).ToUniversalTime();

    static NewReminder New(Guid userId, DateTimeOffset dueAt, string title = "Walk the dog", string? recurrence = null, string? timezone = null) =>
        new() { UserId = userId, Title = title, DueAt = dueAt, Recurrence = recurrence, Timezone = timezone };

    [Fact]
    public async Task Create_and_get_store_every_field()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var due = Utc("2030-05-01T07:00:00Z");
        var created = await scope.Reminders.CreateAsync(new NewReminder
        {
            UserId = user.Id, Title = "Vet 🐶", Body = "Bring the papers", DueAt = due.ToOffset(TimeSpan.FromHours(2)),
            Recurrence = "freq=weekly;interval=2", Timezone = "Europe/Berlin", Metadata = JsonDocument.Parse("""{"dog":"Rex"}""").RootElement,
        });
        var got = await scope.Reminders.GetAsync(created.Id);
        Assert.Equal(("Vet 🐶", "Bring the papers", due, "FREQ=WEEKLY;INTERVAL=2", "Europe/Berlin", ReminderStatus.Pending, 0),
            (got.Title, got.Body, got.DueAt, got.Recurrence, got.Timezone, got.Status, got.SentCount));
        Assert.Equal("Rex", got.Metadata.GetProperty("dog").GetString());
        Assert.Equal(user.Id, got.UserId);
        Assert.Equal("UTC", (await scope.Reminders.CreateAsync(New(user.Id, due))).Timezone);
    }

    [Fact]
    public async Task Two_concurrent_workers_never_claim_the_same_reminder_and_together_claim_all()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var now = Utc("2030-01-01T12:00:00Z");
        var ids = new List<Guid>();
        for (var i = 0; i < 200; i++)
            ids.Add((await scope.Reminders.CreateAsync(New(user.Id, now.AddMinutes(-i), $"r{i}"))).Id);
        await scope.Reminders.CreateAsync(New(user.Id, now.AddMinutes(1), "not yet due"));

        var claims = new ConcurrentBag<(int Worker, Guid Id)>();
        async Task WorkAsync(int worker)
        {
            var client = await TestStore.ClientAsync();
            var workerScope = client.ForTenant(tenant.Id);
            while (true)
            {
                var batch = await workerScope.Reminders.ClaimDueAsync(now, limit: 7);
                if (batch.Count == 0) return;
                foreach (var c in batch)
                {
                    Assert.Equal(ReminderStatus.Sent, c.Reminder.Status);
                    claims.Add((worker, c.Reminder.Id));
                }
            }
        }
        await Task.WhenAll(Task.Run(() => WorkAsync(1)), Task.Run(() => WorkAsync(2)));

        Assert.Equal(200, claims.Count);
        Assert.Equal(ids.Order(), claims.Select(c => c.Id).Order()); // every due one, none twice
        Assert.Equal(200L, await TestStore.ScalarAsync<long>(
            "SELECT count(*) FROM reminders WHERE tenant_id = $1 AND status = 'sent' AND sent_count = 1 AND claimed_at = $2", tenant.Id, now));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM reminders WHERE tenant_id = $1 AND status = 'pending'", tenant.Id));
    }

    [Fact]
    public async Task Claims_take_the_earliest_due_first_and_stop_at_the_limit()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var now = Utc("2030-01-01T12:00:00Z");
        var late = await scope.Reminders.CreateAsync(New(user.Id, now.AddHours(-1)));
        var early = await scope.Reminders.CreateAsync(New(user.Id, now.AddHours(-2)));
        var claimed = Assert.Single(await scope.Reminders.ClaimDueAsync(now, limit: 1));
        Assert.Equal((early.Id, early.DueAt), (claimed.Reminder.Id, claimed.OccurrenceAt));
        Assert.Equal(late.Id, Assert.Single(await scope.Reminders.ClaimDueAsync(now, limit: 10)).Reminder.Id);
        Assert.Empty(await scope.Reminders.ClaimDueAsync(now));
    }

    [Fact]
    public async Task A_daily_reminder_keeps_its_local_time_across_the_dst_change()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var first = Utc("2025-03-29T09:00:00+01:00");
        var reminder = await scope.Reminders.CreateAsync(New(user.Id, first, recurrence: "FREQ=DAILY", timezone: "Europe/Berlin"));

        var claim1 = Assert.Single(await scope.Reminders.ClaimDueAsync(first.AddSeconds(5)));
        Assert.Equal(first, claim1.OccurrenceAt);
        Assert.Equal((ReminderStatus.Pending, Utc("2025-03-30T09:00:00+02:00"), 1), (claim1.Reminder.Status, claim1.Reminder.DueAt, claim1.Reminder.SentCount));
        Assert.Empty(await scope.Reminders.ClaimDueAsync(first.AddHours(12)));

        // A worker that was down for two days fires once and moves on to the next occurrence after now.
        var claim2 = Assert.Single(await scope.Reminders.ClaimDueAsync(Utc("2025-04-01T10:00:00+02:00")));
        Assert.Equal(Utc("2025-03-30T09:00:00+02:00"), claim2.OccurrenceAt);
        Assert.Equal(Utc("2025-04-02T09:00:00+02:00"), claim2.Reminder.DueAt);
        Assert.Equal(2, (await scope.Reminders.GetAsync(reminder.Id)).SentCount);
    }

    [Fact]
    public async Task A_recurring_reminder_completes_when_its_count_runs_out()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var first = Utc("2030-01-01T08:00:00Z");
        var reminder = await scope.Reminders.CreateAsync(New(user.Id, first, recurrence: "FREQ=HOURLY;COUNT=2"));
        Assert.Equal(ReminderStatus.Pending, Assert.Single(await scope.Reminders.ClaimDueAsync(first)).Reminder.Status);
        var last = Assert.Single(await scope.Reminders.ClaimDueAsync(first.AddHours(1)));
        Assert.Equal((first.AddHours(1), ReminderStatus.Completed, 2), (last.OccurrenceAt, last.Reminder.Status, last.Reminder.SentCount));
        Assert.Empty(await scope.Reminders.ClaimDueAsync(first.AddDays(10)));
        Assert.Equal(ReminderStatus.Completed, (await scope.Reminders.GetAsync(reminder.Id)).Status);
    }

    [Fact]
    public async Task Cancel_stops_a_reminder_and_complete_or_update_of_it_conflicts()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var due = Utc("2030-01-01T08:00:00Z");
        var reminder = await scope.Reminders.CreateAsync(New(user.Id, due, recurrence: "FREQ=DAILY"));
        Assert.Equal(ReminderStatus.Cancelled, (await scope.Reminders.CancelAsync(reminder.Id)).Status);
        Assert.Equal(ReminderStatus.Cancelled, (await scope.Reminders.CancelAsync(reminder.Id)).Status); // idempotent
        Assert.Empty(await scope.Reminders.ClaimDueAsync(due.AddDays(1)));
        var updatedAt = (await scope.Reminders.GetAsync(reminder.Id)).UpdatedAt;
        await Assert.ThrowsAsync<ChatStoreConflictException>(() => scope.Reminders.CompleteAsync(reminder.Id));
        await Assert.ThrowsAsync<ChatStoreConflictException>(() => scope.Reminders.UpdateAsync(reminder.Id, new ReminderUpdate { Title = "x" }));
        var after = await scope.Reminders.GetAsync(reminder.Id);
        Assert.Equal((ReminderStatus.Cancelled, "Walk the dog", updatedAt), (after.Status, after.Title, after.UpdatedAt));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Reminders.CancelAsync(Guid.NewGuid()));
    }

    [Fact]
    public async Task Complete_ends_a_series_and_a_completed_reminder_cannot_be_cancelled()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var reminder = await scope.Reminders.CreateAsync(New(user.Id, Utc("2030-01-01T08:00:00Z"), recurrence: "FREQ=DAILY"));
        Assert.Equal(ReminderStatus.Completed, (await scope.Reminders.CompleteAsync(reminder.Id)).Status);
        Assert.Equal(ReminderStatus.Completed, (await scope.Reminders.CompleteAsync(reminder.Id)).Status);
        await Assert.ThrowsAsync<ChatStoreConflictException>(() => scope.Reminders.CancelAsync(reminder.Id));
        Assert.Empty(await scope.Reminders.ClaimDueAsync(Utc("2030-02-01T00:00:00Z")));
    }

    [Fact]
    public async Task Update_reschedules_a_sent_reminder_as_pending_and_restarts_the_series()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var due = Utc("2030-01-01T08:00:00Z");
        var reminder = await scope.Reminders.CreateAsync(New(user.Id, due));
        Assert.Equal(ReminderStatus.Sent, Assert.Single(await scope.Reminders.ClaimDueAsync(due)).Reminder.Status);

        var titled = await scope.Reminders.UpdateAsync(reminder.Id, new ReminderUpdate { Title = "Renamed" });
        Assert.Equal(("Renamed", ReminderStatus.Sent), (titled.Title, titled.Status)); // no new time: still sent

        var snoozed = await scope.Reminders.UpdateAsync(reminder.Id, new ReminderUpdate
        {
            DueAt = due.AddMinutes(10), Recurrence = "FREQ=MONTHLY;COUNT=2", Timezone = "America/New_York",
        });
        Assert.Equal((ReminderStatus.Pending, due.AddMinutes(10), "FREQ=MONTHLY;COUNT=2", "America/New_York", "Renamed"),
            (snoozed.Status, snoozed.DueAt, snoozed.Recurrence, snoozed.Timezone, snoozed.Title));
        Assert.Equal(due.AddMinutes(10).AddMonths(1), Assert.Single(await scope.Reminders.ClaimDueAsync(due.AddHours(1))).Reminder.DueAt);

        var oneOff = await scope.Reminders.UpdateAsync(reminder.Id, new ReminderUpdate { Recurrence = "" });
        Assert.Null(oneOff.Recurrence);
        Assert.Equal(ReminderStatus.Sent, Assert.Single(await scope.Reminders.ClaimDueAsync(due.AddYears(1))).Reminder.Status);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Reminders.UpdateAsync(Guid.NewGuid(), new ReminderUpdate { Title = "x" }));
    }

    [Fact]
    public async Task List_pages_by_due_time_with_keyset_cursors_and_filters_by_status()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var other = await TestStore.NewUserAsync(scope);
        var due = Utc("2030-01-01T08:00:00Z");
        var created = new List<Reminder>();
        for (var i = 0; i < 7; i++) // pairs share a due time: the id breaks the tie
            created.Add(await scope.Reminders.CreateAsync(New(user.Id, due.AddHours(i / 2))));
        await scope.Reminders.CreateAsync(New(other.Id, due));
        await scope.Reminders.CancelAsync(created[3].Id);

        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await scope.Reminders.ListAsync(user.Id, limit: 3, cursor: cursor);
            Assert.True(page.Items.Count <= 3);
            seen.AddRange(page.Items.Select(r => r.Id));
            cursor = page.NextCursor;
        } while (cursor is not null);
        Assert.Equal(created.OrderBy(r => r.DueAt).ThenBy(r => r.Id).Select(r => r.Id), seen);
        Assert.Equal(created[3].Id, Assert.Single((await scope.Reminders.ListAsync(user.Id, ReminderStatus.Cancelled)).Items).Id);
        Assert.Equal(6, (await scope.Reminders.ListAsync(user.Id, ReminderStatus.Pending)).Items.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Another_tenants_reminders_are_not_found_and_never_claimed(bool bypassRowLevelSecurity)
    {
        var (_, a, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var (_, b, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var userA = await TestStore.NewUserAsync(a);
        var userB = await TestStore.NewUserAsync(b);
        var due = Utc("2030-01-01T08:00:00Z");
        var reminder = await a.Reminders.CreateAsync(New(userA.Id, due));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Reminders.GetAsync(reminder.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Reminders.UpdateAsync(reminder.Id, new ReminderUpdate { Title = "stolen" }));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Reminders.CancelAsync(reminder.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Reminders.CompleteAsync(reminder.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Reminders.CreateAsync(New(userA.Id, due)));
        Assert.Empty((await b.Reminders.ListAsync(userA.Id)).Items);
        Assert.Empty(await b.Reminders.ClaimDueAsync(due.AddDays(1)));
        var conversationOfA = await TestStore.ScalarAsync<Guid>(
            "INSERT INTO conversations (id, tenant_id, user_id) VALUES (gen_random_uuid(), $1, $2) RETURNING id", a.TenantId, userA.Id);
        var error = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() =>
            b.Reminders.CreateAsync(New(userB.Id, due) with { ConversationId = conversationOfA }));
        Assert.Equal("conversation", error.Entity);
        Assert.Equal((ReminderStatus.Pending, "Walk the dog"), ((await a.Reminders.GetAsync(reminder.Id)).Status, (await a.Reminders.GetAsync(reminder.Id)).Title));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM reminders WHERE tenant_id = $1", b.TenantId));
    }

    [Fact]
    public async Task A_conversation_of_another_user_is_not_found()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var other = await TestStore.NewUserAsync(scope);
        var conversation = await TestStore.ScalarAsync<Guid>(
            "INSERT INTO conversations (id, tenant_id, user_id) VALUES (gen_random_uuid(), $1, $2) RETURNING id", scope.TenantId, other.Id);
        var due = Utc("2030-01-01T08:00:00Z");
        Assert.Equal("conversation", (await Assert.ThrowsAsync<ChatStoreNotFoundException>(() =>
            scope.Reminders.CreateAsync(New(user.Id, due) with { ConversationId = conversation }))).Entity);
        Assert.Equal(conversation, (await scope.Reminders.CreateAsync(New(other.Id, due) with { ConversationId = conversation })).ConversationId);
    }

    public static TheoryData<string, string, string> BadInput => new()
    {
        { "recurrence", "rrule", "FREQ=WEEKLY;BYDAY=MO" },
        { "recurrence", "rrule", "FREQ=DAILY;UNTIL=20291231" },
        { "timezone", "timezone", "Mars/Olympus_Mons" },
        { "timezone", "timezone", "../../etc/passwd" },
        { "timezone", "timezone", "W. Europe Standard Time" },
        { "title", "required", "" },
        { "title", "nul_character", "nul" },
        { "title", "unpaired_surrogate", "high" },
        { "body", "unpaired_surrogate", "low" },
        { "dueAt", "range", "0001" },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public async Task Bad_input_is_rejected_naming_the_field_and_nothing_is_stored(string field, string rule, string value)
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var reminder = New(user.Id, Utc("2030-01-01T08:00:00Z"));
        // Built here: xunit's theory data would replace a lone surrogate with U+FFFD.
        reminder = (field, value) switch
        {
            ("recurrence", _) => reminder with { Recurrence = value },
            ("timezone", _) => reminder with { Timezone = value },
            ("title", "nul") => reminder with { Title = "a\0b" },
            ("title", "high") => reminder with { Title = "a\ud800b" },
            ("title", _) => reminder with { Title = value },
            ("body", _) => reminder with { Body = "a\udc00" },
            _ => reminder with { DueAt = DateTimeOffset.MinValue },
        };
        var error = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Reminders.CreateAsync(reminder));
        Assert.Equal((field, rule), (error.Field, error.Rule));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM reminders WHERE tenant_id = $1", tenant.Id));
    }

    [Fact]
    public async Task Bad_updates_list_arguments_and_claim_limits_are_rejected_and_change_nothing()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var due = Utc("2030-01-01T08:00:00Z");
        var reminder = await scope.Reminders.CreateAsync(New(user.Id, due, recurrence: "FREQ=DAILY;UNTIL=20300110"));
        Assert.Equal("recurrence", (await Assert.ThrowsAsync<ChatStoreValidationException>(() =>
            scope.Reminders.UpdateAsync(reminder.Id, new ReminderUpdate { DueAt = due.AddMonths(1) }))).Field); // past UNTIL
        Assert.Equal("recurrence", (await Assert.ThrowsAsync<ChatStoreValidationException>(() =>
            scope.Reminders.UpdateAsync(reminder.Id, new ReminderUpdate { Recurrence = "FREQ=FORTNIGHTLY" }))).Field);
        Assert.Equal("title", (await Assert.ThrowsAsync<ChatStoreValidationException>(() =>
            scope.Reminders.UpdateAsync(reminder.Id, new ReminderUpdate { Title = "\udfff" }))).Field);
        Assert.Equal("timezone", (await Assert.ThrowsAsync<ChatStoreValidationException>(() =>
            scope.Reminders.UpdateAsync(reminder.Id, new ReminderUpdate { Timezone = "Nowhere/City" }))).Field);
        Assert.Equal(reminder, await scope.Reminders.GetAsync(reminder.Id) with { Metadata = reminder.Metadata });

        Assert.Equal(("status", "enum"), await FieldAsync(() => scope.Reminders.ListAsync(user.Id, status: "done")));
        Assert.Equal(("limit", "range"), await FieldAsync(() => scope.Reminders.ListAsync(user.Id, limit: 0)));
        Assert.Equal(("limit", "range"), await FieldAsync(() => scope.Reminders.ListAsync(user.Id, limit: 501)));
        Assert.Equal(("cursor", "cursor"), await FieldAsync(() => scope.Reminders.ListAsync(user.Id, cursor: "garbage")));
        Assert.Equal(("limit", "range"), await FieldAsync(() => scope.Reminders.ClaimDueAsync(due, limit: 0)));
        Assert.Equal(ReminderStatus.Pending, (await scope.Reminders.GetAsync(reminder.Id)).Status);
    }

    static async Task<(string, string)> FieldAsync(Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<ChatStoreValidationException>(action);
        return (error.Field, error.Rule);
    }
}
