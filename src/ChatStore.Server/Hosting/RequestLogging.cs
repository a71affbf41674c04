using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ChatStore.Server.Hosting;

/// <summary>
/// One log line per request: method, route template, the status the client received, tenant, duration; a failed
/// request (4xx, 5xx) at Warning with the reason it was refused. Never bodies, queries or credentials. It runs
/// outside the exception handler, so the status is the one the problem details went out with.
/// </summary>
internal sealed partial class RequestLogging(RequestDelegate next, ILogger<RequestLogging> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!logger.IsEnabled(LogLevel.Warning))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        var status = 500; // An exception that escapes every handler reaches the client as a 500.
        try
        {
            await next(context).ConfigureAwait(false);
            status = context.Response.StatusCode;
        }
        finally
        {
            // The exception handler clears the endpoint before it writes the problem; its feature keeps it.
            var endpoint = context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint;
            var route = (endpoint as Microsoft.AspNetCore.Routing.RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
            var tenant = (context.Items[Caller.ItemKey] as Caller)?.TenantId?.ToString() ?? "-";
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (status >= 400)
                LogFailed(logger, context.Request.Method, route, status, tenant, elapsed, context.Items[ProblemMapping.ReasonKey] as string ?? "-");
            else if (logger.IsEnabled(LogLevel.Information))
                Log(logger, context.Request.Method, route, status, tenant, elapsed);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Method} {Route} {Status} tenant={Tenant} {ElapsedMs:F1} ms")]
    static partial void Log(ILogger logger, string method, string route, int status, string tenant, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Route} {Status} tenant={Tenant} {ElapsedMs:F1} ms: {Reason}")]
    static partial void LogFailed(ILogger logger, string method, string route, int status, string tenant, double elapsedMs, string reason);
}
