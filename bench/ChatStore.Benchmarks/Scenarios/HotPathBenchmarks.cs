using BenchmarkDotNet.Attributes;
using ChatStore.Benchmarks.Data;
using ChatStore.Benchmarks.Harness;
using ChatStore.Messages;

namespace ChatStore.Benchmarks.Scenarios;

/// <summary>
/// The hot paths of scenarios 1 and 2 as a BenchmarkDotNet class (<c>scripts/bench.sh --bdn</c>), for
/// BenchmarkDotNet's statistics and exact per-operation allocations (MemoryDiagnoser). It runs in process
/// against the run database the side-by-side runner prepared; the side-by-side runner remains the
/// reference for ratios, because it rotates the implementations through the same time window.
/// </summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    /// <summary>Set by Program before BenchmarkDotNet starts.</summary>
    public static BenchContext? Context { get; set; }

    BenchContext _ctx = null!;
    ConversationRef _history = null!;
    ConversationRef[] _append = [];
    int _next;

    [GlobalSetup]
    public void Setup()
    {
        _ctx = Context ?? throw new InvalidOperationException("Run through scripts/bench.sh --bdn.");
        _history = _ctx.Manifest.Regular[0];
        _append = _ctx.Manifest.Short;
    }

    ConversationRef NextAppend() => _append[Interlocked.Increment(ref _next) % _append.Length];

    [Benchmark(Baseline = true, Description = "history A raw Npgsql")]
    public Task<MessageHistory> HistoryRaw() => _ctx.Raw.HistoryAsync(_ctx.Tenant(_history.Tenant), _history.Id, 50);

    [Benchmark(Description = "history B ChatStore")]
    public Task<MessageHistory> HistoryChatStore() => _ctx.Scope(_history.Tenant).Messages.HistoryAsync(_history.Id);

    [Benchmark(Description = "history C EF Core")]
    public Task HistoryEf() => _ctx.Ef.HistoryAsync(_ctx.Tenant(_history.Tenant), _history.Id, 50);

    [Benchmark(Description = "append A raw Npgsql")]
    public Task<Message> AppendRaw()
    {
        var c = NextAppend();
        return _ctx.Raw.AppendAsync(_ctx.Tenant(c.Tenant), c.Id, MessageRole.User, _ctx.Manifest.Texts[0]);
    }

    [Benchmark(Description = "append B ChatStore")]
    public Task<Message> AppendChatStore()
    {
        var c = NextAppend();
        return _ctx.Scope(c.Tenant).Messages.AppendAsync(c.Id, new NewMessage { Role = MessageRole.User, Content = _ctx.Manifest.Texts[0] });
    }

    [Benchmark(Description = "append C EF Core")]
    public Task AppendEf()
    {
        var c = NextAppend();
        return _ctx.Ef.AppendAsync(_ctx.Tenant(c.Tenant), c.Id, MessageRole.User, _ctx.Manifest.Texts[0]);
    }
}
