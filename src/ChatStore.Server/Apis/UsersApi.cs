using System.Text.Json;
using ChatStore.Server.Hosting;
using ChatStore.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>A tenant's users. A session caller reaches only itself.</summary>
public static class UsersApi
{
    /// <summary>Client-settable fields of a new user (ids, tenant and timestamps are the server's).</summary>
    public sealed record CreateUserRequest(string? ExternalId, string? Email, string? Name, string? Role, string? SsoProvider, string? SsoId, JsonElement? Info);

    public sealed record UpdateUserRequest(string? ExternalId, string? Email, string? Name, string? Role, JsonElement? Info);

    public static RouteGroupBuilder MapUsersApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/users").WithTags("Users").RequireTenant().TenantProblems();

        api.MapPost("/", async (CreateUserRequest body, Caller caller, CancellationToken ct) =>
            {
                var user = await caller.Scope.Users.CreateAsync(new NewUser
                {
                    ExternalId = body.ExternalId, Email = body.Email, Name = body.Name, Role = body.Role,
                    SsoProvider = body.SsoProvider, SsoId = body.SsoId, Info = body.Info,
                }, ct);
                return TypedResults.Created($"/v1/users/{user.Id}", user);
            })
            .RequireTenantKey()
            .Conflict().Idempotent().WithName("CreateUser").WithSummary("Create a user (tenant API key)");

        api.MapGet("/", async (int? limit, string? cursor, string? role, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Users.ListAsync(limit ?? 50, cursor, role, ct)))
            .RequireTenantKey()
            .WithName("ListUsers").WithSummary("List users, keyset-paginated (tenant API key)");

        api.MapGet("/by-email/{email}", async (string email, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Users.GetByEmailAsync(email, ct)))
            .RequireTenantKey()
            .NotFound().WithName("GetUserByEmail").WithSummary("Find a user by email, case-insensitively (tenant API key)");

        api.MapGet("/by-external-id/{externalId}", async (string externalId, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Users.GetByExternalIdAsync(externalId, ct)))
            .RequireTenantKey()
            .NotFound().WithName("GetUserByExternalId").WithSummary("Find a user by the app's external id (tenant API key)");

        api.MapGet("/{userId:guid}", async (Guid userId, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Users.GetAsync(caller.ActAs(userId), ct)))
            .NotFound().WithName("GetUser").WithSummary("Get a user");

        api.MapPatch("/{userId:guid}", async (Guid userId, UpdateUserRequest body, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Users.UpdateAsync(caller.ActAs(userId), new UserUpdate
                {
                    ExternalId = body.ExternalId, Email = body.Email, Name = body.Name,
                    Role = caller.Kind == CallerKind.User ? null : body.Role, Info = body.Info,
                }, ct)))
            .NotFound().Conflict().WithName("UpdateUser").WithSummary("Update a user (a session caller cannot change its own role)");

        api.MapPost("/{userId:guid}/logins", async (Guid userId, Caller caller, CancellationToken ct) =>
                TypedResults.Ok(await caller.Scope.Users.RecordLoginAsync(caller.ActAs(userId), ct)))
            .RequireTenantKey()
            .NotFound().WithName("RecordLogin").WithSummary("Record a login now (tenant API key)");

        api.MapDelete("/{userId:guid}", async (Guid userId, Caller caller, CancellationToken ct) =>
            {
                await caller.Scope.Users.DeleteAsync(caller.ActAs(userId), ct);
                return TypedResults.NoContent();
            })
            .RequireTenantKey()
            .NotFound().WithName("DeleteUser").WithSummary("Soft-delete a user and revoke their sessions (tenant API key)");
        return api;
    }
}
