using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ChatStore.Server.Console;

/// <summary>The browser-facing pages' security headers: their Content-Security-Policy, never framed, no sniffing, no referrer.</summary>
internal static class SecurityHeaders
{
    /// <summary>Sends the headers on every response under <paramref name="path"/>.</summary>
    public static void UseSecurityHeaders(this WebApplication app, PathString path, string contentSecurityPolicy) => app.Use((context, next) =>
    {
        if (context.Request.Path.StartsWithSegments(path))
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = contentSecurityPolicy;
            headers.XFrameOptions = "DENY";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
        }
        return next(context);
    });
}
