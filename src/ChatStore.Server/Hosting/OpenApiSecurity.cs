using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ChatStore.Server.Hosting;

/// <summary>Declares the bearer scheme (operator key, tenant API key or session token) in the OpenAPI document.</summary>
internal sealed class OpenApiSecurity : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "ChatStore";
        document.Info.Description = "The conversation and memory store for AI chat apps. Authenticate with Authorization: Bearer <operator key | cs_key_… | cs_sess_…>.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "The operator key, a tenant API key (cs_key_…) or a user session token (cs_sess_…).",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] });
        return Task.CompletedTask;
    }
}
