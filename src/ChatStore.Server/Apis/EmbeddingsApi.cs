using ChatStore.Embeddings;
using ChatStore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ChatStore.Server.Apis;

/// <summary>Embedding spaces (registered by the operator, read by tenants) and a tenant's stored vectors.</summary>
public static class EmbeddingsApi
{
    /// <summary>A new space: name, model, dimensions, metric and index kind with its parameters.</summary>
    public sealed record RegisterSpaceRequest(string? Name, string? Model, int? Dimensions, DistanceMetric? Metric, VectorIndexKind? IndexKind, VectorIndexParameters? IndexParameters);

    /// <summary>A vector for one owner (a message, memory, document chunk, analysis or subject).</summary>
    public sealed record UpsertEmbeddingRequest(float[]? Vector, int? ChunkIndex, string? ChunkText);

    public static RouteGroupBuilder MapEmbeddingsApi(this RouteGroupBuilder v1)
    {
        var spaces = v1.MapGroup("/embedding-spaces").WithTags("Embeddings").TenantProblems();

        spaces.MapPost("/", async (RegisterSpaceRequest body, ChatStoreClient client, CancellationToken ct) =>
            {
                var space = await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace
                {
                    Name = body.Name ?? "", Model = body.Model ?? "", Dimensions = body.Dimensions ?? 0,
                    Metric = body.Metric ?? DistanceMetric.Cosine, IndexKind = body.IndexKind ?? VectorIndexKind.Hnsw, IndexParameters = body.IndexParameters,
                }, cancellationToken: ct);
                return TypedResults.Created($"/v1/embedding-spaces/{space.Name}", space);
            })
            .RequireOperator().Conflict()
            .WithName("RegisterEmbeddingSpace").WithSummary("Register an embedding space and build its vector index (operator)");

        spaces.MapGet("/", async (ChatStoreClient client, CancellationToken ct) => TypedResults.Ok(Slice.Whole(await client.Embeddings.ListSpacesAsync(ct))))
            .RequireTenant()
            .WithName("ListEmbeddingSpaces").WithSummary("The registered embedding spaces");

        spaces.MapGet("/{space}", async (string space, ChatStoreClient client, CancellationToken ct) => TypedResults.Ok(await client.Embeddings.GetSpaceAsync(space, ct)))
            .RequireTenant().NotFound()
            .WithName("GetEmbeddingSpace").WithSummary("One embedding space");

        spaces.MapDelete("/{space}", async (string space, ChatStoreClient client, CancellationToken ct) =>
            {
                await client.Embeddings.DropSpaceAsync(space, ct);
                return TypedResults.NoContent();
            })
            .RequireOperator().NotFound()
            .WithName("DropEmbeddingSpace").WithSummary("Drop an embedding space, its index and every vector in it (operator)");

        var embeddings = v1.MapGroup("/embeddings/{space}/{ownerKind}/{ownerId:guid}").WithTags("Embeddings").RequireTenantKey().TenantProblems();

        embeddings.MapPut("/", async (string space, string ownerKind, Guid ownerId, UpsertEmbeddingRequest body, Caller caller, CancellationToken ct) =>
            {
                var store = caller.Scope.Embeddings;
                var s = await store.GetSpaceAsync(space, ct);
                return TypedResults.Ok(await store.UpsertAsync(s, Owner(ownerKind, ownerId), body.Vector ?? [], body.ChunkIndex ?? 0, body.ChunkText, ct));
            })
            .NotFound()
            .WithName("UpsertEmbedding").WithSummary("Store (or replace) the vector of one owner chunk; wrong dimensions, NaN or infinity are 400 (tenant API key)");

        embeddings.MapGet("/", async (string space, string ownerKind, Guid ownerId, Caller caller, CancellationToken ct) =>
            {
                var store = caller.Scope.Embeddings;
                return TypedResults.Ok(Slice.Whole(await store.ListAsync(await store.GetSpaceAsync(space, ct), Owner(ownerKind, ownerId), ct)));
            })
            .NotFound()
            .WithName("ListEmbeddings").WithSummary("The vectors of one owner in a space (tenant API key)");

        embeddings.MapDelete("/", async (string space, string ownerKind, Guid ownerId, Caller caller, CancellationToken ct) =>
            {
                var store = caller.Scope.Embeddings;
                await store.DeleteAsync(await store.GetSpaceAsync(space, ct), Owner(ownerKind, ownerId), ct);
                return TypedResults.NoContent();
            })
            .NotFound()
            .WithName("DeleteEmbeddings").WithSummary("Delete the vectors of one owner in a space (tenant API key)");
        return embeddings;
    }

    static EmbeddingOwner Owner(string kind, Guid id) =>
        Enum.TryParse<EmbeddingOwnerKind>(kind, ignoreCase: true, out var k) && Enum.IsDefined(k) && !int.TryParse(kind, out _)
            ? new EmbeddingOwner(k, id)
            : throw new ChatStoreValidationException("ownerKind", "enum", $"must be one of {string.Join(", ", Enum.GetNames<EmbeddingOwnerKind>().Select(n => n.ToLowerInvariant()))}; got '{kind}'.");
}
