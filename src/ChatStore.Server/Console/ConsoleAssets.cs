using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Console;

/// <summary>
/// The console's static files (<c>Console/wwwroot</c>, embedded in this assembly) at <c>/console</c>, with
/// the security headers of every console response. The page is a small single-page app in plain JavaScript:
/// it signs in with a bearer key kept in sessionStorage and calls <c>/console/api</c>.
/// </summary>
internal static class ConsoleAssets
{
    /// <summary>No inline script or style, nothing from another origin, never framed.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    sealed record Asset(byte[] Content, string ContentType, string ETag);

    static readonly FrozenDictionary<string, Asset> Assets = Load();

    static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith("console/", StringComparison.Ordinal))
                continue;
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var type = Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            assets[name["console/".Length..]] = new Asset(content, type, $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"");
        }
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>
    /// <c>/console</c> and every page under it answer with the app's index.html (it routes in the browser);
    /// a path with a file extension is one of the app's files or 404, and so is an unknown <c>/console/api</c> path.
    /// </summary>
    public static void MapConsoleAssets(this IEndpointRouteBuilder app)
    {
        app.MapGet("/console", (HttpContext context) => Serve(context, "index.html"))
            .ExcludeFromDescription().WithName("ConsolePage").WithSummary("The console's page");
        app.MapGet("/console/{**path}", (string? path, HttpContext context) =>
                path is not null && (path.StartsWith("api/", StringComparison.Ordinal) || Path.HasExtension(path))
                    ? Assets.ContainsKey(path) ? Serve(context, path) : Results.NotFound()
                    : Serve(context, "index.html"))
            .ExcludeFromDescription().WithName("ConsoleAsset").WithSummary("The console's files (HTML, CSS, JavaScript)");
    }

    static IResult Serve(HttpContext context, string name)
    {
        var asset = Assets[name];
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
            return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Content, asset.ContentType);
    }
}
