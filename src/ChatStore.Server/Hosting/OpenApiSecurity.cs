using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ChatStore.Server.Hosting;

/// <summary>Declares the bearer scheme (operator key, tenant API key or session token) in the OpenAPI document.</summary>
internal sealed class OpenApiSecurity : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "ChatStore";
        document.Info.Description =
            "The conversation and memory store for AI chat apps. Authenticate with Authorization: Bearer <operator key | cs_key_… | cs_sess_…>. " +
            "A tenant API key acts for any user of its tenant; a session token acts only as its user, and another user's or tenant's id is 404, never 403. " +
            "Request bodies carry only client-settable fields: server fields (id, tenantId, seq, counters, timestamps such as createdAt) are ignored; " +
            "userId is honoured only for a tenant API key, and a session may give only its own. Lists are keyset-paginated: limit and cursor in, " +
            "{items, nextCursor} out (nextCursor is null on the last page). Errors are RFC 9457 problem details (400 ones name the field and rule).";
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

/// <summary>
/// Per-operation documentation the route metadata cannot carry: the <c>Idempotency-Key</c> header on
/// POST routes, and no security requirement on routes that take no credentials (share links).
/// </summary>
internal sealed class OpenApiOperations : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<Microsoft.AspNetCore.Authorization.IAllowAnonymous>().Any())
            operation.Security = [];
        if (string.Equals(context.Description.HttpMethod, "POST", StringComparison.OrdinalIgnoreCase)
            && context.Description.RelativePath?.StartsWith("v1/", StringComparison.Ordinal) == true
            && !metadata.OfType<Microsoft.AspNetCore.Authorization.IAllowAnonymous>().Any())
        {
            var secret = metadata.OfType<SecretResponse>().Any();
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = IdempotencyMiddleware.Header,
                In = ParameterLocation.Header,
                Required = false,
                Description = "Makes the request safe to retry: the key commits with the write, so a retry with the same key and body " +
                              "gets the original response (Idempotent-Replayed: true) or runs the request once; the same key with another body " +
                              "is 422; while the first request runs, 409 with Retry-After. Keys are remembered for 24 hours." +
                              (secret ? " This route returns a secret, kept for replay only encrypted under the key: use at least 16 characters (a UUID)." : ""),
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = secret ? 16 : 1, MaxLength = 200 },
            });
        }
        return Task.CompletedTask;
    }
}
