using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace ChatStore.Server.Hosting;

/// <summary>
/// Turns every error into RFC 9457 problem details: validation → 400 with <c>field</c> and
/// <c>rule</c>, not found → 404, conflict → 409, malformed or oversized requests → 400/413;
/// anything else is a 500 with no internals (and is a bug).
/// </summary>
internal sealed partial class ProblemMapping(IProblemDetailsService problems, ILogger<ProblemMapping> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            ChatStoreValidationException v => Problem(400, "Invalid input", v.Message, ("field", v.Field), ("rule", v.Rule)),
            ChatStoreNotFoundException n => Problem(404, "Not found", n.Message),
            ChatStoreConflictException c => Problem(409, "Conflict", c.Message),
            ChatStorePermissionException p => Problem(403, "Needs the schema owner", p.Message, ("requiredRole", p.RequiredRole ?? "")),
            ChatStoreConfigurationException => Problem(503, "Service unavailable", "ChatStore is not configured correctly; see the server log."),
            BadHttpRequestException { StatusCode: 413 } => Problem(413, "Request too large", "The request body is larger than this service accepts."),
            BadHttpRequestException b => Problem(400, "Bad request", BadRequestDetail(b)),
            OperationCanceledException when context.RequestAborted.IsCancellationRequested => null,
            OperationCanceledException or TimeoutException => Problem(503, "Timed out", "The request took longer than this service allows; try again or narrow it."),
            _ => Problem(500, "Internal error", "Something failed inside ChatStore. It has been logged."),
        };
        if (problem is null)
            return true;
        if (problem.Status == 500)
            LogUnhandled(logger, exception, context.Request.Method, context.Request.Path);
        context.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new() { HttpContext = context, ProblemDetails = problem, Exception = exception }).ConfigureAwait(false);
    }

    static string BadRequestDetail(BadHttpRequestException e)
    {
        // Body binding failures wrap the JSON error; its message names the path and position, not data.
        var inner = e.InnerException;
        while (inner?.InnerException is not null && inner is not System.Text.Json.JsonException)
            inner = inner.InnerException;
        return inner is System.Text.Json.JsonException json
            ? $"The JSON body is not valid: {json.Message}"
            : e.Message;
    }

    internal static ProblemDetails Problem(int status, string title, string detail, params (string Key, object Value)[] extensions)
    {
        var p = new ProblemDetails { Status = status, Title = title, Detail = detail };
        foreach (var (key, value) in extensions)
            p.Extensions[key] = value;
        return p;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
