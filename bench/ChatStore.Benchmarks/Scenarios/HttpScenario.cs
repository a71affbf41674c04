using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ChatStore.Benchmarks.Data;
using ChatStore.Benchmarks.Harness;
using ChatStore.Connection;
using ChatStore.Messages;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChatStore.Benchmarks.Scenarios;

/// <summary>
/// 7. The HTTP path: ChatStore.Server in-process on Kestrel over loopback (a tenant API key, JSON both
/// ways, the client parsing the response) against the same call on the library. Scenarios 1 and 2 go
/// through the messages routes when the server has them; a read of a user always runs.
/// </summary>
public sealed class HttpScenario : IScenario
{
    public string Id => "7 http";

    sealed class Server : IAsyncDisposable
    {
        public required WebApplication App { get; init; }
        public required HttpClient Http { get; init; }
        public string? AppendRoute { get; init; }
        public string? HistoryRoute { get; init; }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }

    static async Task<Server> StartAsync(BenchContext ctx, int tenant)
    {
        var cs = new Npgsql.NpgsqlConnectionStringBuilder(ctx.ConnectionString) { MaxPoolSize = BenchContext.PoolSize }.ConnectionString;
        var app = ChatStoreServer.Build([], new ChatStoreSettings { ConnectionString = cs, MaxPoolSize = BenchContext.PoolSize }, builder =>
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Server:RateLimitPerSecond"] = "1000000",
                ["Server:RateLimitBurst"] = "1000000",
            });
            builder.Logging.ClearProviders();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var key = await ctx.Client.Tenants.CreateApiKeyAsync(ctx.Tenant(tenant), "bench");
        var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan }) { BaseAddress = new Uri(address) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Secret);

        // The messages routes, when this server has them (they are being added on another branch).
        var routes = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Select(e => (Pattern: e.RoutePattern.RawText ?? "", Methods: e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []))
            .ToList();
        string? Find(string method) => routes.FirstOrDefault(r => r.Methods.Contains(method)
            && r.Pattern.Contains("conversations/{", StringComparison.Ordinal) && r.Pattern.TrimEnd('/').EndsWith("/messages", StringComparison.Ordinal)).Pattern;
        static string? Template(string? pattern) => pattern is null ? null
            : System.Text.RegularExpressions.Regex.Replace(pattern, "\\{[^}]*\\}", "{0}");
        return new Server { App = app, Http = http, AppendRoute = Template(Find("POST")), HistoryRoute = Template(Find("GET")) };
    }

    public async Task RunAsync(BenchContext ctx)
    {
        var m = ctx.Manifest;
        const int tenant = 3;
        await using var server = await StartAsync(ctx, tenant);
        var users = m.Users[tenant];
        var scope = ctx.Scope(tenant);

        Impl Lib(Func<int, Task> call)
        {
            var picks = Picks.RoundRobin(1 << 20);
            return new Impl("lib", "library call", async () => { await call(picks.Next()); return 1; });
        }
        Impl Http(Func<int, Task> call)
        {
            var picks = Picks.RoundRobin(1 << 20);
            return new Impl("http", "HTTP (Kestrel, loopback)", async () => { await call(picks.Next()); return 1; });
        }

        ctx.Results.AddRange(await Runner.RunAsync(Id, "get a user", [
            Lib(i => scope.Users.GetAsync(users[i % users.Length])),
            Http(i => GetJsonAsync(server.Http, $"/v1/users/{users[i % users.Length]}")),
        ], 1, ctx.Timing));

        if (server.AppendRoute is null || server.HistoryRoute is null)
        {
            ctx.Notes.Add("7 http: the server on this branch has no messages routes yet; measured GET /v1/users/{id} against Users.GetAsync instead of appends and history.");
            return;
        }
        var regular = m.Regular.Where(c => c.Tenant == tenant).ToArray();
        try
        {
            ctx.Results.AddRange(await Runner.RunAsync(Id, "append (1)", [
                Lib(i => scope.Messages.AppendAsync(regular[i % regular.Length].Id, new NewMessage { Role = MessageRole.User, Content = m.Texts[i % m.Texts.Length] })),
                Http(i => PostJsonAsync(server.Http, string.Format(System.Globalization.CultureInfo.InvariantCulture, server.AppendRoute, regular[i % regular.Length].Id),
                    new { role = MessageRole.User, content = m.Texts[i % m.Texts.Length] })),
            ], 1, ctx.Timing));
            ctx.Results.AddRange(await Runner.RunAsync(Id, "history, last 50 (2)", [
                Lib(i => scope.Messages.HistoryAsync(regular[i % regular.Length].Id)),
                Http(i => GetJsonAsync(server.Http, string.Format(System.Globalization.CultureInfo.InvariantCulture, server.HistoryRoute, regular[i % regular.Length].Id) + "?limit=50")),
            ], 1, ctx.Timing));
        }
        catch (HttpRequestException e)
        {
            ctx.Notes.Add($"7 http: the messages routes ({server.AppendRoute}, {server.HistoryRoute}) did not take the requests this harness sends ({e.Message}); only the user read was measured.");
        }
    }

    static async Task GetJsonAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        using var json = await JsonDocument.ParseAsync(body);
    }

    static async Task PostJsonAsync(HttpClient http, string path, object payload)
    {
        using var response = await http.PostAsJsonAsync(path, payload);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        using var json = await JsonDocument.ParseAsync(body);
    }

    public async Task SmokeAsync(BenchContext ctx)
    {
        const int tenant = 3;
        await using var server = await StartAsync(ctx, tenant);
        foreach (var userId in ctx.Manifest.Users[tenant].Take(3))
        {
            var lib = await ctx.Scope(tenant).Users.GetAsync(userId);
            var json = await server.Http.GetFromJsonAsync<JsonElement>($"/v1/users/{userId}");
            Smoke.AllEqual($"7 http user {userId}",
                [$"{lib.Id} {lib.Email} {lib.Name} {lib.Role}",
                 $"{json.GetProperty("id").GetGuid()} {json.GetProperty("email").GetString()} {json.GetProperty("name").GetString()} {json.GetProperty("role").GetString()}"],
                ["library", "http"]);
        }
    }
}

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
        var seconds = ctx.Options.Quick ? 3.0 : 10.0;
        var searchTenant = ctx.Tenant(m.SearchTenant);
        var terms = m.Terms["mid"];
        var zipf = new ZipfPicker(m.Regular.Length);
        ctx.Notes.Add(FormattableString.Invariant(
            $"8 mixed: {rate:F0} operations/s offered for {seconds} s per implementation and repeat (half the weakest implementation's closed-loop capacity for this mix, from scenarios 1, 2 and 4). B's 10% searches use A's SQL: the library's search API is not on this branch yet."));

        Func<int, Task> Mix(Func<ConversationRef, Task> history, Func<ConversationRef, string, Task> append, Func<string, Task> search) => i =>
        {
            var rng = Rng.For(11, "mixed", i);
            var roll = rng.NextDouble();
            var conversation = m.Regular[zipf.Next(ref rng)];
            return roll < 0.7 ? history(conversation)
                : roll < 0.9 ? append(conversation, m.Texts[i % m.Texts.Length])
                : search(terms[i % terms.Length].Term);
        };
        var impls = new (string Name, string Label, Func<int, Task> Op)[]
        {
            ("A", "A raw Npgsql", Mix(c => ctx.Raw.HistoryAsync(ctx.Tenant(c.Tenant), c.Id, 50), (c, t) => ctx.Raw.AppendAsync(ctx.Tenant(c.Tenant), c.Id, MessageRole.User, t),
                t => ctx.Raw.FullTextAsync(searchTenant, t))),
            ("B", "B ChatStore", Mix(c => ctx.Scope(c.Tenant).Messages.HistoryAsync(c.Id), (c, t) => ctx.Scope(c.Tenant).Messages.AppendAsync(c.Id, new NewMessage { Role = MessageRole.User, Content = t }),
                t => ctx.Raw.FullTextAsync(searchTenant, t))),
            ("C", "C EF Core", Mix(c => ctx.Ef.HistoryAsync(ctx.Tenant(c.Tenant), c.Id, 50), (c, t) => ctx.Ef.AppendAsync(ctx.Tenant(c.Tenant), c.Id, MessageRole.User, t),
                t => ctx.Ef.FullTextAsync(searchTenant, t))),
        };
        var cells = impls.Select(i => new Cell { Scenario = Id, Case = FormattableString.Invariant($"{rate:F0}/s offered"), Impl = i.Name, Label = i.Label, Concurrency = 0 }).ToList();
        foreach (var impl in impls)
            await OpenLoopAsync(impl.Op, null, rate, 1.0, 1_000_000);
        var repeats = ctx.Options.Quick ? 2 : 3;
        for (var r = 0; r < repeats; r++)
            for (var k = 0; k < impls.Length; k++)
            {
                var i = (k + r) % impls.Length;
                await OpenLoopAsync(impls[i].Op, cells[i], rate, seconds, 2_000_000 + r * 100_000);
            }
        Log.Info($"{Id}: " + string.Join("  ", cells.Select(c => FormattableString.Invariant($"{c.Impl} {c.OpsPerSecond:N0}/s p99 {c.Percentile(99):F1} ms"))));
        ctx.Results.AddRange(cells);
    }

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

    static async Task OpenLoopAsync(Func<int, Task> op, Cell? cell, double rate, double seconds, int seed)
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

    public Task SmokeAsync(BenchContext ctx) => Task.CompletedTask;
}
