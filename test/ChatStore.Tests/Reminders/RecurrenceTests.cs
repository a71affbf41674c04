using ChatStore.Reminders;

namespace ChatStore.Tests.Reminders;

public sealed class RecurrenceTests
{
    static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    static DateTimeOffset Utc(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture).ToUniversalTime();

    [Fact]
    public void Iana_zones_resolve_with_invariant_globalization()
    {
        Assert.True(AppContext.TryGetSwitch("System.Globalization.Invariant", out var invariant) && invariant);
        Assert.Equal("America/New_York", TimeZoneInfo.FindSystemTimeZoneById("America/New_York").Id);
        Assert.Equal(TimeSpan.FromHours(2), Berlin.GetUtcOffset(Utc("2025-07-01T00:00:00Z")));
    }

    [Theory]
    [InlineData("FREQ=DAILY", "FREQ=DAILY")]
    [InlineData("rrule:freq=weekly;interval=2;count=10", "FREQ=WEEKLY;INTERVAL=2;COUNT=10")]
    [InlineData(" FREQ=MONTHLY ; UNTIL=20301231T235959z ;", "FREQ=MONTHLY;UNTIL=20301231T235959Z")]
    [InlineData("INTERVAL=1;FREQ=MINUTELY", "FREQ=MINUTELY")]
    [InlineData("FREQ=YEARLY;UNTIL=20300101", "FREQ=YEARLY;UNTIL=20300101")]
    public void Rules_parse_to_a_canonical_form(string rule, string canonical) =>
        Assert.Equal(canonical, Recurrence.Parse(rule).ToString());

    [Theory]
    [InlineData("FREQ=SECONDLY", "SECONDLY")]
    [InlineData("FREQ=WEEKLY;BYDAY=MO,WE", "BYDAY")]
    [InlineData("FREQ=DAILY;COUNT=3;UNTIL=20300101", "COUNT and UNTIL")]
    [InlineData("FREQ=DAILY;INTERVAL=0", "INTERVAL=0")]
    [InlineData("FREQ=DAILY;COUNT=-1", "COUNT=-1")]
    [InlineData("FREQ=DAILY;COUNT=1.5", "COUNT=1.5")]
    [InlineData("INTERVAL=2", "FREQ is required")]
    [InlineData("FREQ=DAILY;FREQ=WEEKLY", "more than once")]
    [InlineData("FREQ=DAILY;UNTIL=2030-01-01", "UNTIL=2030-01-01")]
    [InlineData("FREQ", "NAME=VALUE")]
    [InlineData("", "NAME=VALUE")]
    public void Unsupported_or_malformed_rules_name_recurrence_and_say_why(string rule, string why)
    {
        var error = Assert.Throws<ChatStoreValidationException>(() => Recurrence.Parse(rule));
        Assert.Equal(("recurrence", "rrule"), (error.Field, error.Rule));
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Daily_keeps_the_wall_clock_time_across_both_dst_changes()
    {
        var rule = Recurrence.Parse("FREQ=DAILY");
        var spring = Utc("2025-03-29T09:00:00+01:00");
        Assert.Equal(Utc("2025-03-30T09:00:00+02:00"), rule.NextAfter(spring, Berlin, spring));
        Assert.Equal(Utc("2025-03-31T09:00:00+02:00"), rule.NextAfter(spring, Berlin, Utc("2025-03-30T09:00:00+02:00")));
        var autumn = Utc("2025-10-25T09:00:00+02:00");
        Assert.Equal(Utc("2025-10-26T09:00:00+01:00"), rule.NextAfter(autumn, Berlin, autumn));
    }

    [Fact]
    public void A_skipped_time_moves_forward_by_the_gap_and_a_repeated_time_takes_its_first_instant()
    {
        var rule = Recurrence.Parse("FREQ=DAILY");
        var start = Utc("2025-03-29T02:30:00+01:00");
        Assert.Equal(Utc("2025-03-30T03:30:00+02:00"), rule.NextAfter(start, Berlin, start)); // 02:30 does not exist that day
        Assert.Equal(Utc("2025-03-31T02:30:00+02:00"), rule.NextAfter(start, Berlin, Utc("2025-03-30T03:30:00+02:00")));
        var autumn = Utc("2025-10-25T02:30:00+02:00");
        Assert.Equal(Utc("2025-10-26T02:30:00+02:00"), rule.NextAfter(autumn, Berlin, autumn)); // 02:30 happens twice
    }

    [Fact]
    public void Hourly_and_minutely_count_elapsed_time()
    {
        var start = Utc("2025-03-30T00:30:00Z"); // 01:30 CET; the clocks jump at 01:00Z
        Assert.Equal(Utc("2025-03-30T01:30:00Z"), Recurrence.Parse("FREQ=HOURLY").NextAfter(start, Berlin, start));
        Assert.Equal(Utc("2025-03-30T00:45:00Z"), Recurrence.Parse("FREQ=MINUTELY;INTERVAL=15").NextAfter(start, Berlin, Utc("2025-03-30T00:44:59Z")));
    }

    [Fact]
    public void Monthly_and_yearly_fall_on_the_last_day_of_short_months_without_drifting()
    {
        var monthly = Recurrence.Parse("FREQ=MONTHLY");
        var jan31 = Utc("2024-01-31T10:00:00Z");
        Assert.Equal(Utc("2024-02-29T10:00:00Z"), monthly.NextAfter(jan31, TimeZoneInfo.Utc, jan31));
        Assert.Equal(Utc("2024-03-31T10:00:00Z"), monthly.NextAfter(jan31, TimeZoneInfo.Utc, Utc("2024-02-29T10:00:00Z")));
        var yearly = Recurrence.Parse("FREQ=YEARLY");
        var leap = Utc("2024-02-29T10:00:00Z");
        Assert.Equal(Utc("2025-02-28T10:00:00Z"), yearly.NextAfter(leap, TimeZoneInfo.Utc, leap));
        Assert.Equal(Utc("2028-02-29T10:00:00Z"), yearly.NextAfter(leap, TimeZoneInfo.Utc, Utc("2027-03-01T00:00:00Z")));
    }

    [Fact]
    public void Missed_occurrences_are_skipped_and_count_towards_count()
    {
        var start = Utc("2025-01-01T09:00:00Z");
        Assert.Equal(Utc("2025-01-11T09:00:00Z"), Recurrence.Parse("FREQ=DAILY").NextAfter(start, TimeZoneInfo.Utc, Utc("2025-01-10T12:00:00Z")));
        var five = Recurrence.Parse("FREQ=DAILY;COUNT=5"); // occurrences Jan 1..5
        Assert.Equal(Utc("2025-01-05T09:00:00Z"), five.NextAfter(start, TimeZoneInfo.Utc, Utc("2025-01-04T09:00:00Z")));
        Assert.Null(five.NextAfter(start, TimeZoneInfo.Utc, Utc("2025-01-05T09:00:00Z")));
        Assert.Null(five.NextAfter(start, TimeZoneInfo.Utc, Utc("2025-01-10T12:00:00Z")));
    }

    [Fact]
    public void Until_is_inclusive_and_a_date_means_the_whole_local_day()
    {
        var start = Utc("2025-01-01T09:00:00+01:00");
        var byDate = Recurrence.Parse("FREQ=DAILY;UNTIL=20250103");
        Assert.Equal(Utc("2025-01-03T09:00:00+01:00"), byDate.NextAfter(start, Berlin, Utc("2025-01-02T09:00:00+01:00")));
        Assert.Null(byDate.NextAfter(start, Berlin, Utc("2025-01-03T09:00:00+01:00")));
        var byUtc = Recurrence.Parse("FREQ=DAILY;UNTIL=20250103T080000Z"); // exactly the third occurrence
        Assert.Equal(Utc("2025-01-03T08:00:00Z"), byUtc.NextAfter(start, Berlin, Utc("2025-01-02T12:00:00Z")));
        var byLocal = Recurrence.Parse("FREQ=DAILY;UNTIL=20250103T085959"); // a second before it, Berlin time
        Assert.Null(byLocal.NextAfter(start, Berlin, Utc("2025-01-02T12:00:00Z")));
    }
}
