using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ChatStore.Server.Hosting;

/// <summary>Declares the bearer scheme (operator key, tenant API key or session token) in the OpenAPI document.</summary>
internal sealed class OpenApiSecurity : IOpenApiDocumentTransformer
{
    static readonly Dictionary<string, string> TagDescriptions = new(StringComparer.Ordinal)
    {
        ["Health"] = "Liveness and readiness probes; no credentials.",
        ["Tenants"] = "Organisations or apps, their role sets and API keys (operator key).",
        ["Users"] = "A tenant's users; a session caller reaches only itself.",
        ["Sessions"] = "Login sessions: create, validate, list and revoke bearer tokens (cs_sess_…).",
        ["Conversations"] = "Users' conversations: title, status, pinning, mode and state, subject.",
        ["Shares"] = "Public read-only share links to a conversation snapshot.",
        ["Messages"] = "Messages of a conversation: append (also streaming), history, edits and regenerations.",
        ["Feedback"] = "Likes, dislikes and scores per user per message.",
        ["Corrections"] = "Users' corrections of messages, for learning.",
        ["Memories"] = "Memories distilled from chats, deduplicated and versioned, with their sources.",
        ["Documents"] = "Uploaded documents, their processing status and extracted text.",
        ["Analyses"] = "Versioned AI analyses of documents.",
        ["Subjects"] = "What conversations are about: a profile, a property, a student.",
        ["Preferences"] = "Per-user preferences, learned patterns and feature toggles.",
        ["Reminders"] = "Reminders with recurrence and time zone; due ones claimed by workers.",
        ["Usage"] = "Per-action token, credit and cost events and their totals.",
        ["Credits"] = "Credit balances, debited atomically and never below zero.",
        ["Cache"] = "A keyed cache with expiry.",
        ["Search"] = "Full-text, vector and hybrid search over messages, memories and documents.",
        ["Search history"] = "The searches a user ran.",
        ["Embeddings"] = "Embedding spaces and the embeddings of messages, memories, documents and subjects.",
        ["Export"] = "A user's whole data out and back in as JSON Lines, GDPR erase and retention.",
        ["Message documents"] = "Which documents a message refers to.",
    };

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "ChatStore";
        document.Info.Description =
            "The conversation and memory store for AI chat apps. Authenticate with Authorization: Bearer <operator key | cs_key_… | cs_sess_…>. " +
            "A tenant API key acts for any user of its tenant; a session token acts only as its user, and another user's or tenant's id is 404, never 403. " +
            "Input is strict: a body property or query parameter an operation does not declare is a 400 that names it (server fields such as id, tenantId, seq and createdAt are not settable); " +
            "userId is honoured only for a tenant API key, and a session may give only its own. Lists are keyset-paginated: limit and cursor in, " +
            "{items, nextCursor, hasMore} out (nextCursor is null on the last page); every list and search answers in that envelope. " +
            "Errors are RFC 9457 problem details with a traceId (400 ones name the field and rule); an unknown route or a malformed id is 404, a database outage 503 with Retry-After.";
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
        document.Info.Version = "1";
        document.Info.Contact ??= new OpenApiContact { Name = "ChatStore" };
        // Linters and generators read "http://host/" + "/v1/users" as a double slash.
        foreach (var server in document.Servers ?? [])
        {
            server.Url = server.Url?.TrimEnd('/');
            server.Description ??= "This ChatStore server";
        }
        foreach (var tag in document.Tags ?? new HashSet<OpenApiTag>())
        {
            if (tag.Name is not null && TagDescriptions.TryGetValue(tag.Name, out var description))
                tag.Description = description;
        }
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
        OpenApiContract.Describe(operation, context);
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
