using System.Net.Http.Json;
using System.Text;
using static ChatStore.Server.Tests.ServerFixture;

namespace ChatStore.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class LimitsTests(ServerFixture server)
{
    [Fact]
    public async Task Page_sizes_over_the_cap_or_under_one_are_400_on_every_list()
    {
        var world = await server.NewWorldAsync();
        var http = world.SessionA;
        var conversation = (await ReadAsync(await http.PostAsJsonAsync("/v1/conversations", new { title = "c" }))).GetProperty("id").GetGuid();
        var message = (await ReadAsync(await http.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { role = "user", content = "m" }))).GetProperty("id").GetGuid();
        var memory = (await ReadAsync(await http.PostAsJsonAsync("/v1/memories", new { content = "m" }))).GetProperty("memory").GetProperty("id").GetGuid();
        var document = (await ReadAsync(await http.PostAsJsonAsync("/v1/documents", new { filename = "d" }))).GetProperty("id").GetGuid();
        string[] lists =
        [
            "/v1/conversations", $"/v1/conversations/{conversation}/messages", $"/v1/conversations/{conversation}/shares",
            $"/v1/messages/{message}/feedback", $"/v1/messages/{message}/corrections", $"/v1/messages/{message}/documents",
            "/v1/memories", $"/v1/memories/{memory}/history", $"/v1/memories/{memory}/sources", "/v1/documents",
            $"/v1/documents/{document}/analyses", "/v1/subjects", "/v1/reminders", "/v1/search-history", "/v1/sessions",
        ];
        foreach (var list in lists)
        {
            await ReadAsync(await http.GetAsync($"{list}?limit=500"));
            foreach (var limit in new[] { 501, 0, -1 })
            {
                var problem = await ProblemAsync(await http.GetAsync($"{list}?limit={limit}"), 400);
                Assert.Equal("limit", problem.GetProperty("field").GetString());
            }
        }
        await ProblemAsync(await http.GetAsync("/v1/conversations?limit=lots"), 400);
    }

    [Fact]
    public async Task Oversized_bodies_are_413_and_oversized_fields_are_400_with_nothing_stored()
    {
        var world = await server.NewWorldAsync();
        var conversation = (await ReadAsync(await world.Key.PostAsJsonAsync("/v1/conversations", new { userId = world.UserA, title = "c" }))).GetProperty("id").GetGuid();
        using var huge = new StringContent($$"""{"role":"user","content":"{{new string('x', 2 * 1024 * 1024)}}"}""", Encoding.UTF8, "application/json");
        await ProblemAsync(await world.Key.PostAsync($"/v1/conversations/{conversation}/messages", huge), 413);
        var title = await ProblemAsync(await world.Key.PutAsJsonAsync($"/v1/conversations/{conversation}/title", new { title = new string('t', 501) }), 400);
        Assert.Equal(("title", "max_length"), (title.GetProperty("field").GetString(), title.GetProperty("rule").GetString()));
        var domains = await ProblemAsync(await world.Key.PostAsJsonAsync($"/v1/conversations/{conversation}/messages",
            new { role = "user", content = "x", domains = Enumerable.Range(0, 101).Select(i => $"d{i}").ToArray() }), 400);
        Assert.Equal("domains", domains.GetProperty("field").GetString());
        var conv = await ReadAsync(await world.Key.GetAsync($"/v1/conversations/{conversation}"));
        Assert.Equal(("c", 0L), (conv.GetProperty("title").GetString(), conv.GetProperty("lastSeq").GetInt64()));
    }

    [Fact]
    public async Task Nul_and_lone_surrogates_in_json_bodies_are_400_and_nothing_is_stored()
    {
        var world = await server.NewWorldAsync();
        var http = world.SessionA;
        var conversation = (await ReadAsync(await http.PostAsJsonAsync("/v1/conversations", new { title = "c" }))).GetProperty("id").GetGuid();
        var message = (await ReadAsync(await http.PostAsJsonAsync($"/v1/conversations/{conversation}/messages",
            new { role = "assistant", status = "streaming", content = "ok" }))).GetProperty("id").GetGuid();
        // Raw JSON text: the escapes reach the server as written.
        (string Url, string Body)[] cases =
        [
            ($"/v1/conversations/{conversation}/messages", """{"role":"user","content":"a\u0000b"}"""),
            ($"/v1/conversations/{conversation}/messages", """{"role":"user","content":"a\ud800b"}"""),
            ($"/v1/conversations/{conversation}/messages", """{"role":"user","content":"x","metadata":{"k":"\udc00"}}"""),
            ($"/v1/conversations/{conversation}/messages", """{"role":"user","content":"x","metadata":{"k\u0000":1}}"""),
            ($"/v1/conversations/{conversation}/messages", """{"role":"user","content":"x","domains":["\ud83d"]}"""),
            ($"/v1/messages/{message}/chunks", """{"chunk":"\u0000"}"""),
            ($"/v1/messages/{message}/chunks", """{"chunk":"tail \udfff"}"""),
            ("/v1/conversations", """{"title":"\ud800"}"""),
            ("/v1/memories", """{"content":"nul \u0000 here"}"""),
            ("/v1/documents", """{"filename":"a\udc00.pdf"}"""),
            ("/v1/subjects", """{"kind":"dog","name":"x","attributes":{"\ud800":1}}"""),
            ("/v1/search-history", """{"query":"\u0000"}"""),
        ];
        foreach (var (url, body) in cases)
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            await ProblemAsync(await http.PostAsync(url, content), 400);
        }
        using (var patch = new StringContent("""{"preferences":{"a\u0000":1}}""", Encoding.UTF8, "application/merge-patch+json"))
            await ProblemAsync(await http.PatchAsync($"/v1/users/{world.UserA}/preferences", patch), 400);

        var history = await ReadAsync(await http.GetAsync($"/v1/conversations/{conversation}/messages"));
        Assert.Equal("ok", history.GetProperty("items").EnumerateArray().Single().GetProperty("content").GetString());
        Assert.Single((await ReadAsync(await http.GetAsync("/v1/conversations"))).GetProperty("items").EnumerateArray());
        foreach (var list in new[] { "/v1/memories", "/v1/documents", "/v1/subjects", "/v1/search-history" })
            Assert.Equal(0, (await ReadAsync(await http.GetAsync(list))).GetProperty("items").GetArrayLength());
        Assert.Equal("{}", (await ReadAsync(await http.GetAsync($"/v1/users/{world.UserA}/preferences"))).GetProperty("preferences").GetRawText());
    }

    [Fact]
    public async Task Auth_failures_are_401_or_403_problems_before_the_body_is_read()
    {
        var world = await server.NewWorldAsync();
        var conversation = (await ReadAsync(await world.SessionA.PostAsJsonAsync("/v1/conversations", new { title = "c" }))).GetProperty("id").GetGuid();
        using var none = server.As(null);
        using var junk = server.As("cs_sess_" + new string('A', 60));
        using var op = server.As(OperatorKey);
        foreach (var http in new[] { none, junk, op })
        {
            using var broken = new StringContent("{not json", Encoding.UTF8, "application/json");
            var response = await http.PostAsync($"/v1/conversations/{conversation}/messages", broken);
            await ProblemAsync(response, 401);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            await ProblemAsync(await http.GetAsync($"/v1/conversations/{conversation}/messages"), 401);
        }
        using (var broken = new StringContent("{not json", Encoding.UTF8, "application/json"))
            await ProblemAsync(await world.SessionA.PostAsync("/v1/sessions", broken), 403);
        await ProblemAsync(await world.Key.GetAsync("/v1/tenants"), 401);
        Assert.Equal(1, (await ReadAsync(await world.SessionA.GetAsync("/v1/conversations"))).GetProperty("items").GetArrayLength());
    }
}
