using System.Diagnostics;

namespace ChatStore.Benchmarks.Harness;

/// <summary>One implementation of a case: a name (A, B, C, …) and the operation, which returns how many
/// units it did (1 for a call, the row count for an import).</summary>
public sealed record Impl(string Name, string Label, Func<Task<int>> Op)
{
    /// <summary>The case this implementation's cell belongs to, when one run rotates the cells of several cases.</summary>
    public string? Case { get; init; }
}

/// <summary>What was measured for one implementation of one case.</summary>
public sealed class Cell
{
    public required string Scenario { get; init; }
    public required string Case { get; init; }
    public required string Impl { get; init; }
    public required string Label { get; init; }
    public int Concurrency { get; init; } = 1;
    public long Ops { get; set; }
    public long Units { get; set; }
    public double Seconds { get; set; }
    public long AllocatedBytes { get; set; }
    public List<double> LatenciesMs { get; } = [];
    public double? Recall { get; set; }
    public string? Note { get; set; }
    /// <summary>"units" label, when an op does several (rows for imports).</summary>
    public string? UnitName { get; init; }

    public double OpsPerSecond => Seconds > 0 ? Ops / Seconds : 0;
    public double UnitsPerSecond => Seconds > 0 ? Units / Seconds : 0;
    public double AllocPerOp => Ops > 0 ? (double)AllocatedBytes / (UnitName is null ? Ops : Math.Max(1, Units)) : 0;

    double[]? _sorted;

    public double Percentile(double p)
    {
        if (LatenciesMs.Count == 0)
            return double.NaN;
        _sorted ??= [.. LatenciesMs.Order()];
        var rank = p / 100 * (_sorted.Length - 1);
        var lo = (int)Math.Floor(rank);
        var hi = Math.Min(_sorted.Length - 1, lo + 1);
        return _sorted[lo] + (_sorted[hi] - _sorted[lo]) * (rank - lo);
    }
}

/// <summary>Timing parameters: a warm-up slice per implementation, then repeats of timed slices in rotating order.</summary>
public sealed record Timing(double WarmupSeconds, double SliceSeconds, int Repeats);

/// <summary>
/// Runs the implementations of a case side by side: each gets a warm-up slice, then in every repeat
/// each runs one timed slice, the order rotating (ABC, BCA, CAB…) so that drift in the machine's
/// load falls on all of them alike. Allocations are the process's allocated bytes over a slice
/// (GC.GetTotalAllocatedBytes(precise)), per operation.
/// </summary>
public static class Runner
{
    public static async Task<List<Cell>> RunAsync(string scenario, string @case, IReadOnlyList<Impl> impls, int concurrency, Timing timing,
        string? unitName = null, int? maxOpsPerSlice = null)
    {
        var cells = impls.Select(i => new Cell { Scenario = scenario, Case = i.Case ?? @case, Impl = i.Name, Label = i.Label, Concurrency = concurrency, UnitName = unitName }).ToList();
        foreach (var impl in impls)
            await SliceAsync(impl, null, concurrency, timing.WarmupSeconds, maxOpsPerSlice);
        for (var r = 0; r < timing.Repeats; r++)
            for (var k = 0; k < impls.Count; k++)
            {
                var i = (k + r) % impls.Count;
                await SliceAsync(impls[i], cells[i], concurrency, timing.SliceSeconds, maxOpsPerSlice);
            }
        Log.Info($"{scenario} {@case}: " + string.Join("  ", cells.Select(c =>
            FormattableString.Invariant($"{(c.Case == @case ? "" : c.Case + " ")}{c.Impl} {(unitName is null ? c.OpsPerSecond : c.UnitsPerSecond):N0}/s p99 {c.Percentile(99):F2} ms"))));
        return cells;
    }

    static async Task SliceAsync(Impl impl, Cell? cell, int concurrency, double seconds, int? maxOps)
    {
        var latencies = new List<double>[concurrency];
        for (var w = 0; w < concurrency; w++)
            latencies[w] = new List<double>(cell is null ? 16 : 65_536);
        long ops = 0, units = 0;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(seconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var list = latencies[w];
            for (var first = true; first || (Stopwatch.GetTimestamp() < deadline && (maxOps is null || Interlocked.Read(ref ops) < maxOps)); first = false)
            {
                var t0 = Stopwatch.GetTimestamp();
                var n = await impl.Op();
                list.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                Interlocked.Increment(ref ops);
                Interlocked.Add(ref units, n);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        if (cell is null)
            return;
        cell.Ops += ops;
        cell.Units += units;
        cell.Seconds += elapsed;
        cell.AllocatedBytes += bytes;
        foreach (var list in latencies)
            cell.LatenciesMs.AddRange(list);
    }
}
