using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ChatStore;

/// <summary>
/// ChatStore's <see cref="ActivitySource"/> and <see cref="Meter"/>, both named <c>ChatStore</c>, so
/// OpenTelemetry users see operations with no extra package.
/// </summary>
public static class Telemetry
{
    /// <summary>The name of the activity source and the meter.</summary>
    public const string Name = "ChatStore";

    /// <summary>Traces one activity per store operation.</summary>
    public static readonly ActivitySource Source = new(Name);

    /// <summary>Operation counts and durations.</summary>
    public static readonly Meter Meter = new(Name);

    static readonly Counter<long> Operations = Meter.CreateCounter<long>("chatstore.operations", description: "Store operations run.");
    static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("chatstore.operation.duration", unit: "ms", description: "Store operation duration.");

    /// <summary>Starts timing an operation; dispose the result when it ends.</summary>
    internal static Operation Start(string name) => new(name, Source.StartActivity(name), Stopwatch.GetTimestamp());

    internal readonly struct Operation(string name, Activity? activity, long started) : IDisposable
    {
        public void Dispose()
        {
            var tag = new KeyValuePair<string, object?>("operation", name);
            if (Duration.Enabled)
                Duration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, tag);
            if (Operations.Enabled)
                Operations.Add(1, tag);
            activity?.Dispose();
        }
    }
}
