using ChatStore.Benchmarks.Data;
using ChatStore.Benchmarks.Harness;
using ChatStore.Benchmarks.Peers;
using ChatStore.Conversations;
using ChatStore.Messages;

namespace ChatStore.Benchmarks.Scenarios;

/// <summary>Zipf-distributed picks over a list ordered by popularity (rank r with probability ∝ 1/r).</summary>
public sealed class ZipfPicker
{
    readonly double[] _cumulative;

    public ZipfPicker(int count, double exponent = 1.0)
    {
        _cumulative = new double[count];
        var sum = 0.0;
        for (var i = 0; i < count; i++)
            _cumulative[i] = sum += 1.0 / Math.Pow(i + 1, exponent);
        for (var i = 0; i < count; i++)
            _cumulative[i] /= sum;
    }

    public int Next(ref Rng rng)
    {
        var i = Array.BinarySearch(_cumulative, rng.NextDouble());
        return Math.Min(i < 0 ? ~i : i, _cumulative.Length - 1);
    }
}

/// <summary>A thread-safe sequence of picks, the same for every implementation that makes one.</summary>
public sealed class Picks(Func<long, int> pick)
{
    long _next = -1;

    public int Next() => pick(Interlocked.Increment(ref _next));

    public static Picks RoundRobin(int count) => new(i => (int)(i % count));

    public static Picks Zipf(int count, int seed)
    {
        var zipf = new ZipfPicker(count);
        return new(i =>
        {
            var rng = Rng.For(seed, "zipf", i);
            return zipf.Next(ref rng);
        });
    }
}

/// <summary>
/// 1. Append a message (the conversation's last_seq, message_count and times bumped in the same
/// transaction) at concurrency 1 and 4, into conversations of length 10 and 10,000.
/// </summary>
public sealed class AppendScenario : IScenario
{
    public string Id => "1 append";

    public async Task RunAsync(BenchContext ctx)
    {
        var m = ctx.Manifest;
        foreach (var concurrency in new[] { 1, 4 })
        {
            // Both lengths in one rotation, so that their comparison is made in the same time window.
            var impls = new List<Impl>();
            foreach (var (pool, name) in new[] { (m.Short, "length 10"), (m.Long, "length 10,000") })
            {
                // Each implementation walks the pool round-robin from the same start: consecutive appends go to
                // different conversations (a chat service's concurrent appends are to different conversations).
                Impl Make(string n, string label, Func<ConversationRef, string, Task> append)
                {
                    var picks = Picks.RoundRobin(pool.Length);
                    return new Impl(n, label, async () =>
                    {
                        var i = picks.Next();
                        await append(pool[i], m.Texts[i % m.Texts.Length]);
                        return 1;
                    }) { Case = $"{name}, c={concurrency}" };
                }
                impls.Add(Make("A", "A raw Npgsql", (c, text) => ctx.Raw.AppendAsync(ctx.Tenant(c.Tenant), c.Id, MessageRole.User, text)));
                impls.Add(Make("B", "B ChatStore", (c, text) => ctx.Scope(c.Tenant).Messages.AppendAsync(c.Id, new NewMessage { Role = MessageRole.User, Content = text })));
                impls.Add(Make("C", "C EF Core", (c, text) => ctx.Ef.AppendAsync(ctx.Tenant(c.Tenant), c.Id, MessageRole.User, text)));
            }
            ctx.Results.AddRange(await Runner.RunAsync(Id, $"c={concurrency}", impls, concurrency, ctx.Timing));
        }
    }

    public async Task SmokeAsync(BenchContext ctx)
    {
        // Each implementation appends the same three messages to a fresh conversation of the same user;
        // the stored rows and counters must be the same.
        const int tenant = 3;
        var user = ctx.Manifest.Users[tenant][0];
        var scope = ctx.Scope(tenant);
        var texts = ctx.Manifest.Texts;
        var stored = new List<string>();
        foreach (var impl in new[] { "A", "B", "C" })
        {
            var conv = await scope.Conversations.CreateAsync(new NewConversation { UserId = user, Title = "smoke" });
            for (var i = 0; i < 3; i++)
            {
                var role = i % 2 == 0 ? MessageRole.User : MessageRole.Assistant;
                var seq = impl switch
                {
                    "A" => (await ctx.Raw.AppendAsync(ctx.Tenant(tenant), conv.Id, role, texts[i])).Seq,
                    "B" => (await scope.Messages.AppendAsync(conv.Id, new NewMessage { Role = role, Content = texts[i] })).Seq,
                    _ => (await ctx.Ef.AppendAsync(ctx.Tenant(tenant), conv.Id, role, texts[i])).Seq,
                };
                Smoke.Equal($"append {impl} seq", i + 1L, seq);
            }
            stored.Add(await Smoke.ConversationRowsAsync(ctx, conv.Id));
        }
        Smoke.AllEqual("1 append: stored messages and counters", stored);
    }
}

/// <summary>
/// 2. Fetch the last 50 messages of a Zipf-chosen conversation (concurrency 1 and 4), and the last 10
/// of conversations of length 10 and 10,000 (the cost must not grow with the length).
/// </summary>
public sealed class HistoryScenario : IScenario
{
    public string Id => "2 history";

    public async Task RunAsync(BenchContext ctx)
    {
        var m = ctx.Manifest;
        // The two lengths run in one rotation, so that their comparison is made in the same time window.
        var runs = new List<(string Name, (string Case, ConversationRef[] Pool, bool Zipf, int Limit)[] Cases, int Concurrency)>
        {
            ("last 50, Zipf, c=1", [("last 50, Zipf, c=1", m.Regular, true, 50)], 1),
            ("last 50, Zipf, c=4", [("last 50, Zipf, c=4", m.Regular, true, 50)], 4),
            ("last 10 by length", [("last 10 of length 10", m.Short, false, 10), ("last 10 of length 10,000", m.Long, false, 10)], 1),
        };
        foreach (var (name, cases, concurrency) in runs)
        {
            var impls = new List<Impl>();
            foreach (var (@case, pool, zipf, limit) in cases)
            {
                // One sequence of conversations, shared: each implementation reads the next one in it. With a
                // sequence each, every implementation read the same conversations in the same order, and the one
                // that ran first came out up to 15% ahead of the others at concurrency 1, whichever it was.
                var picks = zipf ? Picks.Zipf(pool.Length, 7) : Picks.RoundRobin(pool.Length);
                Impl Make(string n, string label, Func<ConversationRef, Task<int>> read)
                {
                    return new Impl(n, label, async () =>
                    {
                        await read(pool[picks.Next()]);
                        return 1;
                    }) { Case = @case };
                }
                impls.Add(Make("A", "A raw Npgsql", async c => (await ctx.Raw.HistoryAsync(ctx.Tenant(c.Tenant), c.Id, limit)).Messages.Count));
                impls.Add(Make("B", "B ChatStore", async c => (await ctx.Scope(c.Tenant).Messages.HistoryAsync(c.Id, new HistoryQuery { Limit = limit })).Messages.Count));
                impls.Add(Make("C", "C EF Core", async c => (await ctx.Ef.HistoryAsync(ctx.Tenant(c.Tenant), c.Id, limit)).Messages.Count));
            }
            ctx.Results.AddRange(await Runner.RunAsync(Id, name, impls, concurrency, ctx.Timing));
        }
    }

    public async Task SmokeAsync(BenchContext ctx)
    {
        var m = ctx.Manifest;
        var picks = new[] { m.Long[0], m.Short[0], m.Regular[0], m.Regular[1], m.Regular[^1] };
        foreach (var c in picks)
            foreach (var limit in new[] { 50, 10 })
            {
                var t = ctx.Tenant(c.Tenant);
                var a = await ctx.Raw.HistoryAsync(t, c.Id, limit);
                var b = await ctx.Scope(c.Tenant).Messages.HistoryAsync(c.Id, new HistoryQuery { Limit = limit });
                var (rows, more) = await ctx.Ef.HistoryAsync(t, c.Id, limit);
                var expected = Math.Min(limit, c.Length);
                Smoke.Equal($"2 history count of {c.Id}", expected, b.Messages.Count);
                Smoke.AllEqual($"2 history of {c.Id}, limit {limit}",
                [
                    Smoke.Canonical(a.Messages, a.HasMore),
                    Smoke.Canonical(b.Messages, b.HasMore),
                    Smoke.Canonical(rows, more),
                ]);
            }
    }
}
