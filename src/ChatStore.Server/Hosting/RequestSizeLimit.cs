using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ChatStore.Server.Hosting;

/// <summary>
/// Rejects a request whose declared body is larger than the limit with 413 before reading it,
/// and sets the server's own limit for bodies of unknown length (Kestrel enforces it while reading).
/// </summary>
internal sealed class RequestSizeLimit(RequestDelegate next, IProblemDetailsService problems, long maxBytes)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength > maxBytes)
        {
            context.Response.StatusCode = 413;
            await problems.WriteAsync(new()
            {
                HttpContext = context,
                ProblemDetails = ProblemMapping.Problem(413, "Request too large", $"The request body is {context.Request.ContentLength} bytes; this service accepts at most {maxBytes}."),
            }).ConfigureAwait(false);
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = maxBytes;
        await next(context).ConfigureAwait(false);
    }
}
