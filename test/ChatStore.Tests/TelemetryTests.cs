using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ChatStore.Tests;

public sealed class TelemetryTests
{
    [Fact]
    public async Task Operations_report_seconds_and_database_attributes_by_OpenTelemetry_conventions()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var email = $"{Guid.NewGuid():N}@example.com";
        var instruments = new ConcurrentDictionary<string, (string? Unit, Type Type)>();
        var measurements = new ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name != Telemetry.Name)
                    return;
                instruments[instrument.Name] = (instrument.Unit, instrument.GetType());
                listener.EnableMeasurementEvents(instrument);
            },
        };
        meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
            measurements.Enqueue((instrument.Name, value, ToDictionary(tags))));
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            measurements.Enqueue((instrument.Name, value, ToDictionary(tags))));
        meters.Start();
        var activities = new ConcurrentQueue<Activity>();
        using var traces = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(traces);

        var started = Stopwatch.GetTimestamp();
        using (new Activity("test").Start())
            await scope.Users.CreateAsync(new ChatStore.Users.NewUser { Email = email });
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;

        Assert.Equal(("s", typeof(Histogram<double>)), instruments[Telemetry.DurationInstrument]);
        Assert.Equal("{operation}", instruments[Telemetry.OperationsInstrument].Unit);
        // Other tests run in parallel: pick this operation's measurement among theirs by its duration bound.
        var durations = measurements.Where(m => m.Instrument == Telemetry.DurationInstrument && Equals(m.Tags["db.operation.name"], "users.create")).ToList();
        Assert.NotEmpty(durations);
        Assert.Contains(durations, d => d.Value > 0 && d.Value <= elapsed);
        Assert.All(durations, d => Assert.Equal("postgresql", d.Tags["db.system.name"]));
        Assert.Contains(measurements, m => m.Instrument == Telemetry.OperationsInstrument && Equals(m.Tags["db.operation.name"], "users.create") && m.Value == 1);

        var activity = Assert.Single(activities, a => a.OperationName == "users.create" && a.Parent?.OperationName == "test");
        Assert.InRange(activity.Duration.TotalSeconds, 0, elapsed);
        Assert.Equal(ActivityKind.Client, activity.Kind);
        Assert.Equal("postgresql", activity.GetTagItem("db.system.name"));
        Assert.Equal("users.create", activity.GetTagItem("db.operation.name"));
    }

    static Dictionary<string, object?> ToDictionary(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, object?>();
        foreach (var tag in tags)
            result[tag.Key] = tag.Value;
        return result;
    }
}
