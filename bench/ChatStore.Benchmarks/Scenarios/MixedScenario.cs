using ChatStore.Benchmarks.Data;
using ChatStore.Benchmarks.Harness;
using ChatStore.Messages;

namespace ChatStore.Benchmarks.Scenarios;

/// <summary>
/// 8. Mixed open-loop load: operations arrive at a fixed rate whether or not earlier ones finished (70%
/// history of a Zipf-chosen conversation, 20% append, 10% full-text search of a mid-frequency term);
/// latency runs from each operation's scheduled start, so queueing counts (no coordinated omission).
/// </summary>
public sealed class MixedScenario : IScenario
{
    public string Id => "8 mixed";

    public async Task RunAsync(BenchContext ctx)
    {
        var m = ctx.Manifest;
        var rate = ctx.Options.MixedRate ?? Rate(ctx);
        var seconds = ctx.Options.Quick ? 2.0 : 10.0;
        var searchTenant = ctx.Tenant(m.SearchTenant);
        var terms = m.Terms["mid"];
        var zipf = new ZipfPicker(m.Regular.Length);
        ctx.Notes.Add(FormattableString.Invariant(
            $"8 mixed: {rate:F0} operations/s offered for {seconds} s per implementation and repeat (half the weakest implementation's closed-loop capacity for this mix, from scenarios 1, 2 and 4)."));

        await MeasureAsync(ctx, Id, FormattableString.Invariant($"{rate:F0}/s offered"), Implementations(ctx, zipf, terms, searchTenant),
            rate, seconds, ctx.Options.Quick ? 2 : 3, 1_000_000);
    }

    /// <summary>
    /// Measures each implementation's operation open loop at <paramref name="rate"/>: a 1 s warm-up each, then
    /// <paramref name="repeats"/> slices of <paramref name="seconds"/> per implementation in rotating order. Operation
    /// numbers start at <paramref name="seed"/> (warm-up) and <paramref name="seed"/> + 1,000,000 (slices).
    /// </summary>
    public static async Task MeasureAsync(BenchContext ctx, string scenario, string @case, (string Name, string Label, Func<int, Task> Op)[] impls,
        double rate, double seconds, int repeats, int seed)
    {
        var cells = impls.Select(i => new Cell { Scenario = scenario, Case = @case, Impl = i.Name, Label = i.Label, Concurrency = 0 }).ToList();
        foreach (var impl in impls)
            await OpenLoopAsync(impl.Op, null, rate, 1.0, seed);
        for (var r = 0; r < repeats; r++)
            for (var k = 0; k < impls.Length; k++)
            {
                var i = (k + r) % impls.Length;
                await OpenLoopAsync(impls[i].Op, cells[i], rate, seconds, seed + 1_000_000 + r * 100_000);
            }
        Log.Info($"{scenario} {@case}: " + string.Join("  ", cells.Select(c => FormattableString.Invariant($"{c.Impl} {c.OpsPerSecond:N0}/s p99 {c.Percentile(99):F1} ms"))));
        ctx.Results.AddRange(cells);
    }

    static (string Name, string Label, Func<int, Task> Op)[] Implementations(BenchContext ctx, ZipfPicker zipf, TermRef[] terms, Guid searchTenant)
    {
        var m = ctx.Manifest;
        Func<int, Task> Mix(Func<ConversationRef, Task> history, Func<ConversationRef, string, Task> append, Func<string, Task> search) =>
            MixedScenario.Mix(m, m.Regular, zipf, terms, history, append, search);
        return new (string Name, string Label, Func<int, Task> Op)[]
        {
            ("A", "A raw Npgsql", Mix(c => ctx.Raw.HistoryAsync(ctx.Tenant(c.Tenant), c.Id, 50), (c, t) => ctx.Raw.AppendAsync(ctx.Tenant(c.Tenant), c.Id, MessageRole.User, t),
                t => ctx.Raw.FullTextAsync(searchTenant, t))),
            ("B", "B ChatStore", Mix(c => ctx.Scope(c.Tenant).Messages.HistoryAsync(c.Id), (c, t) => ctx.Scope(c.Tenant).Messages.AppendAsync(c.Id, new NewMessage { Role = MessageRole.User, Content = t }),
                t => LibrarySearch.FullTextAsync(ctx.Scope(m.SearchTenant), t))),
            ("C", "C EF Core", Mix(c => ctx.Ef.HistoryAsync(ctx.Tenant(c.Tenant), c.Id, 50), (c, t) => ctx.Ef.AppendAsync(ctx.Tenant(c.Tenant), c.Id, MessageRole.User, t),
                t => ctx.Ef.FullTextAsync(searchTenant, t))),
        };
    }

    /// <summary>
    /// The mix: operation <c>i</c> is, by a roll seeded with <c>i</c>, a history of the last 50 (70%), an append
    /// (20%) or a full-text search of one of <paramref name="terms"/> (10%), on a Zipf-chosen conversation.
    /// </summary>
    public static Func<int, Task> Mix(Manifest m, ConversationRef[] conversations, ZipfPicker zipf, TermRef[] terms,
        Func<ConversationRef, Task> history, Func<ConversationRef, string, Task> append, Func<string, Task> search) => i =>
    {
        var rng = Rng.For(11, "mixed", i);
        var roll = rng.NextDouble();
        var conversation = conversations[zipf.Next(ref rng)];
        return roll < 0.7 ? history(conversation)
            : roll < 0.9 ? append(conversation, m.Texts[i % m.Texts.Length])
            : search(terms[i % terms.Length].Term);
    };

    /// <summary>Half the weakest implementation's capacity for this mix, from the closed-loop results at concurrency 4.</summary>
    static double Rate(BenchContext ctx)
    {
        double? Get(string scenario, string @case, string impl) => ctx.Results
            .FirstOrDefault(c => c.Scenario == scenario && c.Case.StartsWith(@case, StringComparison.Ordinal) && c.Impl == impl)?.OpsPerSecond;
        var capacities = new List<double>();
        foreach (var impl in new[] { "A", "B", "C" })
        {
            var h = Get("2 history", "last 50, Zipf, c=4", impl);
            var a = Get("1 append", "length 10, c=4", impl);
            var s = Get("4 full text", "mid", impl == "B" ? "A" : impl);
            if (h is double hh && a is double aa && s is double ss)
                capacities.Add(1 / (0.7 / hh + 0.2 / aa + 0.1 / ss));
        }
        return capacities.Count == 0 ? 50 : Math.Max(5, Math.Round(capacities.Min() / 2));
    }

    /// <summary>Runs <paramref name="op"/> at <paramref name="rate"/> per second for <paramref name="seconds"/>, open loop; records into <paramref name="cell"/> when given.</summary>
    public static async Task OpenLoopAsync(Func<int, Task> op, Cell? cell, double rate, double seconds, int seed)
    {
        var interval = System.Diagnostics.Stopwatch.Frequency / rate;
        var count = (int)(rate * seconds);
        var tasks = new Task<double>[count];
        GC.Collect();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var due = start + (long)(i * interval);
            var wait = System.Diagnostics.Stopwatch.GetElapsedTime(System.Diagnostics.Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.FromMilliseconds(1))
                await Task.Delay(wait);
            var n = seed + i;
            tasks[i] = Task.Run(async () =>
            {
                await op(n);
                return System.Diagnostics.Stopwatch.GetElapsedTime(due).TotalMilliseconds;
            });
        }
        var latencies = await Task.WhenAll(tasks);
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (cell is null)
            return;
        cell.Ops += count;
        cell.Seconds += elapsed;
        cell.AllocatedBytes += GC.GetTotalAllocatedBytes(precise: true) - allocated;
        cell.LatenciesMs.AddRange(latencies);
    }

    /// <summary>Each implementation's mix runs briefly (open loop, 20/s): every operation must complete without error.</summary>
    public async Task SmokeAsync(BenchContext ctx)
    {
        var m = ctx.Manifest;
        foreach (var impl in Implementations(ctx, new ZipfPicker(m.Regular.Length), m.Terms["mid"], ctx.Tenant(m.SearchTenant)))
            await OpenLoopAsync(impl.Op, null, 20, 1.0, 3_000_000);
    }
}
