using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ChatStore.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ServiceTests(ServerFixture server)
{
    [Fact]
    public async Task Health_and_readiness_answer()
    {
        using var http = server.As(null);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        var ready = await ServerFixture.ReadAsync(await http.GetAsync("/readyz"));
        Assert.True(ready.GetProperty("healthy").GetBoolean());
        Assert.Equal(0, ready.GetProperty("pendingMigrations").GetInt32());
    }

    [Fact]
    public async Task Requests_without_valid_credentials_get_401_problem_details()
    {
        foreach (var token in new string?[] { null, "nonsense", "cs_key_AAAA", "cs_sess_" + new string('A', 64), "Bearer-less" })
        {
            using var http = server.As(token);
            var problem = await ServerFixture.ProblemAsync(await http.GetAsync("/v1/users"), 401);
            Assert.Equal(401, problem.GetProperty("status").GetInt32());
        }
        using var tenantOnly = (await server.NewTenantAsync()).Http;
        await ServerFixture.ProblemAsync(await tenantOnly.GetAsync("/v1/tenants"), 401);
    }

    [Fact]
    public async Task A_revoked_api_key_stops_working()
    {
        using var op = server.As(ServerFixture.OperatorKey);
        var tenantId = (await ServerFixture.ReadAsync(await op.PostAsJsonAsync("/v1/tenants", new { name = "r" }))).GetProperty("id").GetGuid();
        var key = await ServerFixture.ReadAsync(await op.PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = "k" }));
        using var http = server.As(key.GetProperty("secret").GetString());
        await ServerFixture.ReadAsync(await http.GetAsync("/v1/users"));
        var keys = await ServerFixture.ReadAsync(await op.GetAsync($"/v1/tenants/{tenantId}/api-keys"));
        Assert.DoesNotContain("secret", keys.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(1, keys.GetProperty("items").GetArrayLength());
        Assert.Equal(HttpStatusCode.NoContent, (await op.DeleteAsync($"/v1/tenants/{tenantId}/api-keys/{key.GetProperty("key").GetProperty("id").GetGuid()}")).StatusCode);
        await ServerFixture.ProblemAsync(await http.GetAsync("/v1/users"), 401);
    }

    [Fact]
    public async Task Validation_errors_are_400_problems_naming_field_and_rule()
    {
        var (_, http) = await server.NewTenantAsync(["student", "teacher"]);
        var problem = await ServerFixture.ProblemAsync(await http.PostAsJsonAsync("/v1/users", new { role = "wizard" }), 400);
        Assert.Equal("role", problem.GetProperty("field").GetString());
        Assert.Equal("enum", problem.GetProperty("rule").GetString());
        Assert.False(problem.TryGetProperty("stackTrace", out _));
    }

    [Fact]
    public async Task Nul_and_lone_surrogates_in_json_are_400_and_nothing_is_stored()
    {
        var (_, http) = await server.NewTenantAsync();
        foreach (var body in new[] { """{"name":"a\u0000b"}""", """{"name":"a\ud800b"}""", """{"info":{"k":"\udc00"}}""", """{"name":"ok","info":{"x\u0000":1}}""" })
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            await ServerFixture.ProblemAsync(await http.PostAsync("/v1/users", content), 400);
        }
        var list = await ServerFixture.ReadAsync(await http.GetAsync("/v1/users"));
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Malformed_json_is_400_and_an_oversized_body_is_413()
    {
        var (_, http) = await server.NewTenantAsync();
        using var broken = new StringContent("""{"name": """, Encoding.UTF8, "application/json");
        await ServerFixture.ProblemAsync(await http.PostAsync("/v1/users", broken), 400);
        using var huge = new StringContent($$"""{"name":"{{new string('x', 2 * 1024 * 1024)}}"}""", Encoding.UTF8, "application/json");
        await ServerFixture.ProblemAsync(await http.PostAsync("/v1/users", huge), 413);
    }

    [Fact]
    public async Task Idempotency_key_replays_the_original_response_and_rejects_a_different_body()
    {
        var (_, http) = await server.NewTenantAsync();
        using var first = new HttpRequestMessage(HttpMethod.Post, "/v1/users") { Content = JsonContent.Create(new { email = "idem@example.com" }) };
        first.Headers.Add("Idempotency-Key", "create-idem");
        var created = await ServerFixture.ReadAsync(await http.SendAsync(first));

        using var retry = new HttpRequestMessage(HttpMethod.Post, "/v1/users") { Content = JsonContent.Create(new { email = "idem@example.com" }) };
        retry.Headers.Add("Idempotency-Key", "create-idem");
        var replayed = await http.SendAsync(retry);
        Assert.Equal(HttpStatusCode.Created, replayed.StatusCode);
        Assert.Equal(created.GetProperty("id").GetGuid(), (await ServerFixture.ReadAsync(replayed)).GetProperty("id").GetGuid());

        using var other = new HttpRequestMessage(HttpMethod.Post, "/v1/users") { Content = JsonContent.Create(new { email = "other@example.com" }) };
        other.Headers.Add("Idempotency-Key", "create-idem");
        await ServerFixture.ProblemAsync(await http.SendAsync(other), 422);
        Assert.Equal(1, (await ServerFixture.ReadAsync(await http.GetAsync("/v1/users"))).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Mass_assignment_of_server_fields_is_refused_naming_the_field_and_nothing_is_stored()
    {
        var (_, http) = await server.NewTenantAsync();
        var (otherTenant, _) = await server.NewTenantAsync();
        var problem = await ServerFixture.ProblemAsync(await http.PostAsJsonAsync("/v1/users",
            new { email = "m@example.com", id = Guid.NewGuid(), tenantId = otherTenant, createdAt = "2000-01-01T00:00:00Z" }), 400);
        Assert.Equal(("id", "unknown_property"), (problem.GetProperty("field").GetString(), problem.GetProperty("rule").GetString()));
        var users = await ServerFixture.ReadAsync(await http.GetAsync("/v1/users"));
        Assert.Equal(0, users.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Strict_input_names_the_unknown_property_the_unknown_parameter_and_the_json_path_never_a_dotnet_type()
    {
        var (_, http) = await server.NewTenantAsync();

        var typo = await ServerFixture.ProblemAsync(await http.PostAsJsonAsync("/v1/users", new { emial = "a@b.c" }), 400);
        Assert.Equal(("emial", "unknown_property"), (typo.GetProperty("field").GetString(), typo.GetProperty("rule").GetString()));

        var filter = await ServerFixture.ProblemAsync(await http.GetAsync("/v1/conversations?organizationId=x"), 400);
        Assert.Equal(("organizationId", "unknown_parameter"), (filter.GetProperty("field").GetString(), filter.GetProperty("rule").GetString()));
        await ServerFixture.ProblemAsync(await http.GetAsync($"/v1/users?subjectId={Guid.NewGuid()}"), 400);

        var wrongType = await ServerFixture.ProblemAsync(await ServerFixture.SendAsync(http, HttpMethod.Post, "/v1/users", "{\"email\": 5}"), 400);
        Assert.Equal(("email", "type"), (wrongType.GetProperty("field").GetString(), wrongType.GetProperty("rule").GetString()));
        Assert.Equal("email must be a string.", wrongType.GetProperty("detail").GetString());

        var badQuery = await ServerFixture.ProblemAsync(await http.GetAsync("/v1/users?limit=abc"), 400);
        Assert.Equal(("limit", "format"), (badQuery.GetProperty("field").GetString(), badQuery.GetProperty("rule").GetString()));

        var noText = await ServerFixture.ProblemAsync(await http.PostAsJsonAsync("/v1/search/full-text", new { limit = 5 }), 400);
        Assert.Equal(("text", "required"), (noText.GetProperty("field").GetString(), noText.GetProperty("rule").GetString()));

        foreach (var problem in new[] { typo, filter, wrongType, badQuery, noText })
        {
            Assert.DoesNotContain("ChatStore.", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain("System.", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.False(string.IsNullOrEmpty(problem.GetProperty("traceId").GetString()));
        }

        var unknownRoute = await ServerFixture.ProblemAsync(await http.GetAsync("/v1/nothing-here"), 404);
        Assert.Contains("matches no ChatStore route", unknownRoute.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await ServerFixture.ProblemAsync(await http.GetAsync("/v1/users/not-a-uuid"), 404);
    }

    [Fact]
    public async Task The_openapi_document_describes_every_mapped_route()
    {
        using var http = server.As(null);
        var doc = await ServerFixture.ReadAsync(await http.GetAsync("/openapi/v1.json"));
        Assert.StartsWith("3.1", doc.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = doc.GetProperty("paths");
        var endpoints = server.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/v1", StringComparison.Ordinal) || e.RoutePattern.RawText!.StartsWith("/healthz", StringComparison.Ordinal) || e.RoutePattern.RawText!.StartsWith("/readyz", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(endpoints);
        foreach (var endpoint in endpoints)
        {
            var path = "/" + string.Join('/', endpoint.RoutePattern.PathSegments.Select(s => string.Concat(s.Parts.Select(p => p switch
            {
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart l => l.Content,
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart p2 => "{" + p2.Name + "}",
                _ => "",
            }))));
            var method = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Single().ToLowerInvariant();
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is not in the OpenAPI document");
            Assert.True(item.TryGetProperty(method, out var operation), $"{method} {path} is not in the OpenAPI document");
            Assert.True(operation.TryGetProperty("summary", out _), $"{method} {path} has no summary");
            Assert.True(operation.TryGetProperty("operationId", out _), $"{method} {path} has no name");
            if (path.StartsWith("/v1", StringComparison.Ordinal))
            {
                var responses = operation.GetProperty("responses");
                Assert.True(responses.EnumerateObject().Any(r => r.Name.StartsWith('2')), $"{method} {path} describes no success response");
                Assert.True(responses.TryGetProperty("400", out var bad) && bad.GetProperty("content").TryGetProperty("application/problem+json", out _),
                    $"{method} {path} describes no problem details");
            }
        }
    }
}

public sealed class LowRateLimitFixture : ServerFixture
{
    public LowRateLimitFixture() => RateLimitPerSecond = 3;
}

public sealed class RateLimitTests(LowRateLimitFixture server) : IClassFixture<LowRateLimitFixture>
{
    [Fact]
    public async Task A_noisy_tenant_gets_429_with_retry_after_and_another_tenant_is_not_starved()
    {
        var (_, noisy) = await server.NewTenantAsync();
        var (_, quiet) = await server.NewTenantAsync();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 20 && limited is null; i++)
        {
            var r = await noisy.GetAsync("/v1/users");
            if (r.StatusCode == HttpStatusCode.TooManyRequests) limited = r;
        }
        Assert.NotNull(limited);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        await ServerFixture.ProblemAsync(limited, 429);
        await ServerFixture.ReadAsync(await quiet.GetAsync("/v1/users"));
    }
}
