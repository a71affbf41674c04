using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using static ChatStore.Server.Tests.ServerFixture;

namespace ChatStore.Server.Tests;

/// <summary>
/// Broken object level authorisation: two tenants × two users, tenant keys and session tokens, every
/// route that takes an id, aimed at user A's resources in tenant 1 by user B's session (same tenant),
/// tenant 2's key and tenant 2's user's session. Every answer is 404 (403 where the route refuses
/// sessions by design) and carries none of A's content; afterwards A's data is unchanged and every
/// route works for A (so the 404s are not typos). Run against the service as the application role, and as a role
/// that bypasses row-level security (<see cref="BolaWithoutRowLevelSecurityTests"/>).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class BolaTests(ServerFixture server) : BolaChecks(server);

/// <summary>
/// <see cref="BolaTests"/> with the service acting as a role that bypasses row-level security: every answer is
/// still 404 with none of A's content, so no statement leaves its tenant to the policies.
/// </summary>
public sealed class BolaWithoutRowLevelSecurityTests(BypassRlsServerFixture server) : BolaChecks(server), IClassFixture<BypassRlsServerFixture>;

/// <summary>The checks of <see cref="BolaTests"/>, against a service fixture.</summary>
public abstract class BolaChecks(ServerFixture server)
{
    sealed record Route(string Method, string Url, object? Body = null, bool KeyOnly = false);

    [Fact]
    public async Task Foreign_ids_are_404_with_no_foreign_content_for_every_route_and_caller()
    {
        var one = await server.NewWorldAsync();
        var two = await server.NewWorldAsync();
        var secret = $"SECRET-{Guid.NewGuid():N}";
        var a = one.SessionA;
        var userA = one.UserA;

        // A's resources, each carrying the secret.
        var subject = Id(await ReadAsync(await a.PostAsJsonAsync("/v1/subjects", new { kind = "dog", name = secret, attributes = new { note = secret } })));
        var conversation = Id(await ReadAsync(await a.PostAsJsonAsync("/v1/conversations", new { title = secret, subjectId = subject, metadata = new { s = secret } })));
        var m1 = Id(await ReadAsync(await a.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { role = "user", content = secret })));
        var m2 = Id(await ReadAsync(await a.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { role = "assistant", content = secret, status = "streaming" })));
        var m3 = Id(await ReadAsync(await a.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { role = "assistant", content = secret, status = "streaming" })));
        var share = (await ReadAsync(await a.PostAsJsonAsync($"/v1/conversations/{conversation}/shares", new { }))).GetProperty("share").GetProperty("id").GetGuid();
        var memory = (await ReadAsync(await a.PostAsJsonAsync("/v1/memories",
            new { content = secret, sources = new[] { new { conversationId = conversation, messageId = m1 } } }))).GetProperty("memory").GetProperty("id").GetGuid();
        var d1 = Id(await ReadAsync(await a.PostAsJsonAsync("/v1/documents", new { filename = secret, conversationId = conversation })));
        var d2 = Id(await ReadAsync(await a.PostAsJsonAsync("/v1/documents", new { filename = secret })));
        await ReadAsync(await a.PutAsJsonAsync($"/v1/documents/{d1}/text", new { text = secret }));
        await ReadAsync(await a.PostAsJsonAsync($"/v1/documents/{d1}/analyses", new { summary = secret, category = secret }));
        var due = DateTimeOffset.UtcNow.AddDays(1);
        var r1 = Id(await ReadAsync(await a.PostAsJsonAsync("/v1/reminders", new { title = secret, dueAt = due, conversationId = conversation })));
        var r2 = Id(await ReadAsync(await a.PostAsJsonAsync("/v1/reminders", new { title = secret, dueAt = due })));
        await ReadAsync(await a.PutAsJsonAsync($"/v1/messages/{m1}/feedback/{userA}", new { rating = "like", comment = secret }));
        await ReadAsync(await a.PostAsJsonAsync($"/v1/messages/{m1}/corrections", new { correctedContent = secret, reason = secret }));
        await ReadAsync(await a.PostAsJsonAsync($"/v1/messages/{m1}/documents", new { documentIds = new[] { d1 } }));
        await ReadAsync(await a.PatchAsJsonAsync($"/v1/users/{userA}/preferences", new { preferences = new { s = secret } }));
        await ReadAsync(await a.PostAsJsonAsync("/v1/search-history", new { query = secret }));
        await ReadAsync(await a.PostAsJsonAsync("/v1/usage", new { action = "chat", model = secret, metadata = new { s = secret } }));
        await ReadAsync(await one.Key.PostAsJsonAsync($"/v1/users/{userA}/credits/grant", new { amount = 10 }));
        var cacheKey = $"k/{Guid.NewGuid():N}";
        await ReadAsync(await one.Key.PutAsJsonAsync($"/v1/cache/{cacheKey}", new { value = new { s = secret }, userId = userA }));

        var emailA = (await ReadAsync(await a.GetAsync($"/v1/users/{userA}"))).GetProperty("email").GetString()!;
        var externalId = $"ext-{Guid.NewGuid():N}";
        var userC = Id(await ReadAsync(await one.Key.PostAsJsonAsync("/v1/users", new { email = $"x{Guid.NewGuid():N}@example.com", externalId })));
        var tokenA = a.DefaultRequestHeaders.Authorization!.Parameter!;
        var space = $"bola-{Guid.NewGuid():N}"[..30];
        using (var op = server.As(OperatorKey))
            await ReadAsync(await op.PostAsJsonAsync("/v1/embedding-spaces", new { name = space, model = "m", dimensions = 3 }));
        await ReadAsync(await one.Key.PutAsJsonAsync($"/v1/embeddings/{space}/message/{m1}", new { vector = new[] { 1f, 0f, 0f } }));

        var from = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(-1).ToString("O"));
        var to = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(1).ToString("O"));
        var routes = new List<Route>
        {
            // Reads.
            new("GET", $"/v1/users/{userA}"),
            new("GET", $"/v1/conversations/{conversation}"),
            new("GET", $"/v1/conversations?userId={userA}"),
            new("GET", $"/v1/conversations/{conversation}/messages"),
            new("GET", $"/v1/conversations/{conversation}/shares"),
            new("GET", $"/v1/messages/{m1}"),
            new("GET", $"/v1/messages/{m1}/feedback"),
            new("GET", $"/v1/messages/{m1}/feedback/{userA}"),
            new("GET", $"/v1/messages/{m1}/corrections"),
            new("GET", $"/v1/messages/{m1}/documents"),
            new("GET", $"/v1/memories/{memory}"),
            new("GET", $"/v1/memories?userId={userA}"),
            new("GET", $"/v1/memories/{memory}/history"),
            new("GET", $"/v1/memories/{memory}/sources"),
            new("GET", $"/v1/documents/{d1}"),
            new("GET", $"/v1/documents?userId={userA}"),
            new("GET", $"/v1/documents/{d1}/text"),
            new("GET", $"/v1/documents/{d1}/analyses"),
            new("GET", $"/v1/documents/{d1}/analyses/latest"),
            new("GET", $"/v1/documents/{d1}/analyses/1"),
            new("GET", $"/v1/subjects/{subject}"),
            new("GET", $"/v1/subjects?userId={userA}"),
            new("GET", $"/v1/users/{userA}/preferences"),
            new("GET", $"/v1/reminders/{r1}"),
            new("GET", $"/v1/reminders?userId={userA}"),
            new("GET", $"/v1/users/{userA}/credits"),
            new("GET", $"/v1/search-history?userId={userA}"),
            new("GET", $"/v1/usage/totals?userId={userA}&from={from}&to={to}&groupBy=model"),
            new("GET", $"/v1/sessions?userId={userA}"),
            new("GET", $"/v1/cache/{cacheKey}", KeyOnly: true),
            new("GET", $"/v1/users/by-email/{Uri.EscapeDataString(emailA)}", KeyOnly: true),
            new("GET", $"/v1/users/by-external-id/{externalId}", KeyOnly: true),
            new("GET", $"/v1/embeddings/{space}/message/{m1}", KeyOnly: true),
            new("GET", $"/v1/users/{userA}/export"),
            new("POST", "/v1/sessions/validate", new { token = tokenA }, KeyOnly: true),
            new("POST", "/v1/search/full-text", new { text = "x", userId = userA }),
            new("POST", "/v1/search/full-text", new { text = "x", conversationId = conversation }),
            new("POST", "/v1/search/vector", new { space, vector = new[] { 1f, 0f, 0f }, userId = userA }),
            new("POST", "/v1/search/hybrid", new { space, text = "x", vector = new[] { 1f, 0f, 0f }, userId = userA }),
            // Writes that keep the resource.
            new("PUT", $"/v1/cache/{cacheKey}-2", new { value = 1, userId = userA }, KeyOnly: true),
            new("PUT", $"/v1/embeddings/{space}/message/{m1}", new { vector = new[] { 0f, 1f, 0f } }, KeyOnly: true),
            new("POST", $"/v1/users/{userA}/logins", KeyOnly: true),
            new("POST", "/v1/conversations", new { userId = userA, title = "x" }),
            new("POST", "/v1/subjects", new { userId = userA, kind = "dog", name = "x" }),
            new("POST", "/v1/memories", new { userId = userA, content = "another memory" }),
            new("POST", "/v1/documents", new { userId = userA, filename = "x.pdf" }),
            new("POST", "/v1/reminders", new { userId = userA, title = "x", dueAt = due }),
            new("POST", "/v1/search-history", new { userId = userA, query = "x" }),
            new("POST", "/v1/usage", new { userId = userA, action = "chat" }),
            new("POST", "/v1/sessions", new { userId = userA }, KeyOnly: true),
            new("POST", $"/v1/users/{userA}/credits/grant", new { amount = 1 }, KeyOnly: true),
            new("POST", $"/v1/users/{userA}/credits/debit", new { amount = 1 }),
            new("POST", $"/v1/conversations/{conversation}/messages", new { role = "user", content = "x" }),
            new("PUT", $"/v1/conversations/{conversation}/title", new { title = "x" }),
            new("PATCH", $"/v1/conversations/{conversation}/metadata", new { k = 1 }),
            new("PUT", $"/v1/conversations/{conversation}/metadata", new { k = 2 }),
            new("POST", $"/v1/conversations/{conversation}/archive"),
            new("POST", $"/v1/conversations/{conversation}/unarchive"),
            new("POST", $"/v1/conversations/{conversation}/pin"),
            new("POST", $"/v1/conversations/{conversation}/unpin"),
            new("PUT", $"/v1/conversations/{conversation}/mode", new { mode = "tutor", state = new { step = 1 } }),
            new("PUT", $"/v1/conversations/{conversation}/subject", new { subjectId = subject }),
            new("POST", $"/v1/conversations/{conversation}/shares", new { }),
            new("POST", $"/v1/conversations/{conversation}/restore"),
            new("POST", $"/v1/messages/{m2}/chunks", new { chunk = "x" }),
            new("POST", $"/v1/messages/{m2}/complete", new { }),
            new("POST", $"/v1/messages/{m3}/fail", new { error = "x" }),
            new("PATCH", $"/v1/messages/{m1}", new { content = "edited" }),
            new("POST", $"/v1/messages/{m1}/regenerate", new { content = "again" }),
            new("POST", $"/v1/messages/{m1}/restore"),
            new("PUT", $"/v1/messages/{m1}/feedback/{userA}", new { rating = "dislike" }),
            new("POST", $"/v1/messages/{m1}/corrections", new { userId = userA, correctedContent = "x" }),
            new("POST", $"/v1/messages/{m1}/documents", new { documentIds = new[] { d1 } }),
            new("POST", $"/v1/memories/{memory}/sources", new { conversationId = conversation }),
            new("POST", $"/v1/documents/{d1}/processing"),
            new("POST", $"/v1/documents/{d1}/ready", new { }),
            new("POST", $"/v1/documents/{d2}/processing"),
            new("POST", $"/v1/documents/{d2}/failed", new { error = "x" }),
            new("PUT", $"/v1/documents/{d1}/text", new { text = "x" }),
            new("POST", $"/v1/documents/{d1}/analyses", new { summary = "x" }),
            new("PATCH", $"/v1/subjects/{subject}", new { name = "x" }),
            new("PATCH", $"/v1/users/{userA}/preferences", new { preferences = new { x = 1 } }),
            new("PUT", $"/v1/users/{userA}/preferences", new { preferences = new { x = 2 } }),
            new("PATCH", $"/v1/reminders/{r1}", new { title = "x" }),
            new("POST", $"/v1/reminders/{r1}/cancel"),
            new("POST", $"/v1/reminders/{r2}/complete"),
            new("PATCH", $"/v1/users/{userA}", new { name = "x" }),
            new("PATCH", $"/v1/memories/{memory}", new { importance = 0.9 }),
            new("POST", "/v1/sessions/revoke-all", new { userId = userA, keepCurrent = true }),
            // Deletes.
            new("DELETE", $"/v1/embeddings/{space}/message/{m1}", KeyOnly: true),
            new("DELETE", $"/v1/messages/{m1}/feedback/{userA}"),
            new("DELETE", $"/v1/messages/{m1}"),
            new("DELETE", $"/v1/memories/{memory}"),
            new("DELETE", $"/v1/documents/{d1}"),
            new("DELETE", $"/v1/subjects/{subject}"),
            new("DELETE", $"/v1/reminders/{r1}"),
            new("DELETE", $"/v1/shares/{share}"),
            new("DELETE", $"/v1/search-history?userId={userA}"),
            new("DELETE", $"/v1/cache/{cacheKey}", KeyOnly: true),
            new("DELETE", $"/v1/conversations/{conversation}"),
            new("DELETE", $"/v1/conversations/{conversation}?permanent=true"),
            new("DELETE", $"/v1/sessions/{one.SessionAId}"),
            new("POST", $"/v1/users/{userA}/erase", KeyOnly: true),
            new("DELETE", $"/v1/users/{userC}", KeyOnly: true),
        };

        AssertEveryRouteHasACase(routes);

        // A's ids that a route does not name must not come back either (say, the conversation of a message).
        Guid[] ids = [userA, one.SessionAId, subject, conversation, m1, m2, m3, share, memory, d1, d2, r1, r2];
        var attackers = new (string Name, HttpClient Http, bool IsSession)[]
        {
            ("tenant 1, user B's session", one.SessionB, true),
            ("tenant 2's API key", two.Key, false),
            ("tenant 2, user A's session", two.SessionA, true),
        };
        foreach (var (name, http, isSession) in attackers)
        {
            foreach (var route in routes)
            {
                var response = await SendAsync(http, new HttpMethod(route.Method), route.Url, route.Body);
                var text = await response.Content.ReadAsStringAsync();
                var expected = route.KeyOnly && isSession ? HttpStatusCode.Forbidden : HttpStatusCode.NotFound;
                Assert.True(response.StatusCode == expected, $"{name}: {route.Method} {route.Url} → {(int)response.StatusCode}, expected {(int)expected}: {text}");
                Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
                var named = route.Url + JsonSerializer.Serialize(route.Body);
                foreach (var id in ids.Where(id => !named.Contains(id.ToString(), StringComparison.Ordinal)))
                    Assert.DoesNotContain(id.ToString(), text, StringComparison.OrdinalIgnoreCase);
            }
        }

        // Nothing of A's changed.
        var conv = await ReadAsync(await a.GetAsync($"/v1/conversations/{conversation}"));
        Assert.Equal(secret, conv.GetProperty("title").GetString());
        Assert.Equal("active", conv.GetProperty("status").GetString());
        Assert.False(conv.GetProperty("pinned").GetBoolean());
        Assert.Equal(3, conv.GetProperty("messageCount").GetInt32());
        Assert.Equal(secret, (await ReadAsync(await a.GetAsync($"/v1/messages/{m1}"))).GetProperty("content").GetString());
        var streaming = await ReadAsync(await a.GetAsync($"/v1/messages/{m2}"));
        Assert.Equal(("streaming", secret), (streaming.GetProperty("status").GetString(), streaming.GetProperty("content").GetString()));
        Assert.Equal(JsonValueKind.Null, (await ReadAsync(await a.GetAsync($"/v1/memories/{memory}"))).GetProperty("supersededBy").ValueKind);
        Assert.Equal("pending", (await ReadAsync(await a.GetAsync($"/v1/documents/{d1}"))).GetProperty("status").GetString());
        Assert.Equal("pending", (await ReadAsync(await a.GetAsync($"/v1/reminders/{r1}"))).GetProperty("status").GetString());
        Assert.Equal(secret, (await ReadAsync(await a.GetAsync($"/v1/subjects/{subject}"))).GetProperty("name").GetString());
        Assert.Equal(secret, (await ReadAsync(await a.GetAsync($"/v1/messages/{m1}/feedback/{userA}"))).GetProperty("comment").GetString());
        Assert.Equal(10m, (await ReadAsync(await a.GetAsync($"/v1/users/{userA}/credits"))).GetProperty("credits").GetDecimal());
        Assert.Equal(secret, (await ReadAsync(await a.GetAsync($"/v1/users/{userA}/preferences"))).GetProperty("preferences").GetProperty("s").GetString());
        Assert.Equal(1, (await ReadAsync(await a.GetAsync("/v1/search-history"))).GetProperty("items").GetArrayLength());
        Assert.Single((await ReadAsync(await a.GetAsync("/v1/conversations"))).GetProperty("items").EnumerateArray());
        Assert.Single((await ReadAsync(await a.GetAsync("/v1/sessions"))).GetProperty("items").EnumerateArray());

        // Every route works for its owner (the tenant key for key-only routes), in order: the URLs are right.
        foreach (var route in routes)
        {
            var response = await SendAsync(route.KeyOnly ? one.Key : a, new HttpMethod(route.Method), route.Url, route.Body);
            Assert.True(response.IsSuccessStatusCode, $"owner: {route.Method} {route.Url} → {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task A_session_naming_another_user_in_a_body_or_query_is_404_and_a_tenant_key_must_name_one()
    {
        var world = await server.NewWorldAsync();
        await ProblemAsync(await world.SessionA.PostAsJsonAsync("/v1/conversations", new { userId = world.UserB, title = "x" }), 404);
        await ProblemAsync(await world.SessionA.GetAsync($"/v1/memories?userId={world.UserB}"), 404);
        // Its own id, or none, is the same thing.
        var own = await ReadAsync(await world.SessionA.PostAsJsonAsync("/v1/conversations", new { userId = world.UserA, title = "mine" }));
        Assert.Equal(world.UserA, own.GetProperty("userId").GetGuid());
        var problem = await ProblemAsync(await world.Key.PostAsJsonAsync("/v1/conversations", new { title = "whose?" }), 400);
        Assert.Equal("userId", problem.GetProperty("field").GetString());
        // Nothing was created for B.
        Assert.Equal(0, (await ReadAsync(await world.SessionB.GetAsync("/v1/conversations"))).GetProperty("items").GetArrayLength());
    }

    static Guid Id(JsonElement e) => e.GetProperty("id").GetGuid();

    /// <summary>
    /// Routes of the application that take no id of a tenant's object, so no foreign id can be aimed at them,
    /// with the reason. Every other route must have a case above: a new route fails this test until it has one.
    /// </summary>
    static readonly Dictionary<string, string> NoForeignId = new()
    {
        ["POST /v1/tenants/"] = "operator route: tenant keys and sessions get 403",
        ["GET /v1/tenants/"] = "operator route",
        ["GET /v1/tenants/{tenantId:guid}"] = "operator route",
        ["PATCH /v1/tenants/{tenantId:guid}"] = "operator route",
        ["DELETE /v1/tenants/{tenantId:guid}"] = "operator route",
        ["POST /v1/tenants/{tenantId:guid}/api-keys"] = "operator route",
        ["GET /v1/tenants/{tenantId:guid}/api-keys"] = "operator route",
        ["DELETE /v1/tenants/{tenantId:guid}/api-keys/{keyId:guid}"] = "operator route",
        ["POST /v1/embedding-spaces/"] = "operator route; spaces are shared by every tenant",
        ["GET /v1/embedding-spaces/"] = "spaces are shared by every tenant",
        ["GET /v1/embedding-spaces/{space}"] = "spaces are shared by every tenant",
        ["DELETE /v1/embedding-spaces/{space}"] = "operator route",
        ["POST /v1/users/"] = "creates a user in the caller's tenant; names no other object",
        ["GET /v1/users/"] = "lists the caller's tenant",
        ["GET /v1/sessions/me"] = "the caller's own session",
        ["GET /v1/shared/{token}"] = "anonymous: the share token is the capability (ConversationShareTests)",
        ["POST /v1/reminders/claim-due"] = "claims the caller's tenant's due reminders; names no object",
        ["POST /v1/users/import"] = "imports rows into the caller's tenant as new rows (ExportApiTests)",
        ["POST /v1/retention/purge"] = "purges the caller's tenant; names no object",
    };

    void AssertEveryRouteHasACase(List<Route> routes)
    {
        var endpoints = server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => (Method: m, Pattern: e.RoutePattern)))
            .Where(e => e.Pattern.RawText?.StartsWith("/v1", StringComparison.Ordinal) == true)
            .ToList();
        Assert.NotEmpty(endpoints);
        var missing = endpoints
            .Select(e => (Name: $"{e.Method} {e.Pattern.RawText}", e.Method, Regex: Matcher(e.Pattern)))
            .Where(e => !NoForeignId.ContainsKey(e.Name) && !routes.Any(r => r.Method == e.Method && e.Regex.IsMatch(r.Url.Split('?')[0])))
            .Select(e => e.Name)
            .ToList();
        Assert.True(missing.Count == 0, "Routes with no foreign-id case (add one above, or to NoForeignId with the reason):\n" + string.Join("\n", missing));
    }

    // The route pattern as a regular expression over a path: literals as they are, a parameter as one segment, a catch-all as the rest.
    static Regex Matcher(RoutePattern pattern)
    {
        var parts = pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => Regex.Escape(literal.Content),
            RoutePatternParameterPart { IsCatchAll: true } => ".+",
            RoutePatternParameterPart => "[^/]+",
            _ => Regex.Escape(part.ToString() ?? ""),
        })));
        return new Regex("^/" + string.Join("/", parts) + "/?$", RegexOptions.CultureInvariant);
    }
}
