using ChatStore.Server.Console;
using Microsoft.AspNetCore.Builder;
using Scalar.AspNetCore;

namespace ChatStore.Server.Docs;

/// <summary>
/// The API reference at <c>/docs</c>: Scalar rendering <c>/openapi/v1.json</c>. Everything it loads comes
/// from this service (Scalar.AspNetCore serves its script from the package; its CDN fonts and telemetry
/// are off), so it works offline. "Try it" sends <c>Authorization: Bearer …</c> through the document's
/// <c>bearer</c> scheme: paste a tenant API key (or the operator key) there.
/// </summary>
public static class ApiReference
{
    /// <summary>
    /// Scalar's page starts its bundle with an inline script and styles itself inline, so scripts and styles
    /// need 'unsafe-inline' here (this page shows no user data); every fetch stays on this origin.
    /// </summary>
    internal const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
        "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Maps <c>/docs</c> (the reference) and sends its security headers.</summary>
    public static WebApplication MapApiReference(this WebApplication app)
    {
        app.UseSecurityHeaders("/docs", ContentSecurityPolicy);
        app.MapScalarApiReference("/docs", options =>
        {
            options.Title = "ChatStore API reference";
            options.OpenApiRoutePattern = "/openapi/{documentName}.json";
            options.DefaultFonts = false;
            options.Telemetry = false;
            // The hosted AI agent, MCP and developer toolbar talk to scalar.com: not part of an offline reference.
            options.Agent = new ScalarAgentOptions { Disabled = true };
            options.Mcp = new ScalarMcpOptions { Disabled = true };
            options.ShowDeveloperTools = DeveloperToolsVisibility.Never;
            options.PersistentAuthentication = false;
            options.AddPreferredSecuritySchemes("bearer");
            options.AddHttpAuthentication("bearer", scheme => scheme.Token = "");
        });
        return app;
    }
}
