using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ChatStore.Server.Tests;

/// <summary>
/// Validates every response the tests receive against the schema the OpenAPI document declares for its
/// operation, status and media type; a body that does not match, or a status the operation does not declare,
/// fails the request (and so the test) with the path of the mismatch. The validator covers the subset of JSON
/// Schema 2020-12 the document uses: $ref, type (with null), properties, required, additionalProperties, items,
/// enum, const, oneOf/anyOf/allOf, and the uuid and date-time formats.
/// </summary>
public sealed class ContractCheck(Func<HttpClient> documentClient) : DelegatingHandler
{
    // The document is the same for every server of the test run: read it once.
    static readonly object Gate = new();
    static Task<Contract>? s_contract;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var path = request.RequestUri!.AbsolutePath;
        if (path.StartsWith("/openapi/", StringComparison.Ordinal))
            return response;
        Task<Contract> loading;
        lock (Gate)
            loading = s_contract ??= Contract.LoadAsync(documentClient());
        var contract = await loading;
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var problems = contract.Check(request.Method.Method, path, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body);
        if (problems is not null)
            throw new ContractViolationException($"{request.Method} {path} → {(int)response.StatusCode}: {problems}\nbody: {Truncate(body)}");
        return response;
    }

    static string Truncate(string s) => s.Length > 600 ? s[..600] + "…" : s;

    sealed class Contract(JsonNode document, List<(string Method, Regex Path, string Template, JsonNode Operation)> operations)
    {
        public static async Task<Contract> LoadAsync(HttpClient http)
        {
            var document = JsonNode.Parse(await http.GetStringAsync("/openapi/v1.json"))!;
            var operations = new List<(string, Regex, string, JsonNode)>();
            foreach (var (template, item) in document["paths"]!.AsObject())
            {
                // A parameter is one segment; the last one may be a catch-all (the cache's keys hold slashes).
                var pattern = "^" + Regex.Replace(Regex.Replace(Regex.Escape(template), @"\\\{[^}]+}$", ".+"), @"\\\{[^}]+}", "[^/]+") + "/?$";
                foreach (var (method, operation) in item!.AsObject())
                    operations.Add((method.ToUpperInvariant(), new Regex(pattern, RegexOptions.CultureInvariant), template, operation!));
            }
            // Literal segments win over parameters (by-email before {userId}).
            operations.Sort((a, b) => b.Item3.Count(c => c != '{').CompareTo(a.Item3.Count(c => c != '{')));
            return new Contract(document, operations);
        }

        public string? Check(string method, string path, int status, string? mediaType, string body)
        {
            var match = operations.FirstOrDefault(o => o.Method == method && o.Path.IsMatch(path));
            if (match.Operation is null)
                return status == 404 ? null : "no operation of the document matches this request";
            var responses = match.Operation["responses"]?.AsObject();
            var declared = responses?[status.ToString(CultureInfo.InvariantCulture)] ?? responses?[$"{status / 100}XX"] ?? responses?["default"];
            if (declared is null)
                return $"{match.Template} declares no {status} response (it declares {string.Join(", ", responses?.Select(r => r.Key) ?? [])})";
            var content = declared["content"]?.AsObject();
            if (content is null || content.Count == 0)
                return body.Length == 0 ? null : "the document declares no body for this status, but one came";
            if (mediaType is null)
                return body.Length == 0 ? "the document declares a body, but none came" : "the response has no Content-Type";
            var media = content[mediaType];
            if (media is null)
                return $"Content-Type {mediaType} is not declared (declared: {string.Join(", ", content.Select(c => c.Key))})";
            if (!mediaType.Contains("json", StringComparison.Ordinal) || mediaType.Contains("ndjson", StringComparison.Ordinal))
                return null;
            var schema = media["schema"];
            if (schema is null)
                return null;
            var errors = new List<string>();
            Validate(JsonNode.Parse(body), schema, "$", errors);
            return errors.Count == 0 ? null : string.Join("; ", errors.Take(5));
        }

        void Validate(JsonNode? value, JsonNode schema, string at, List<string> errors)
        {
            if (schema is JsonValue boolean && boolean.TryGetValue<bool>(out var allowed))
            {
                if (!allowed) errors.Add($"{at}: no value is allowed here");
                return;
            }
            var s = schema.AsObject();
            if (s["$ref"]?.GetValue<string>() is { } reference)
            {
                Validate(value, Resolve(reference), at, errors);
                return;
            }
            if (s["oneOf"] is JsonArray oneOf)
            {
                var passing = oneOf.Count(option => Passes(value, option!, at));
                if (passing != 1) errors.Add($"{at}: matches {passing} of the oneOf schemas, not exactly one");
            }
            if (s["anyOf"] is JsonArray anyOf && !anyOf.Any(option => Passes(value, option!, at)))
                errors.Add($"{at}: matches none of the anyOf schemas");
            if (s["allOf"] is JsonArray allOf)
                foreach (var part in allOf) Validate(value, part!, at, errors);
            if (s["const"] is { } constant && !JsonNode.DeepEquals(constant, value))
                errors.Add($"{at}: must be {constant.ToJsonString()}");
            if (s["enum"] is JsonArray values && !values.Any(v => JsonNode.DeepEquals(v, value)))
                errors.Add($"{at}: {value?.ToJsonString() ?? "null"} is not one of {values.ToJsonString()}");
            if (s["type"] is { } type)
            {
                var types = type is JsonArray list ? list.Select(t => t!.GetValue<string>()).ToArray() : [type.GetValue<string>()];
                var actual = TypeOf(value);
                if (!types.Contains(actual) && !(actual == "integer" && types.Contains("number")))
                {
                    errors.Add($"{at}: is {actual}, the document says {string.Join(" or ", types)}");
                    return;
                }
            }
            switch (value)
            {
                case JsonObject obj:
                    var properties = s["properties"]?.AsObject();
                    foreach (var required in s["required"]?.AsArray() ?? [])
                        if (!obj.ContainsKey(required!.GetValue<string>())) errors.Add($"{at}: lacks the required property {required}");
                    foreach (var (name, child) in obj)
                    {
                        if (properties?[name] is { } propertySchema)
                            Validate(child, propertySchema, $"{at}.{name}", errors);
                        else if (s["additionalProperties"] is { } additional)
                            Validate(child, additional, $"{at}.{name}", errors);
                    }
                    break;
                case JsonArray array when s["items"] is { } items:
                    for (var i = 0; i < array.Count; i++) Validate(array[i], items, $"{at}[{i}]", errors);
                    break;
                case JsonValue v when v.GetValueKind() == JsonValueKind.String && s["format"]?.GetValue<string>() is { } format:
                    var text = v.GetValue<string>();
                    if ((format == "uuid" && !Guid.TryParse(text, out _)) || (format == "date-time" && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, out _)))
                        errors.Add($"{at}: \"{text}\" is not a {format}");
                    break;
            }
        }

        bool Passes(JsonNode? value, JsonNode schema, string at)
        {
            var errors = new List<string>();
            Validate(value, schema, at, errors);
            return errors.Count == 0;
        }

        JsonNode Resolve(string reference)
        {
            JsonNode node = document;
            foreach (var part in reference.TrimStart('#', '/').Split('/'))
                node = node[part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)]
                    ?? throw new ContractViolationException($"the document has no {reference}");
            return node;
        }

        static string TypeOf(JsonNode? value) => value switch
        {
            null => "null",
            JsonObject => "object",
            JsonArray => "array",
            JsonValue v => v.GetValueKind() switch
            {
                JsonValueKind.String => "string",
                JsonValueKind.Number => v.TryGetValue<long>(out _) || (v.TryGetValue<double>(out var d) && Math.Floor(d) == d) ? "integer" : "number",
                JsonValueKind.True or JsonValueKind.False => "boolean",
                _ => "null",
            },
            _ => "unknown",
        };
    }
}

/// <summary>A response that does not match the OpenAPI document.</summary>
public sealed class ContractViolationException(string message) : Exception(message);

[Collection(ServerCollection.Name)]
public sealed class ContractCheckTests(ServerFixture server)
{
    [Fact]
    public async Task A_body_that_breaks_the_declared_schema_or_an_undeclared_status_fails_the_request()
    {
        var wrongType = await Assert.ThrowsAsync<ContractViolationException>(() => Canned(HttpStatusCode.OK, "{\"status\": 5}").GetAsync("/healthz"));
        Assert.Contains("$.status: is integer, the document says string", wrongType.Message, StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<ContractViolationException>(() => Canned(HttpStatusCode.OK, "{}").GetAsync("/healthz"));
        Assert.Contains("lacks the required property status", missing.Message, StringComparison.Ordinal);

        var undeclared = await Assert.ThrowsAsync<ContractViolationException>(() => Canned(HttpStatusCode.Conflict, "{}").GetAsync("/healthz"));
        Assert.Contains("declares no 409 response", undeclared.Message, StringComparison.Ordinal);

        var ok = await Canned(HttpStatusCode.OK, "{\"status\": \"up\"}").GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    HttpClient Canned(HttpStatusCode status, string body) =>
        new(new ContractCheck(server.CreateClient) { InnerHandler = new CannedResponse(status, body) }) { BaseAddress = new Uri("http://localhost") };

    sealed class CannedResponse(HttpStatusCode status, string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"), RequestMessage = request });
    }
}
