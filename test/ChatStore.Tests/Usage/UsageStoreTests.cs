using System.Globalization;
using System.Text.Json;
using ChatStore.Usage;

namespace ChatStore.Tests.Usage;

public sealed class UsageStoreTests
{
    static DateTimeOffset Utc(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture).ToUniversalTime();

    static NewUsageEvent Event(Guid userId, string? model = "gpt-x", int input = 10, int output = 20, decimal credits = 1, decimal cost = 0.01m,
        DateTimeOffset? at = null) =>
        new() { UserId = userId, Action = "chat", Model = model, InputTokens = input, OutputTokens = output, Credits = credits, CostUsd = cost, OccurredAt = at };

    [Fact]
    public async Task Concurrent_debits_never_overdraw_the_balance()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        Assert.Equal(100m, await scope.Usage.GrantCreditsAsync(user.Id, 100));

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            try
            {
                return (await scope.Usage.DebitAsync(user.Id, 3, Event(user.Id, credits: 0))).Balance;
            }
            catch (ChatStoreConflictException e)
            {
                Assert.Contains("Insufficient credits", e.Message, StringComparison.Ordinal);
                return -1m;
            }
        })));

        Assert.Equal(33, results.Count(b => b >= 0));
        Assert.Equal(Enumerable.Range(0, 33).Select(i => 1m + 3 * i).Order(), results.Where(b => b >= 0).Order()); // each balance once
        Assert.Equal(1m, await scope.Usage.GetBalanceAsync(user.Id));
        Assert.Equal(33L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE user_id = $1 AND credits = 3", user.Id));
    }

    [Fact]
    public async Task A_debit_beyond_the_balance_or_without_one_conflicts_and_changes_nothing()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        Assert.Equal(0m, await scope.Usage.GetBalanceAsync(user.Id));
        var none = await Assert.ThrowsAsync<ChatStoreConflictException>(() => scope.Usage.DebitAsync(user.Id, 1));
        Assert.Contains("is 0", none.Message, StringComparison.Ordinal);

        await scope.Usage.GrantCreditsAsync(user.Id, 2.5m);
        Assert.Equal(5m, await scope.Usage.GrantCreditsAsync(user.Id, 2.5m)); // grants add up
        var tooMuch = await Assert.ThrowsAsync<ChatStoreConflictException>(() => scope.Usage.DebitAsync(user.Id, 5.0001m, Event(user.Id, credits: 0)));
        Assert.Contains("is 5", tooMuch.Message, StringComparison.Ordinal);
        Assert.Equal(5m, await scope.Usage.GetBalanceAsync(user.Id));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE user_id = $1", user.Id));

        var exact = await scope.Usage.DebitAsync(user.Id, 5m, Event(user.Id, credits: 5m) with { Metadata = JsonDocument.Parse("""{"q":1}""").RootElement });
        Assert.Equal(0m, exact.Balance);
        Assert.Equal((5m, "chat", 1), (exact.Usage!.Credits, exact.Usage.Action, exact.Usage.Metadata.GetProperty("q").GetInt32()));
        await Assert.ThrowsAsync<ChatStoreConflictException>(() => scope.Usage.DebitAsync(user.Id, 0.0001m));
        Assert.Equal(0m, await scope.Usage.GetBalanceAsync(user.Id));
    }

    [Fact]
    public async Task A_debit_whose_event_names_another_users_conversation_debits_nothing()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var other = await TestStore.NewUserAsync(scope);
        var conversation = await TestStore.ScalarAsync<Guid>(
            "INSERT INTO conversations (id, tenant_id, user_id) VALUES (gen_random_uuid(), $1, $2) RETURNING id", scope.TenantId, other.Id);
        await scope.Usage.GrantCreditsAsync(user.Id, 10);
        var error = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() =>
            scope.Usage.DebitAsync(user.Id, 3, Event(user.Id, credits: 0) with { ConversationId = conversation }));
        Assert.Equal("conversation", error.Entity);
        Assert.Equal(10m, await scope.Usage.GetBalanceAsync(user.Id));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE user_id = $1", user.Id));
        Assert.Equal("usage.userId", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Usage.DebitAsync(user.Id, 3, Event(other.Id, credits: 0)))).Field);
        Assert.Equal("usage.credits", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Usage.DebitAsync(user.Id, 3, Event(user.Id, credits: 2)))).Field);
    }

    [Fact]
    public async Task Record_links_the_users_conversation_and_message()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var conversation = await TestStore.ScalarAsync<Guid>(
            "INSERT INTO conversations (id, tenant_id, user_id) VALUES (gen_random_uuid(), $1, $2) RETURNING id", scope.TenantId, user.Id);
        var message = await TestStore.ScalarAsync<Guid>(
            "INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role) VALUES (gen_random_uuid(), $1, $2, $3, 1, 'assistant') RETURNING id",
            scope.TenantId, conversation, user.Id);
        var at = Utc("2030-01-01T10:00:00Z");
        var recorded = await scope.Usage.RecordAsync(Event(user.Id, cost: 0.123456789m, at: at) with { ConversationId = conversation, MessageId = message });
        Assert.Equal((conversation, message, at, 0.12345679m, 10, 20), (recorded.ConversationId, recorded.MessageId, recorded.OccurredAt, recorded.CostUsd, recorded.InputTokens, recorded.OutputTokens));
        Assert.True((await scope.Usage.RecordAsync(Event(user.Id))).OccurredAt > DateTimeOffset.UtcNow.AddMinutes(-5)); // now by default
        var otherConversation = await TestStore.ScalarAsync<Guid>(
            "INSERT INTO conversations (id, tenant_id, user_id) VALUES (gen_random_uuid(), $1, $2) RETURNING id", scope.TenantId, user.Id);
        Assert.Equal("message", (await Assert.ThrowsAsync<ChatStoreNotFoundException>(() =>
            scope.Usage.RecordAsync(Event(user.Id) with { ConversationId = otherConversation, MessageId = message }))).Entity);
        Assert.Equal(2L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE user_id = $1", user.Id));
    }

    [Fact]
    public async Task Totals_add_up_per_user_model_and_day()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var ada = await TestStore.NewUserAsync(scope);
        var bob = await TestStore.NewUserAsync(scope);
        var day1 = Utc("2030-03-01T10:00:00Z");
        var day2 = Utc("2030-03-02T23:59:59Z");
        await scope.Usage.RecordAsync(Event(ada.Id, "m1", 10, 1, 1.5m, 0.01m, day1));
        await scope.Usage.RecordAsync(Event(ada.Id, "m1", 20, 2, 2.5m, 0.02m, day1.AddHours(1)));
        await scope.Usage.RecordAsync(Event(ada.Id, "m2", 30, 3, 3m, 0.03m, day2));
        await scope.Usage.RecordAsync(Event(bob.Id, "m1", 40, 4, 4m, 0.04m, day2));
        await scope.Usage.RecordAsync(Event(bob.Id, null, 50, 5, 5m, 0.05m, day2));
        await scope.Usage.RecordAsync(Event(bob.Id, "m1", 1000, 1000, 100m, 1m, Utc("2030-03-03T00:00:00Z"))); // outside [from, to)
        var from = Utc("2030-03-01T00:00:00Z");
        var to = Utc("2030-03-03T00:00:00Z");

        var all = Assert.Single(await scope.Usage.TotalsAsync(new UsageTotalsQuery { From = from, To = to }));
        Assert.Equal(new UsageTotal(null, null, null, 150, 15, 16m, 0.15m, 5), all);

        var byUser = await scope.Usage.TotalsAsync(new UsageTotalsQuery { From = from, To = to, GroupBy = [UsageGrouping.User] });
        Assert.Equal(new UsageTotal(ada.Id, null, null, 60, 6, 7m, 0.06m, 3), byUser.Single(t => t.UserId == ada.Id));
        Assert.Equal(new UsageTotal(bob.Id, null, null, 90, 9, 9m, 0.09m, 2), byUser.Single(t => t.UserId == bob.Id));

        var byModelAndDay = await scope.Usage.TotalsAsync(new UsageTotalsQuery { From = from, To = to, GroupBy = [UsageGrouping.Day, UsageGrouping.Model] });
        Assert.Equal(
            [
                new UsageTotal(null, "m1", new DateOnly(2030, 3, 1), 30, 3, 4m, 0.03m, 2),
                new UsageTotal(null, "m1", new DateOnly(2030, 3, 2), 40, 4, 4m, 0.04m, 1),
                new UsageTotal(null, "m2", new DateOnly(2030, 3, 2), 30, 3, 3m, 0.03m, 1),
                new UsageTotal(null, null, new DateOnly(2030, 3, 2), 50, 5, 5m, 0.05m, 1),
            ],
            byModelAndDay);

        var adaByDay = await scope.Usage.TotalsAsync(new UsageTotalsQuery
        {
            UserId = ada.Id, From = from, To = to, GroupBy = [UsageGrouping.Day, UsageGrouping.User, UsageGrouping.Model],
        });
        Assert.Equal(
            [
                new UsageTotal(ada.Id, "m1", new DateOnly(2030, 3, 1), 30, 3, 4m, 0.03m, 2),
                new UsageTotal(ada.Id, "m2", new DateOnly(2030, 3, 2), 30, 3, 3m, 0.03m, 1),
            ],
            adaByDay);

        Assert.Equal(new UsageTotal(null, null, null, 0, 0, 0, 0, 0),
            Assert.Single(await scope.Usage.TotalsAsync(new UsageTotalsQuery { From = to.AddYears(1), To = to.AddYears(2) })));
        Assert.Empty(await scope.Usage.TotalsAsync(new UsageTotalsQuery { From = to.AddYears(1), To = to.AddYears(2), GroupBy = [UsageGrouping.Day] }));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Another_tenant_sees_no_usage_balance_or_user(bool bypassRowLevelSecurity)
    {
        var (_, a, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var (_, b, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var user = await TestStore.NewUserAsync(a);
        await a.Usage.GrantCreditsAsync(user.Id, 10);
        await a.Usage.RecordAsync(Event(user.Id, at: Utc("2030-01-01T00:00:00Z")));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Usage.GetBalanceAsync(user.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Usage.GrantCreditsAsync(user.Id, 5));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Usage.DebitAsync(user.Id, 5));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Usage.RecordAsync(Event(user.Id)));
        var totals = await b.Usage.TotalsAsync(new UsageTotalsQuery { From = Utc("2029-01-01T00:00:00Z"), To = Utc("2031-01-01T00:00:00Z"), UserId = user.Id });
        Assert.Equal(0, Assert.Single(totals).EventCount);
        Assert.Equal(10m, await a.Usage.GetBalanceAsync(user.Id));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE user_id = $1", user.Id));
    }

    [Fact]
    public async Task Bad_input_is_rejected_naming_the_field_and_nothing_is_stored()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var good = Event(user.Id);
        var cases = new (string Field, string Rule, NewUsageEvent Event)[]
        {
            ("inputTokens", "not_negative", good with { InputTokens = -1 }),
            ("outputTokens", "not_negative", good with { OutputTokens = int.MinValue }),
            ("credits", "not_negative", good with { Credits = -0.5m }),
            ("credits", "scale", good with { Credits = 0.00001m }),
            ("credits", "range", good with { Credits = 1e15m }),
            ("costUsd", "not_negative", good with { CostUsd = -0.01m }),
            ("costUsd", "range", good with { CostUsd = 1e10m }),
            ("action", "required", good with { Action = "" }),
            ("action", "max_length", good with { Action = new string('a', 101) }),
            ("action", "nul_character", good with { Action = "a\0" }),
            ("model", "unpaired_surrogate", good with { Model = "gpt\ud800" }), // built in code
            ("model", "unpaired_surrogate", good with { Model = "\udc00gpt" }),
            ("metadata", "json_type", good with { Metadata = JsonDocument.Parse("[]").RootElement }),
            ("userId", "required", good with { UserId = Guid.Empty }),
        };
        foreach (var (field, rule, e) in cases)
        {
            var error = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Usage.RecordAsync(e));
            Assert.Equal((field, rule), (error.Field, error.Rule));
        }
        Assert.Equal("usage.inputTokens", (await Assert.ThrowsAsync<ChatStoreValidationException>(() =>
            scope.Usage.DebitAsync(user.Id, 1, good with { InputTokens = -5 }))).Field);
        foreach (var amount in new[] { 0m, -1m, 0.00001m, 1e15m })
        {
            Assert.Equal("amount", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Usage.GrantCreditsAsync(user.Id, amount))).Field);
            Assert.Equal("amount", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Usage.DebitAsync(user.Id, amount))).Field);
        }
        var from = Utc("2030-01-01T00:00:00Z");
        Assert.Equal(("groupBy[1]", "enum"), await FieldAsync(() => scope.Usage.TotalsAsync(new UsageTotalsQuery { From = from, To = from.AddDays(1), GroupBy = ["day", "week"] })));
        Assert.Equal(("to", "range"), await FieldAsync(() => scope.Usage.TotalsAsync(new UsageTotalsQuery { From = from, To = from })));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE tenant_id = $1", tenant.Id));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM credit_balances WHERE tenant_id = $1", tenant.Id));
    }

    static async Task<(string, string)> FieldAsync(Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<ChatStoreValidationException>(action);
        return (error.Field, error.Rule);
    }
}
