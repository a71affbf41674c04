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
        public required SocketsHttpHandler Handler { get; init; }
        public required HttpClient Http { get; init; }
        /// <summary>A client with the search tenant's key, for the mixed load.</summary>
        public required HttpClient SearchTenantHttp { get; init; }
        public string? AppendRoute { get; init; }
        public string? HistoryRoute { get; init; }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            SearchTenantHttp.Dispose();
            Handler.Dispose();
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
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        HttpClient Client(string secret)
        {
            var client = new HttpClient(handler, disposeHandler: false) { BaseAddress = new Uri(address) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
            return client;
        }
        var http = Client(key.Secret);
        var searchKey = await ctx.Client.Tenants.CreateApiKeyAsync(ctx.Tenant(ctx.Manifest.SearchTenant), "bench");

        // The messages routes, when this server has them (they are being added on another branch).
        var routes = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Select(e => (Pattern: e.RoutePattern.RawText ?? "", Methods: e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []))
            .ToList();
        string? Find(string method) => routes.FirstOrDefault(r => r.Methods.Contains(method)
            && r.Pattern.Contains("conversations/{", StringComparison.Ordinal) && r.Pattern.TrimEnd('/').EndsWith("/messages", StringComparison.Ordinal)).Pattern;
        static string? Template(string? pattern) => pattern is null ? null
            : System.Text.RegularExpressions.Regex.Replace(pattern, "\\{[^}]*\\}", "{0}");
        return new Server { App = app, Handler = handler, Http = http, SearchTenantHttp = Client(searchKey.Secret), AppendRoute = Template(Find("POST")), HistoryRoute = Template(Find("GET")) };
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
            // --quick: the rare-word mix only, to stay within its time budget.
            foreach (var terms in ctx.Options.Quick ? ["rare"] : new[] { "rare", "mid" })
                await MixedAsync(ctx, server, terms);
        }
        catch (HttpRequestException e)
        {
            ctx.Notes.Add($"7 http: the messages routes ({server.AppendRoute}, {server.HistoryRoute}) did not take the requests this harness sends ({e.Message}); only the user read was measured.");
        }
    }

    /// <summary>The HTTP service's load target: requests in scenario 8's mix.</summary>
    public const double MixedRate = 1000;

    /// <summary>
    /// Scenario 8's mix (70% history, 20% append, 10% full text of a word of class <paramref name="terms"/>) in
    /// the search tenant, open loop at <see cref="MixedRate"/> requests/s, over HTTP and, alternating with it, on the library.
    /// </summary>
    Task MixedAsync(BenchContext ctx, Server server, string terms) =>
        MixedScenario.MeasureAsync(ctx, Id, FormattableString.Invariant($"mixed, {terms} words, {MixedRate:N0}/s offered"), MixedImplementations(ctx, server, terms),
            MixedRate, ctx.Options.Quick ? 2.0 : 10.0, ctx.Options.Quick ? 1 : 2, 4_000_000);

    static (string Name, string Label, Func<int, Task> Op)[] MixedImplementations(BenchContext ctx, Server server, string termClass)
    {
        var m = ctx.Manifest;
        var conversations = m.Regular.Where(c => c.Tenant == m.SearchTenant).ToArray();
        var zipf = new ZipfPicker(conversations.Length);
        var terms = m.Terms[termClass];
        var scope = ctx.Scope(m.SearchTenant);
        var http = server.SearchTenantHttp;
        string Path(string route, ConversationRef c) => string.Format(System.Globalization.CultureInfo.InvariantCulture, route, c.Id);
        return
        [
            ("lib", "library call", MixedScenario.Mix(m, conversations, zipf, terms,
                c => scope.Messages.HistoryAsync(c.Id),
                (c, t) => scope.Messages.AppendAsync(c.Id, new NewMessage { Role = MessageRole.User, Content = t }),
                t => LibrarySearch.FullTextAsync(scope, t))),
            ("http", "HTTP (Kestrel, loopback)", MixedScenario.Mix(m, conversations, zipf, terms,
                c => GetJsonAsync(http, Path(server.HistoryRoute!, c) + "?limit=50"),
                (c, t) => PostJsonAsync(http, Path(server.AppendRoute!, c), new { role = MessageRole.User, content = t }),
                t => PostJsonAsync(http, SearchPath, SearchBody(t)))),
        ];
    }

    const string SearchPath = "/v1/search/full-text";

    static object SearchBody(string text) => new { text, kinds = new[] { "message" }, limit = 20 };

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
        var m = ctx.Manifest;
        foreach (var term in m.Terms["mid"].Take(2))
        {
            var lib = await LibrarySearch.FullTextAsync(ctx.Scope(m.SearchTenant), term.Term);
            using var response = await server.SearchTenantHttp.PostAsJsonAsync(SearchPath, SearchBody(term.Term));
            var json = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
            Smoke.AllEqual($"7 http full text '{term.Term}'",
                [string.Join(",", lib.Items.Select(h => h.Id)), string.Join(",", json.GetProperty("items").EnumerateArray().Select(h => h.GetProperty("id").GetGuid()))],
                ["library", "http"]);
        }
        // The mixed load's requests, briefly: every one must succeed.
        if (server.AppendRoute is not null && server.HistoryRoute is not null)
            foreach (var impl in MixedImplementations(ctx, server, "mid"))
                await MixedScenario.OpenLoopAsync(impl.Op, null, 20, 1.0, 6_000_000);
    }
}
