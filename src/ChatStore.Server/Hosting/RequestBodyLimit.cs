using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace ChatStore.Server.Hosting;

/// <summary>
/// 413 before anything reads a body whose declared length is over the limit, on any server; Kestrel
/// also enforces the limit on bodies without a length (chunked), and this sets it per request where
/// the server supports that.
/// </summary>
internal sealed class RequestBodyLimit(RequestDelegate next, IOptions<ServerOptions> options, IProblemDetailsService problems)
{
    readonly long _max = options.Value.MaxRequestBodyBytes;

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength > _max)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await problems.WriteAsync(new()
            {
                HttpContext = context,
                ProblemDetails = ProblemMapping.Problem(413, "Request too large", $"The request body is larger than this service accepts ({_max} bytes)."),
            }).ConfigureAwait(false);
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = _max;
        await next(context).ConfigureAwait(false);
    }
}
