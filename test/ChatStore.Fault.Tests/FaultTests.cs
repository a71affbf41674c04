using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Xunit.Abstractions;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace ChatStore.Fault.Tests;

/// <summary>One durable PostgreSQL cluster and one service process, shared by the suite's tests in turn.</summary>
public sealed class FaultFixture : IAsyncLifetime
{
    internal PgCluster Cluster { get; private set; } = null!;

    internal ServerProcess Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await PgCluster.StartAsync();
        Server = new ServerProcess($"postgres://postgres@127.0.0.1:{Cluster.Port}/postgres");
        await Server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

/// <summary>
/// Exactly once through crashes, measured from outside: writers append through the real service with an
/// <c>Idempotency-Key</c> each and retry until acknowledged, while PostgreSQL is killed hard, the service is
/// SIGKILLed, or PostgreSQL is down for 10 s. Afterwards no acknowledged write is lost or duplicated, no key is
/// stuck, seqs are gapless and counters match. Moments are random from a seed (CHATSTORE_FAULT_SEED to repeat a run).
/// </summary>
public sealed class FaultTests(FaultFixture fixture, ITestOutputHelper output) : IClassFixture<FaultFixture>
{
    const int Writers = 4;

    static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("CHATSTORE_FAULT_SEED"), out var s) ? s : Random.Shared.Next();

    readonly Random _random = new(Seed);

    PgCluster Cluster => fixture.Cluster;

    ServerProcess Server => fixture.Server;

    [Fact]
    public async Task Acknowledged_writes_survive_PostgreSQL_killed_hard_five_times_exactly_once()
    {
        const int kills = 5;
        await UnderLoadAsync($"PostgreSQL killed {kills} times", async () =>
        {
            for (var i = 0; i < kills; i++)
            {
                await Task.Delay(_random.Next(400, 1500));
                await Cluster.KillAsync();
                await Task.Delay(_random.Next(0, 400));
                await Cluster.RestartAsync();
            }
        });
    }

    [Fact]
    public async Task Acknowledged_writes_survive_the_service_SIGKILLed_three_times_exactly_once()
    {
        const int kills = 3;
        await UnderLoadAsync($"service SIGKILLed {kills} times", async () =>
        {
            for (var i = 0; i < kills; i++)
            {
                await Task.Delay(_random.Next(500, 1500));
                await Server.KillAsync();
                await Server.StartAsync();
            }
        });
    }

    // Writers on a new tenant's conversations while faults run, one more second of load, then the checks.
    async Task UnderLoadAsync(string run, Func<Task> faults)
    {
        var (tenant, workload) = await TenantWorkloadAsync(conversations: 2);
        using var stop = new CancellationTokenSource();
        var load = workload.RunAsync(Writers, stop.Token);
        await faults();
        await Task.Delay(1000);
        await stop.CancelAsync();
        await load;
        await AssertExactlyOnceAsync(run, tenant, workload);
    }

    [Fact]
    public async Task With_PostgreSQL_down_for_10_s_routes_answer_503_with_Retry_After_and_the_service_recovers_within_2_s_without_a_restart()
    {
        var (tenant, workload) = await TenantWorkloadAsync(conversations: 2);
        var pid = Server.ProcessId;
        using var probe = workload.Client();
        using var stop = new CancellationTokenSource();
        var load = workload.RunAsync(Writers, stop.Token);
        await Task.Delay(1000);

        await Cluster.KillAsync();
        var down = workload.Now;
        var probes = new List<(string Route, int Status, bool RetryAfter, TimeSpan Took)>();
        while (workload.Now - down < TimeSpan.FromSeconds(10))
        {
            foreach (var route in new[] { "/readyz", "/v1/users" })
            {
                var began = workload.Now;
                using var response = await probe.GetAsync(route);
                probes.Add((route, (int)response.StatusCode, response.Headers.RetryAfter is not null, workload.Now - began));
            }
            await Task.Delay(500);
        }
        // Writes that end before the restart begins saw the database down; a restart accepts writes before it returns.
        var restarting = workload.Now;
        await Cluster.RestartAsync();
        var up = workload.Now;
        await Task.Delay(3000);
        await stop.CancelAsync();
        await load;

        // While it was down (past the writes in flight when it went): 503 with Retry-After, within the request timeout.
        var during = workload.Attempts.Where(a => a.Start >= down + TimeSpan.FromSeconds(0.5) && a.End <= restarting).ToList();
        Assert.True(during.Count >= 20, $"only {during.Count} writes were tried while the database was down");
        Assert.All(during, a => Assert.True(a.Status == 503 && a.RetryAfter, $"a write during the outage got {a.Status} (retry-after: {a.RetryAfter})"));
        var slowest = workload.Attempts.Max(a => a.End - a.Start);
        Assert.True(slowest < ServerProcess.RequestTimeout + TimeSpan.FromSeconds(1), $"a request took {slowest.TotalSeconds:F1} s");
        Assert.All(probes.Where(p => p.Route == "/readyz"), p => Assert.Equal(503, p.Status));
        Assert.All(probes.Where(p => p.Route != "/readyz"), p => Assert.True(p.Status == 503 && p.RetryAfter, $"{p.Route} got {p.Status}"));
        // Back within 2 s of the database, in the same process.
        var firstAck = workload.Attempts.Where(a => a.Start >= up && a.Status is >= 200 and < 300).Select(a => a.End).DefaultIfEmpty(TimeSpan.MaxValue).Min();
        var recovery = firstAck - up;
        Assert.True(recovery < TimeSpan.FromSeconds(2), $"the first write acknowledged after the database came back took {recovery.TotalSeconds:F2} s");
        Assert.Equal(pid, Server.ProcessId);
        Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync("/readyz")).StatusCode);
        Report($"PostgreSQL down 10 s: {during.Count} writes during the outage, all 503 with Retry-After; slowest answer {slowest.TotalSeconds:F2} s; " +
               $"/readyz 503 ({probes.Count(p => p.Route == "/readyz")} probes); recovered {recovery.TotalSeconds:F2} s after the database, same process");
        await AssertExactlyOnceAsync("PostgreSQL down 10 s", tenant, workload);
    }

    [Fact]
    public async Task The_checker_flags_a_dropped_a_duplicated_and_a_miscounted_row()
    {
        var (tenant, workload) = await TenantWorkloadAsync(conversations: 3);
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
            await workload.RunAsync(3, stop.Token);
        var acks = workload.Acks.ToList();
        Assert.True((await Checker.CheckAsync(Cluster.ConnectionString(), tenant, acks)).Clean);
        var conversations = acks.Select(a => a.ConversationId).Distinct().ToList();
        Assert.Equal(3, conversations.Count);
        // The first message of a conversation: dropping it leaves a gap in its seqs.
        var dropped = acks.Where(a => a.ConversationId == conversations[0]).MinBy(a => a.Seq)!;
        var copied = acks.First(a => a.ConversationId == conversations[1]);

        await using var conn = new NpgsqlConnection(Cluster.ConnectionString());
        await conn.OpenAsync();
        await ExecuteAsync(conn, "DELETE FROM messages WHERE id = $1", dropped.MessageId);
        await using (var columns = new NpgsqlCommand("""
            SELECT string_agg(quote_ident(column_name), ', ') FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = 'messages' AND is_generated = 'NEVER' AND column_name NOT IN ('id', 'seq', 'idempotency_key')
            """, conn))
        {
            var list = (string)(await columns.ExecuteScalarAsync())!;
            await ExecuteAsync(conn, $"INSERT INTO messages (id, seq, {list}) SELECT gen_random_uuid(), seq + 100000, {list} FROM messages WHERE id = $1", copied.MessageId);
        }
        await ExecuteAsync(conn, "UPDATE conversations SET message_count = message_count + 1 WHERE id = $1", conversations[2]);

        var verdict = await Checker.CheckAsync(Cluster.ConnectionString(), tenant, acks);
        Assert.Equal([dropped.MessageId], verdict.Lost);
        Assert.Equal([copied.Content], verdict.Duplicated);
        Assert.Contains(conversations[2], verdict.Miscounted);
        Assert.Contains(conversations[0], verdict.SeqGaps);
        Report($"negative control: the checker found {verdict} after one row was dropped, one duplicated and one conversation miscounted");
    }

    async Task AssertExactlyOnceAsync(string run, Guid tenant, Workload workload)
    {
        var acks = workload.Acks.ToList();
        Assert.Empty(workload.Rejected);
        Assert.True(acks.Count >= 50, $"{run}: only {acks.Count} writes were acknowledged; the run proves little");
        // A retry of an acknowledged key replays it: no key answers "in progress" for good.
        using var http = workload.Client();
        var unanswered = 0;
        foreach (var ack in acks.OrderBy(_ => _random.Next()).Take(40))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/conversations/{ack.ConversationId}/messages")
            {
                Content = JsonContent.Create(new { role = "user", content = ack.Content }),
            };
            request.Headers.Add("Idempotency-Key", ack.Key);
            using var response = await http.SendAsync(request);
            var replayed = response.StatusCode == HttpStatusCode.Created && response.Headers.Contains("Idempotent-Replayed")
                && JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid() == ack.MessageId;
            if (!replayed) unanswered++;
        }
        var verdict = await Checker.CheckAsync(Cluster.ConnectionString(), tenant, acks);
        var stuck = verdict.StuckKeys + workload.Stuck.Count + unanswered;
        Report($"{run}: {acks.Count} writes acknowledged ({acks.Count(a => a.Replayed)} by a replay), {workload.Attempts.Count} attempts " +
               $"({workload.Attempts.Count(a => a.Status == 503)} × 503, {workload.Attempts.Count(a => a.Status == 409)} × 409, " +
               $"{workload.Attempts.Count(a => a.Status == 0)} refused or reset); lost {verdict.Lost.Count}, duplicated {verdict.Duplicated.Count}, " +
               $"stuck {stuck}, seq gaps {verdict.SeqGaps.Count}, miscounted {verdict.Miscounted.Count}");
        Assert.True(verdict.Clean && stuck == 0, $"{run}: {verdict}; keys never acknowledged {workload.Stuck.Count}, not replayed {unanswered}\n{Cluster.LogTail()}");
    }

    async Task<(Guid Tenant, Workload Workload)> TenantWorkloadAsync(int conversations)
    {
        using var op = new HttpClient { BaseAddress = Server.BaseAddress };
        op.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.OperatorKey);
        var tenant = (await ReadAsync(await op.PostAsJsonAsync("/v1/tenants", new { name = "fault suite" }))).GetProperty("id").GetGuid();
        var key = (await ReadAsync(await op.PostAsJsonAsync($"/v1/tenants/{tenant}/api-keys", new { name = "writers" }))).GetProperty("secret").GetString()!;
        using var http = new HttpClient { BaseAddress = Server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var user = (await ReadAsync(await http.PostAsJsonAsync("/v1/users", new { email = $"writer-{Guid.NewGuid():N}@example.com" }))).GetProperty("id").GetGuid();
        var ids = new List<Guid>();
        for (var i = 0; i < conversations; i++)
            ids.Add((await ReadAsync(await http.PostAsJsonAsync("/v1/conversations", new { userId = user, title = $"c{i}" }))).GetProperty("id").GetGuid());
        return (tenant, new Workload(Server.BaseAddress, key, ids));
    }

    static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {response.RequestMessage?.RequestUri}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    static async Task ExecuteAsync(NpgsqlConnection conn, string sql, Guid id)
    {
        await using var cmd = new NpgsqlCommand(sql, conn) { Parameters = { new() { Value = id } } };
        Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
    }

    void Report(string line)
    {
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("CHATSTORE_FAULT_REPORT") is { Length: > 0 } path)
            File.AppendAllText(path, $"{line} (seed {Seed})\n");
    }
}
