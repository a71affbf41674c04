using System.Diagnostics;
using System.Globalization;

namespace ChatStore.Benchmarks.Harness;

/// <summary>Progress and status lines on stderr (stdout carries the results).</summary>
public static class Log
{
    static readonly Stopwatch Clock = Stopwatch.StartNew();

    public static void Info(string message) =>
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bench {Clock.Elapsed.TotalSeconds,6:F1}s] {message}"));

    /// <summary>A long step: reports done/total at most every two seconds, and the total time at the end.</summary>
    public static StepProgress Step(string name, long total) => new(name, total);

    public sealed class StepProgress(string name, long total) : IDisposable
    {
        readonly Stopwatch _watch = Stopwatch.StartNew();
        long _done;
        long _lastReport = Stopwatch.GetTimestamp();

        public void Add(long count)
        {
            var done = Interlocked.Add(ref _done, count);
            var now = Stopwatch.GetTimestamp();
            var last = Interlocked.Read(ref _lastReport);
            if (Stopwatch.GetElapsedTime(last, now).TotalSeconds >= 2 && Interlocked.CompareExchange(ref _lastReport, now, last) == last)
                Info(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: {done:N0}/{total:N0} ({100.0 * done / Math.Max(1, total):F0}%), {done / _watch.Elapsed.TotalSeconds:N0}/s"));
        }

        public void Dispose() => Info(string.Create(CultureInfo.InvariantCulture, $"{name}: done ({Interlocked.Read(ref _done):N0}) in {_watch.Elapsed.TotalSeconds:F1} s"));
    }
}
