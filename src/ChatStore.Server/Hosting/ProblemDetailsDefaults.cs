using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace ChatStore.Server.Hosting;

/// <summary>What every problem response carries: a <c>traceId</c>, and for a bare status (an unknown route, a malformed id, a wrong method) a detail that says what to do.</summary>
internal static class ProblemDetailsDefaults
{
    public static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var http = context.HttpContext;
        problem.Extensions["traceId"] = Activity.Current?.Id ?? http.TraceIdentifier;
        problem.Extensions.Remove("requestId");
        problem.Extensions.Remove("exception");
        if (problem.Detail is not null)
            return;
        var target = $"{http.Request.Method} {http.Request.Path}";
        (problem.Title, problem.Detail) = problem.Status switch
        {
            StatusCodes.Status404NotFound => ("Not found",
                $"{target} matches no ChatStore route, or an id in it is malformed (ids are UUIDs). The routes are listed in /openapi/v1.json."),
            StatusCodes.Status405MethodNotAllowed => ("Method not allowed", $"{target}: this route does not take {http.Request.Method}; see /openapi/v1.json."),
            StatusCodes.Status401Unauthorized => ("Unauthorized", "Send Authorization: Bearer <operator key | cs_key_… | cs_sess_…>."),
            StatusCodes.Status403Forbidden => ("Forbidden", "This credential may not do this: the route needs a tenant API key or the operator key."),
            _ => (problem.Title, problem.Title ?? "The request failed."),
        };
    }
}
