using ChatStore.Server.Hosting;
using ChatStore.Tenants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>Operator routes: tenants and their API keys.</summary>
public static class TenantsApi
{
    public sealed record CreateTenantRequest(string Name, IReadOnlyList<string>? Roles, string? DefaultRole, string? SearchLanguage);

    public sealed record CreateApiKeyRequest(string Name, IReadOnlyList<string>? Scopes, DateTimeOffset? ExpiresAt);

    public static RouteGroupBuilder MapTenantsApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/tenants").WithTags("Tenants").RequireOperator().TenantProblems();

        api.MapPost("/", async (CreateTenantRequest body, ChatStoreClient client, CancellationToken ct) =>
            {
                var tenant = await client.Tenants.CreateAsync(new NewTenant { Name = body.Name, Roles = body.Roles, DefaultRole = body.DefaultRole, SearchLanguage = body.SearchLanguage }, ct);
                return TypedResults.Created($"/v1/tenants/{tenant.Id}", tenant);
            })
            .Idempotent().WithName("CreateTenant").WithSummary("Create a tenant (operator)");

        api.MapGet("/", async (int? limit, string? cursor, ChatStoreClient client, CancellationToken ct) =>
                TypedResults.Ok(await client.Tenants.ListAsync(limit ?? 100, cursor, ct)))
            .WithName("ListTenants").WithSummary("List tenants (operator)");

        api.MapGet("/{tenantId:guid}", async (Guid tenantId, ChatStoreClient client, CancellationToken ct) =>
                TypedResults.Ok(await client.Tenants.GetAsync(tenantId, ct)))
            .NotFound().WithName("GetTenant").WithSummary("Get a tenant (operator)");

        api.MapPatch("/{tenantId:guid}", async (Guid tenantId, TenantUpdate body, ChatStoreClient client, CancellationToken ct) =>
                TypedResults.Ok(await client.Tenants.UpdateAsync(tenantId, body, ct)))
            .NotFound().WithName("UpdateTenant").WithSummary("Change a tenant's name, roles, search language or retention (operator)");

        api.MapDelete("/{tenantId:guid}", async (Guid tenantId, ChatStoreClient client, CallerAuthentication auth, CancellationToken ct) =>
            {
                await client.Tenants.DeleteAsync(tenantId, ct);
                auth.Invalidate();
                return TypedResults.NoContent();
            })
            .NotFound().WithName("DeleteTenant").WithSummary("Delete a tenant and all its data (operator)");

        api.MapPost("/{tenantId:guid}/api-keys", async (Guid tenantId, CreateApiKeyRequest body, ChatStoreClient client, CancellationToken ct) =>
            {
                var created = await client.Tenants.CreateApiKeyAsync(tenantId, body.Name, body.Scopes, body.ExpiresAt, ct);
                return TypedResults.Created($"/v1/tenants/{tenantId}/api-keys/{created.Key.Id}", created);
            })
            .NotFound().WithName("CreateApiKey").WithSummary("Create a tenant API key; the secret is returned only in this response (operator)");

        api.MapGet("/{tenantId:guid}/api-keys", async (Guid tenantId, ChatStoreClient client, CancellationToken ct) =>
                TypedResults.Ok(Slice.Whole(await client.Tenants.ListApiKeysAsync(tenantId, ct))))
            .NotFound().WithName("ListApiKeys").WithSummary("List a tenant's API keys, without secrets (operator)");

        api.MapDelete("/{tenantId:guid}/api-keys/{keyId:guid}", async (Guid tenantId, Guid keyId, ChatStoreClient client, CallerAuthentication auth, CancellationToken ct) =>
            {
                await client.Tenants.RevokeApiKeyAsync(tenantId, keyId, ct);
                auth.Invalidate();
                return TypedResults.NoContent();
            })
            .NotFound().WithName("RevokeApiKey").WithSummary("Revoke an API key (operator)");
        return api;
    }
}
