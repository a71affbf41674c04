using System.Text.Json;
using ChatStore.Memories;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>
/// Memories about users: add (deduplicated per user by normalised content), versioned updates,
/// history, sources, soft delete. A session caller reaches only memories about itself.
/// </summary>
public static class MemoriesApi
{
    /// <summary>Client-settable fields of a new memory. kind: fact (default), preference, instruction, goal, episode, summary.</summary>
    public sealed record AddMemoryRequest(
        Guid? UserId, string? Content, string? Kind, float? Importance, string? ExternalId, JsonElement? Metadata, IReadOnlyList<MemorySourceRef>? Sources);

    /// <summary>Changes; null leaves a field as it is. An update makes a new version (a new id).</summary>
    public sealed record UpdateMemoryRequest(string? Content, string? Kind, float? Importance, JsonElement? Metadata);

    public sealed record ListMemoriesQuery(Guid? UserId, string? Kind, float? MinImportance, bool? IncludeSuperseded, bool? IncludeDeleted, int? Limit, string? Cursor);

    public sealed record LinkSourceRequest(Guid ConversationId, Guid? MessageId);

    public sealed record LinkSourceResponse(bool Created);

    public sealed record VersionListQuery(int? Limit, string? Cursor);

    public static RouteGroupBuilder MapMemoriesApi(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/memories").WithTags("Memories").RequireTenant().TenantProblems();

        api.MapPost("/", async Task<Results<Created<AddMemoryResult>, Ok<AddMemoryResult>>> (AddMemoryRequest body, Caller caller, CancellationToken ct) =>
            {
                var result = await caller.Scope.Memories.AddAsync(new NewMemory
                {
                    UserId = caller.ActAs(body.UserId), Content = body.Content!, Kind = body.Kind ?? MemoryKinds.Fact,
                    Importance = body.Importance ?? 0.5f, ExternalId = body.ExternalId, Metadata = body.Metadata, Sources = body.Sources,
                }, ct);
                return result.Created ? TypedResults.Created($"/v1/memories/{result.Memory.Id}", result) : TypedResults.Ok(result);
            })
            .NotFound().Idempotent()
            .WithName("AddMemory").WithSummary("Add a memory about a user: 201 when new, 200 with the existing one when the user has the same content")
            .WithDescription("sources: conversations (and messages) of the user it was distilled from. " + ApiMetadata.UserIdRule);

        api.MapGet("/", async ([AsParameters] ListMemoriesQuery query, Caller caller, CancellationToken ct) =>
            {
                var user = caller.ActAs(query.UserId);
                var page = await caller.Scope.Memories.ListAsync(user, new MemoryQuery
                {
                    Limit = query.Limit ?? 50, Cursor = query.Cursor, Kind = query.Kind, MinImportance = query.MinImportance,
                    IncludeSuperseded = query.IncludeSuperseded ?? false, IncludeDeleted = query.IncludeDeleted ?? false,
                }, ct);
                return TypedResults.Ok(await Access.ListOfUserAsync(caller, user, page, page.Items.Count, ct));
            })
            .NotFound()
            .WithName("ListMemories").WithSummary("A user's memories, newest first, keyset-paginated (current versions unless asked otherwise)")
            .WithDescription(ApiMetadata.UserIdRule);

        api.MapGet("/{memoryId:guid}", async (Guid memoryId, Caller caller, CancellationToken ct) =>
            {
                var memory = await caller.Scope.Memories.GetAsync(memoryId, ct);
                caller.EnsureOwns(memory.UserId, "memory", memoryId);
                return TypedResults.Ok(memory);
            })
            .NotFound()
            .WithName("GetMemory").WithSummary("Get a memory version");

        api.MapPatch("/{memoryId:guid}", async (Guid memoryId, UpdateMemoryRequest body, Caller caller, CancellationToken ct) =>
            {
                await Access.MemoryAsync(caller, memoryId, ct);
                return TypedResults.Ok(await caller.Scope.Memories.UpdateAsync(memoryId, new MemoryUpdate
                {
                    Content = body.Content, Kind = body.Kind, Importance = body.Importance, Metadata = body.Metadata,
                }, ct));
            })
            .NotFound().Conflict()
            .WithName("UpdateMemory").WithSummary("Update a memory by making a new version (only the current version; 409 otherwise)");

        api.MapDelete("/{memoryId:guid}", async (Guid memoryId, Caller caller, CancellationToken ct) =>
            {
                await Access.MemoryAsync(caller, memoryId, ct);
                await caller.Scope.Memories.DeleteAsync(memoryId, ct);
                return TypedResults.NoContent();
            })
            .NotFound()
            .WithName("DeleteMemory").WithSummary("Soft-delete a memory with all its versions");

        api.MapGet("/{memoryId:guid}/history", async (Guid memoryId, [AsParameters] VersionListQuery query, Caller caller, CancellationToken ct) =>
            {
                var versions = await caller.Scope.Memories.HistoryAsync(memoryId, ct);
                caller.EnsureOwns(versions[0].UserId, "memory", memoryId);
                return TypedResults.Ok(Slice.Of(versions, query.Limit, query.Cursor, m => m.Id));
            })
            .NotFound()
            .WithName("GetMemoryHistory").WithSummary("Every version of a memory, oldest first (the current one last)");

        api.MapGet("/{memoryId:guid}/sources", async (Guid memoryId, [AsParameters] VersionListQuery query, Caller caller, CancellationToken ct) =>
            {
                await Access.MemoryAsync(caller, memoryId, ct);
                var sources = await caller.Scope.Memories.ListSourcesAsync(memoryId, ct);
                return TypedResults.Ok(Slice.Of(sources, query.Limit, query.Cursor, s => s.MessageId ?? s.ConversationId));
            })
            .NotFound()
            .WithName("ListMemorySources").WithSummary("The conversations and messages a memory version was distilled from, oldest first");

        api.MapPost("/{memoryId:guid}/sources", async (Guid memoryId, LinkSourceRequest body, Caller caller, CancellationToken ct) =>
            {
                await Access.MemoryAsync(caller, memoryId, ct);
                return TypedResults.Ok(new LinkSourceResponse(await caller.Scope.Memories.LinkSourceAsync(memoryId, body.ConversationId, body.MessageId, ct)));
            })
            .NotFound()
            .WithName("LinkMemorySource").WithSummary("Link a memory to a conversation (and message) of its user it came from; created is false when the link existed");
        return api;
    }
}
