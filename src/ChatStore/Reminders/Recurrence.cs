using System.Globalization;
using System.Text;

namespace ChatStore.Reminders;

/// <summary>How often a recurring reminder repeats (RRULE <c>FREQ</c>).</summary>
internal enum Frequency
{
    Minutely,
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// <summary>
/// The RRULE subset reminders support: <c>FREQ=MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY|YEARLY</c> with
/// optional <c>INTERVAL=n</c> and either <c>COUNT=n</c> or <c>UNTIL=…</c> (RFC 5545). Occurrence k
/// is the series start plus k × INTERVAL units: minutes and hours as elapsed time; days, weeks,
/// months and years on the wall clock of the reminder's time zone, so a daily 09:00 stays at 09:00
/// across daylight-saving changes. A day that does not exist in a month (the 31st in April) falls
/// on the month's last day; a wall-clock time skipped by a DST change is shifted forward by the gap
/// and a repeated one takes its first instant (RFC 5545 §3.3.5).
/// </summary>
internal sealed class Recurrence
{
    public const int MaxInterval = 100_000;
    public const int MaxCount = 1_000_000;
    const string Supported = "FREQ, INTERVAL, COUNT and UNTIL";

    Recurrence(Frequency frequency, int interval, int? count, string? until)
    {
        Frequency = frequency;
        Interval = interval;
        Count = count;
        Until = until;
    }

    public Frequency Frequency { get; }

    public int Interval { get; }

    /// <summary>The number of occurrences, the series start included.</summary>
    public int? Count { get; }

    /// <summary>UNTIL as written (upper case): <c>yyyyMMdd</c>, <c>yyyyMMddTHHmmss</c> (wall clock) or <c>yyyyMMddTHHmmssZ</c> (UTC).</summary>
    public string? Until { get; }

    /// <summary>The canonical text: <c>FREQ=…[;INTERVAL=n][;COUNT=n|;UNTIL=…]</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("FREQ=").Append(Frequency.ToString().ToUpperInvariant());
        if (Interval != 1) sb.Append(";INTERVAL=").Append(Interval.ToString(CultureInfo.InvariantCulture));
        if (Count is int c) sb.Append(";COUNT=").Append(c.ToString(CultureInfo.InvariantCulture));
        if (Until is not null) sb.Append(";UNTIL=").Append(Until);
        return sb.ToString();
    }

    /// <summary>Parses and checks a rule; anything outside the subset is a validation error on <paramref name="field"/>.</summary>
    public static Recurrence Parse(string text, string field = "recurrence")
    {
        var rule = text.Trim();
        if (rule.StartsWith("RRULE:", StringComparison.OrdinalIgnoreCase))
            rule = rule[6..];
        Frequency? frequency = null;
        int? interval = null, count = null;
        string? until = null;
        var parts = rule.Split(';');
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i].Trim();
            if (part.Length == 0 && i == parts.Length - 1 && i > 0)
                continue; // a trailing ';'
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw Error(field, $"'{part}' is not a NAME=VALUE part; write a rule such as FREQ=DAILY;INTERVAL=1;COUNT=10.");
            var name = part[..eq].Trim().ToUpperInvariant();
            var value = part[(eq + 1)..].Trim();
            switch (name)
            {
                case "FREQ":
                    if (frequency is not null) throw Duplicate(field, name);
                    frequency = value.ToUpperInvariant() switch
                    {
                        "MINUTELY" => Frequency.Minutely,
                        "HOURLY" => Frequency.Hourly,
                        "DAILY" => Frequency.Daily,
                        "WEEKLY" => Frequency.Weekly,
                        "MONTHLY" => Frequency.Monthly,
                        "YEARLY" => Frequency.Yearly,
                        _ => throw Error(field, $"FREQ={value} is not supported; use MINUTELY, HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY."),
                    };
                    break;
                case "INTERVAL":
                    if (interval is not null) throw Duplicate(field, name);
                    interval = Number(field, name, value, MaxInterval);
                    break;
                case "COUNT":
                    if (count is not null) throw Duplicate(field, name);
                    count = Number(field, name, value, MaxCount);
                    break;
                case "UNTIL":
                    if (until is not null) throw Duplicate(field, name);
                    until = value.ToUpperInvariant();
                    if (ParseUntil(until) is null)
                        throw Error(field, $"UNTIL={value} is not a date (yyyyMMdd) or a date-time (yyyyMMddTHHmmss, or yyyyMMddTHHmmssZ in UTC).");
                    break;
                default:
                    throw Error(field, $"{name} is not supported; reminders support {Supported}.");
            }
        }
        if (frequency is not Frequency f)
            throw Error(field, "FREQ is required, for example FREQ=DAILY.");
        if (count is not null && until is not null)
            throw Error(field, "COUNT and UNTIL cannot both be given (RFC 5545).");
        return new Recurrence(f, interval ?? 1, count, until);
    }

    /// <summary>UNTIL as an instant in <paramref name="zone"/>: the last moment an occurrence may fall on (a date means the whole day).</summary>
    public DateTimeOffset? UntilIn(TimeZoneInfo zone)
    {
        if (Until is null) return null;
        var (at, kind) = ParseUntil(Until)!.Value;
        return kind switch
        {
            UntilKind.Utc => new DateTimeOffset(at, TimeSpan.Zero),
            UntilKind.Local => FromWallClock(at, zone),
            _ => FromWallClock(at.AddDays(1), zone).AddTicks(-1),
        };
    }

    /// <summary>
    /// The first occurrence strictly after <paramref name="after"/> of the series that starts at
    /// <paramref name="start"/>, or null when COUNT or UNTIL ends the series first.
    /// </summary>
    public DateTimeOffset? NextAfter(DateTimeOffset start, TimeZoneInfo zone, DateTimeOffset after)
    {
        var startWall = TimeZoneInfo.ConvertTime(start, zone).DateTime;
        var afterWall = TimeZoneInfo.ConvertTime(after, zone).DateTime;
        // An estimate of the index from below, then step up: the occurrences increase with k.
        long k = Frequency switch
        {
            _ when after < start => 0,
            Frequency.Minutely or Frequency.Hourly => (after - start).Ticks / StepTicks,
            Frequency.Daily or Frequency.Weekly => (long)((afterWall - startWall).TotalDays / StepDays) - 1,
            _ => ((afterWall.Year - startWall.Year) * 12L + afterWall.Month - startWall.Month) / StepMonths - 1,
        };
        k = Math.Max(0, k);
        var until = UntilIn(zone);
        for (var tries = 0; tries < 8; tries++, k++)
        {
            if (k >= Count) return null;
            if (Occurrence(start, startWall, zone, k) is not DateTimeOffset at || at > until) return null;
            if (at > after) return at;
        }
        return null; // unreachable: the estimate is within a step or two
    }

    long StepTicks => Frequency == Frequency.Minutely ? Interval * TimeSpan.TicksPerMinute : Interval * TimeSpan.TicksPerHour;

    long StepDays => Frequency == Frequency.Weekly ? Interval * 7L : Interval;

    long StepMonths => Frequency == Frequency.Yearly ? Interval * 12L : Interval;

    /// <summary>Occurrence <paramref name="k"/> (0 is the start), or null past the calendar's end.</summary>
    DateTimeOffset? Occurrence(DateTimeOffset start, DateTime startWall, TimeZoneInfo zone, long k)
    {
        try
        {
            return Frequency switch
            {
                Frequency.Minutely or Frequency.Hourly => start.AddTicks(checked(k * StepTicks)),
                Frequency.Daily or Frequency.Weekly => FromWallClock(startWall.AddDays(checked(k * StepDays)), zone),
                _ => FromWallClock(startWall.AddMonths(checked((int)(k * StepMonths))), zone),
            };
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>The instant a wall-clock time in <paramref name="zone"/> names (RFC 5545 rules for skipped and repeated times).</summary>
    internal static DateTimeOffset FromWallClock(DateTime wall, TimeZoneInfo zone)
    {
        wall = DateTime.SpecifyKind(wall, DateTimeKind.Unspecified);
        TimeSpan offset;
        if (zone.IsInvalidTime(wall))
            offset = zone.GetUtcOffset(wall.AddDays(-1)); // in a spring-forward gap: the offset before it moves the time forward by the gap
        else if (zone.IsAmbiguousTime(wall))
            offset = zone.GetAmbiguousTimeOffsets(wall).Max(); // repeated in autumn: the first of the two instants
        else
            offset = zone.GetUtcOffset(wall);
        return new DateTimeOffset(wall.Ticks - offset.Ticks, TimeSpan.Zero);
    }

    enum UntilKind { Date, Local, Utc }

    static (DateTime At, UntilKind Kind)? ParseUntil(string value)
    {
        var c = CultureInfo.InvariantCulture;
        const DateTimeStyles s = DateTimeStyles.None;
        (DateTime, UntilKind)? result =
            DateTime.TryParseExact(value, "yyyyMMdd", c, s, out var date) ? (date, UntilKind.Date)
            : DateTime.TryParseExact(value, "yyyyMMdd'T'HHmmss", c, s, out var local) ? (local, UntilKind.Local)
            : DateTime.TryParseExact(value, "yyyyMMdd'T'HHmmss'Z'", c, s, out var utc) ? (utc, UntilKind.Utc)
            : null;
        // Years 1000-9998 keep every offset and the day after inside the calendar.
        return result is { Item1.Year: >= 1000 and <= 9998 } ? result : null;
    }

    static int Number(string field, string name, string value, int max)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || n > max)
            throw Error(field, $"{name}={value} must be a whole number from 1 to {max}.");
        return n;
    }

    static ChatStoreValidationException Duplicate(string field, string name) => Error(field, $"{name} is given more than once.");

    static ChatStoreValidationException Error(string field, string message) => new(field, "rrule", message);
}
