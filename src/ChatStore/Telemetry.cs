using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ChatStore;

/// <summary>
/// ChatStore's <see cref="ActivitySource"/> and <see cref="Meter"/>, both named <c>ChatStore</c>, so
/// OpenTelemetry users see operations with no extra package (<c>AddSource("ChatStore")</c>, <c>AddMeter("ChatStore")</c>;
/// Npgsql.OpenTelemetry adds the statements underneath). Names and attributes follow OpenTelemetry's database
/// semantic conventions: one client activity per store operation named after it, <c>db.system.name</c> =
/// <c>postgresql</c> and <c>db.operation.name</c> (such as <c>messages.append</c>) on both, durations in seconds.
/// </summary>
public static class Telemetry
{
    /// <summary>The name of the activity source and the meter.</summary>
    public const string Name = "ChatStore";

    /// <summary>The operation duration histogram: seconds (unit <c>s</c>), one measurement per store operation.</summary>
    public const string DurationInstrument = "chatstore.operation.duration";

    /// <summary>The operation counter (unit <c>{operation}</c>).</summary>
    public const string OperationsInstrument = "chatstore.operations";

    /// <summary>Traces one activity per store operation.</summary>
    public static readonly ActivitySource Source = new(Name, typeof(Telemetry).Assembly.GetName().Version?.ToString(3));

    /// <summary>Operation counts and durations.</summary>
    public static readonly Meter Meter = new(Name, typeof(Telemetry).Assembly.GetName().Version?.ToString(3));

    const string SystemName = "db.system.name";
    const string OperationName = "db.operation.name";
    const string PostgreSql = "postgresql";

    static readonly Counter<long> Operations = Meter.CreateCounter<long>(OperationsInstrument, unit: "{operation}", description: "Store operations run.");

    // OpenTelemetry's recommended bucket boundaries for database client durations, in seconds.
    static readonly Histogram<double> Duration = Meter.CreateHistogram(DurationInstrument, unit: "s", description: "Duration of ChatStore store operations.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10] });

    /// <summary>Starts timing an operation; dispose the result when it ends.</summary>
    internal static Operation Start(string name)
    {
        var activity = Source.StartActivity(name, ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag(SystemName, PostgreSql);
            activity.SetTag(OperationName, name);
        }
        return new(name, activity, Stopwatch.GetTimestamp());
    }

    internal readonly struct Operation(string name, Activity? activity, long started) : IDisposable
    {
        public void Dispose()
        {
            var system = new KeyValuePair<string, object?>(SystemName, PostgreSql);
            var operation = new KeyValuePair<string, object?>(OperationName, name);
            if (Duration.Enabled)
                Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, system, operation);
            if (Operations.Enabled)
                Operations.Add(1, system, operation);
            activity?.Dispose();
        }
    }
}
