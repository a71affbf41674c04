using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using ChatStore.Connection;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ChatStore.Server.Hosting;

/// <summary>
/// Turns every error into RFC 9457 problem details: validation and malformed input → 400 naming the
/// <c>field</c> (a JSON path or parameter name) and the <c>rule</c>, not found → 404, conflict → 409,
/// oversized → 413, a database that is down, starting, shutting down or out of connections → 503 with
/// <c>Retry-After</c>. Anything else is a 500 with no internals, and is a bug: only those log a stack trace.
/// </summary>
internal sealed partial class ProblemMapping(IProblemDetailsService problems, ILogger<ProblemMapping> logger) : IExceptionHandler
{
    /// <summary>The <c>Retry-After</c> seconds of a 503 for a database outage.</summary>
    public const int OutageRetryAfterSeconds = 5;

    /// <summary>The <see cref="HttpContext.Items"/> key under which the reason for a failed request is kept for the request log.</summary>
    public const string ReasonKey = "chatstore.problem";

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            ChatStoreValidationException v => Problem(400, "Invalid input", v.Message, ("field", v.Field), ("rule", v.Rule)),
            ChatStoreNotFoundException n => Problem(404, "Not found", n.Message),
            ChatStoreConflictException c => Problem(409, "Conflict", c.Message),
            ChatStoreMigrationConflictException or ChatStoreConfigurationException =>
                Problem(503, "Service unavailable", $"ChatStore is not configured correctly: {DatabaseUrl.MaskSecrets(exception.Message)}"),
            RequestBodyTooLargeException t => Problem(413, "Request too large", t.Message),
            ChatStorePermissionException p => Problem(403, "Needs the schema owner", p.Message, ("requiredRole", p.RequiredRole ?? "")),
            BadHttpRequestException { StatusCode: 413 } => Problem(413, "Request too large", "The request body is larger than this service accepts."),
            BadHttpRequestException { StatusCode: 415 } => Problem(415, "Unsupported media type", "Send the body as JSON with Content-Type: application/json."),
            BadHttpRequestException b => BadRequest(b),
            JsonException j => JsonProblem(j),
            _ when Outage(exception) is { } reason => Problem(503, "Database unavailable", $"{reason} Retry after {OutageRetryAfterSeconds} s."),
            OperationCanceledException when context.RequestAborted.IsCancellationRequested => null,
            OperationCanceledException or TimeoutException => Problem(503, "Timed out", "The request took longer than this service allows; try again or narrow it."),
            _ => Problem(500, "Internal error", "Something failed inside ChatStore. It has been logged."),
        };
        if (problem is null)
            return true;
        if (problem.Status == 500)
            LogUnhandled(logger, exception, context.Request.Method, context.Request.Path);
        else
            context.Items[ReasonKey] = problem.Detail;
        if (problem.Status == 503)
            context.Response.Headers.RetryAfter = OutageRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        context.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new() { HttpContext = context, ProblemDetails = problem, Exception = exception }).ConfigureAwait(false);
    }

    /// <summary>
    /// Why the database cannot serve now, for a connection failure or a PostgreSQL error of the connection,
    /// shutdown/startup or resource classes; null for anything else (a bug or a bad statement).
    /// </summary>
    internal static string? Outage(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException p when p.SqlState.StartsWith("08", StringComparison.Ordinal)
                    || p.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
                        or PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.DatabaseDropped or PostgresErrorCodes.IdleSessionTimeout
                        or PostgresErrorCodes.ReadOnlySqlTransaction:
                    return $"The database cannot serve now: {p.MessageText} (SQLSTATE {p.SqlState}).";
                case PostgresException:
                    return null;
                case NpgsqlException n when n.InnerException is SocketException or IOException or TimeoutException || n.IsTransient:
                    return "The database cannot be reached: " + DatabaseUrl.MaskSecrets(n.Message.TrimEnd('.')) + ".";
            }
        }
        return null;
    }

    /// <summary>A binding failure, described by the parameter's or JSON property's name and the rule it broke, never by a .NET type.</summary>
    static ProblemDetails BadRequest(BadHttpRequestException e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is JsonException json)
                return JsonProblem(json);
        }
        if (FailedToBind().Match(e.Message) is { Success: true } bind)
        {
            var name = CamelCase(bind.Groups["name"].Value);
            return Invalid(name, "format", $"{name}: \"{bind.Groups["value"].Value}\" is not {Expected(bind.Groups["type"].Value)}.");
        }
        if (RequiredParameter().Match(e.Message) is { Success: true } required)
        {
            var fromBody = required.Groups["source"].Value == "body";
            var name = fromBody ? "body" : CamelCase(required.Groups["name"].Value);
            return Invalid(name, "required", fromBody ? "A JSON body is required." : $"{name} is required.");
        }
        return Problem(400, "Bad request", e.Message.Contains("JSON", StringComparison.Ordinal)
            ? "The body is not valid JSON for this operation; see its schema in /openapi/v1.json."
            : "The request is malformed; see /openapi/v1.json.");
    }

    static ProblemDetails JsonProblem(JsonException json)
    {
        var field = JsonField(json.Path);
        var message = json.Message;
        if (UnmappedProperty().Match(message) is { Success: true } unmapped)
        {
            var property = field.Length == 0 || !field.EndsWith(unmapped.Groups["name"].Value, StringComparison.Ordinal)
                ? Join(field, unmapped.Groups["name"].Value)
                : field;
            return Invalid(property, "unknown_property", $"{property} is not a property of this request body: remove it or check its spelling (see /openapi/v1.json).");
        }
        if (MissingRequired().Match(message) is { Success: true } missing)
        {
            var property = Join(field, missing.Groups["names"].Value.Split(',')[0].Trim().Trim('\''));
            return Invalid(property, "required", $"{property} is required.");
        }
        if (ConvertedTo().Match(message) is { Success: true } converted)
        {
            var name = field.Length == 0 ? "body" : field;
            return Invalid(name, "type", $"{name} must be {Expected(converted.Groups["type"].Value, field.Length == 0 ? null : field)}.");
        }
        // A syntax error: the reader's message names the character and says where; it names no type.
        var position = json.LineNumber is long line ? $" (line {line + 1}, byte {json.BytePositionInLine + 1})" : "";
        var reason = message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0].TrimEnd('.', ' ');
        return Invalid(field.Length == 0 ? "body" : field, "json", $"The body is not valid JSON{position}: {reason}.");
    }

    static string JsonField(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
            return "";
        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }

    static string Join(string parent, string name) => parent.Length == 0 ? name : $"{parent}.{name}";

    static string CamelCase(string name) => name.Length == 0 ? name : char.ToLowerInvariant(name[0]) + name[1..];

    // What a .NET type (as a message names it: System.Nullable`1[System.Guid], Nullable<int>, a record) means to a JSON client.
    static string Expected(string type, string? property = null)
    {
        if (property is not null && PropertyType(type, property) is { } propertyType)
            type = propertyType.ToString();
        var last = type.TrimEnd(']', '>', '?');
        last = last[(Math.Max(Math.Max(last.LastIndexOf('.'), last.LastIndexOf('[')), Math.Max(last.LastIndexOf('<'), last.LastIndexOf('+'))) + 1)..];
        if (type.EndsWith("[]", StringComparison.Ordinal) || type.Contains("List", StringComparison.Ordinal) || type.Contains("Enumerable", StringComparison.Ordinal))
            return "an array";
        return last switch
        {
            "Guid" => "a UUID such as 0192f3a4-5b6c-7d8e-9f01-23456789abcd",
            "Int32" or "Int64" or "Int16" or "int" or "long" or "short" => "a whole number",
            "Double" or "Single" or "Decimal" or "double" or "float" or "decimal" => "a number",
            "Boolean" or "bool" => "true or false",
            "String" or "string" => "a string",
            "DateTimeOffset" or "DateTime" => "an RFC 3339 date-time such as 2026-01-31T12:00:00Z",
            "DateOnly" => "a date such as 2026-01-31",
            "JsonElement" => "JSON",
            _ when EnumValues(last) is { } values => $"one of: {values}",
            _ => "an object",
        };
    }

    // A record named by a conversion error, and the .NET type of its property named in camelCase by the JSON path.
    static Type? PropertyType(string typeName, string property)
    {
        var owner = typeof(ProblemMapping).Assembly.GetType(typeName) ?? typeof(ChatStoreClient).Assembly.GetType(typeName);
        var name = property[(property.LastIndexOf('.') + 1)..];
        var bracket = name.IndexOf('[', StringComparison.Ordinal);
        if (bracket >= 0) name = name[..bracket];
        var found = owner?.GetProperties().FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))?.PropertyType;
        if (found is null) return null;
        var element = Nullable.GetUnderlyingType(found) ?? found;
        return bracket >= 0 && element.IsArray ? element.GetElementType() : bracket >= 0 && element.IsGenericType ? element.GetGenericArguments()[0] : element;
    }

    static string? EnumValues(string typeName)
    {
        var type = typeof(ChatStoreClient).Assembly.GetTypes().FirstOrDefault(t => t.IsEnum && t.Name == typeName);
        return type is null ? null : string.Join(", ", Enum.GetNames(type).Select(JsonNamingPolicy.CamelCase.ConvertName));
    }

    static ProblemDetails Invalid(string field, string rule, string detail) =>
        Problem(400, "Invalid input", detail, ("field", field), ("rule", rule));

    internal static ProblemDetails Problem(int status, string title, string detail, params (string Key, object Value)[] extensions)
    {
        var p = new ProblemDetails { Status = status, Title = title, Detail = detail };
        foreach (var (key, value) in extensions)
            p.Extensions[key] = value;
        return p;
    }

    [GeneratedRegex("""^Failed to bind parameter "(?<type>\S+) (?<name>\S+)" from "(?<value>.*)"\.?$""", RegexOptions.Singleline)]
    private static partial Regex FailedToBind();

    [GeneratedRegex("""^Required parameter "(?<type>\S+) (?<name>\S+)" was not provided from (?<source>query string|route|header|body|form)""")]
    private static partial Regex RequiredParameter();

    [GeneratedRegex("""The JSON property '(?<name>[^']*)' could not be mapped""")]
    private static partial Regex UnmappedProperty();

    [GeneratedRegex("""missing required properties including: (?<names>.*?)\.?(?: Path:|$)""")]
    private static partial Regex MissingRequired();

    [GeneratedRegex("""could not be converted to (?<type>\S+?)\.?(?: Path:|$)""")]
    private static partial Regex ConvertedTo();

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
