using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ChatStore.Server.Hosting;

/// <summary>One log line per request: method, route template, status, tenant, duration. Never bodies, queries or credentials.</summary>
internal sealed partial class RequestLogging(RequestDelegate next, ILogger<RequestLogging> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!logger.IsEnabled(LogLevel.Information))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            var route = (context.GetEndpoint() as Microsoft.AspNetCore.Routing.RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
            var tenant = (context.Items[Caller.ItemKey] as Caller)?.TenantId?.ToString() ?? "-";
            Log(logger, context.Request.Method, route, context.Response.StatusCode, tenant, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Method} {Route} {Status} tenant={Tenant} {ElapsedMs:F1} ms")]
    static partial void Log(ILogger logger, string method, string route, int status, string tenant, double elapsedMs);
}
