using ChatStore.Embeddings;
using ChatStore.Tests.Search;

namespace ChatStore.Tests.Embeddings;

public sealed class EmbeddingStoreTests
{
    [Fact]
    public async Task Upsert_stores_reads_back_and_replaces_with_user_and_conversation_from_the_owner()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var space = await SearchData.SharedSpaceAsync();
        var user = await SearchData.UserAsync(tenant.Id);
        var c = await SearchData.ConversationAsync(tenant.Id, user);
        var message = await SearchData.MessageAsync(tenant.Id, c, user, "hello");
        var v1 = SearchData.Axis(64, 3, 0.1f, seed: 1);
        var stored = await scope.Embeddings.UpsertAsync(space, EmbeddingOwner.Message(message), v1, chunkText: "hello");
        Assert.Equal((user, c, EmbeddingOwnerKind.Message), (stored.UserId!.Value, stored.ConversationId!.Value, stored.Owner.Kind));
        Assert.Equal(v1, (await scope.Embeddings.ListAsync(space, EmbeddingOwner.Message(message))).Single().Vector.ToArray());

        var v2 = SearchData.Axis(64, 5, 0.1f, seed: 2);
        var replaced = await scope.Embeddings.UpsertAsync(space, EmbeddingOwner.Message(message), v2);
        Assert.Equal(stored.Id, replaced.Id);
        var listed = await scope.Embeddings.ListAsync(space, EmbeddingOwner.Message(message));
        Assert.Equal(v2, listed.Single().Vector.ToArray());
        Assert.Null(listed.Single().ChunkText);
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM embeddings WHERE message_id = $1", message));
        Assert.Equal(1, await scope.Embeddings.DeleteAsync(space, EmbeddingOwner.Message(message)));
        Assert.Empty(await scope.Embeddings.ListAsync(space, EmbeddingOwner.Message(message)));
    }

    [Fact]
    public async Task Wrong_dimensions_NaN_infinity_empty_and_zero_vectors_are_typed_errors_and_store_nothing()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var space = await SearchData.SharedSpaceAsync();
        var user = await SearchData.UserAsync(tenant.Id);
        var memory = await SearchData.MemoryAsync(tenant.Id, user, "likes tea");
        var owner = EmbeddingOwner.Memory(memory);
        async Task Expect(string rule, float[] vector, string field = "vector")
        {
            var e = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Embeddings.UpsertAsync(space, owner, vector));
            Assert.Equal((field, rule), (e.Field, e.Rule));
        }
        await Expect("dimensions", new float[63]);
        await Expect("dimensions", new float[384]);
        await Expect("empty", []);
        var nan = SearchData.Axis(64, 0); nan[7] = float.NaN;
        await Expect("nan", nan);
        var inf = SearchData.Axis(64, 0); inf[9] = float.PositiveInfinity;
        await Expect("infinity", inf);
        var negInf = SearchData.Axis(64, 0); negInf[1] = float.NegativeInfinity;
        await Expect("infinity", negInf);
        await Expect("zero_vector", new float[64]);
        var e = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Embeddings.UpsertAsync(space, owner, SearchData.Axis(64, 0), chunkIndex: -1));
        Assert.Equal("chunkIndex", e.Field);
        var bulk = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Embeddings.BulkLoadAsync(space,
            [new EmbeddingRow(owner, SearchData.Axis(64, 0)), new EmbeddingRow(owner, nan, 1)]));
        Assert.Equal(("rows[1].vector", "nan"), (bulk.Field, bulk.Rule));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM embeddings WHERE tenant_id = $1", tenant.Id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Another_tenants_or_unknown_owner_is_not_found_and_deleting_the_owner_deletes_its_vectors(bool bypassRowLevelSecurity)
    {
        var (_, a, tenantA) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var (_, b, tenantB) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var space = await SearchData.SharedSpaceAsync();
        var userB = await SearchData.UserAsync(tenantB.Id);
        var docB = await SearchData.DocumentAsync(tenantB.Id, userB, "b.txt", "b");
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => a.Embeddings.UpsertAsync(space, EmbeddingOwner.Document(docB), SearchData.Axis(64, 1)));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => a.Embeddings.UpsertAsync(space, EmbeddingOwner.Subject(Guid.NewGuid()), SearchData.Axis(64, 1)));
        var notFound = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => a.Embeddings.BulkLoadAsync(space, [new EmbeddingRow(EmbeddingOwner.Document(docB), SearchData.Axis(64, 1))]));
        Assert.Equal(docB.ToString(), notFound.Id);
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM embeddings WHERE tenant_id = $1", tenantA.Id));

        await b.Embeddings.UpsertAsync(space, EmbeddingOwner.Document(docB), SearchData.Axis(64, 1), chunkIndex: 0, chunkText: "chunk 0");
        await b.Embeddings.UpsertAsync(space, EmbeddingOwner.Document(docB), SearchData.Axis(64, 2), chunkIndex: 1, chunkText: "chunk 1");
        Assert.Equal(["chunk 0", "chunk 1"], (await b.Embeddings.ListAsync(space, EmbeddingOwner.Document(docB))).Select(x => x.ChunkText));
        // Another tenant's owner is not found, for a read and a delete alike, and its vectors stay.
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => a.Embeddings.ListAsync(space, EmbeddingOwner.Document(docB)));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => a.Embeddings.DeleteAsync(space, EmbeddingOwner.Document(docB)));
        Assert.Equal(2, (await b.Embeddings.ListAsync(space, EmbeddingOwner.Document(docB))).Count);
        await SearchData.ExecAsync("DELETE FROM documents WHERE id = $1", docB);
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM embeddings WHERE document_id = $1", docB));
    }

    [Fact]
    public async Task Bulk_load_copies_every_row_reports_progress_and_rejects_repeats()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var space = await SearchData.SharedSpaceAsync();
        var user = await SearchData.UserAsync(tenant.Id);
        var memories = await SearchData.MemoriesAsync(tenant.Id, [.. Enumerable.Range(0, 2500).Select(i => (user, $"memory {i}"))]);
        var rows = memories.Select((id, i) => new EmbeddingRow(EmbeddingOwner.Memory(id), SearchData.Axis(64, i % 64, 0.2f, i), 0, $"memory {i}")).ToList();
        var reports = new List<long>();
        var progress = new SyncProgress(reports.Add);
        Assert.Equal(2500, await scope.Embeddings.BulkLoadAsync(space, rows, progress));
        Assert.Equal([1000L, 2000L, 2500L], reports);
        Assert.Equal(2500L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM embeddings WHERE tenant_id = $1 AND user_id = $2", tenant.Id, user));
        var back = await scope.Embeddings.ListAsync(space, EmbeddingOwner.Memory(memories[1234]));
        Assert.Equal(rows[1234].Vector.ToArray(), back.Single().Vector.ToArray());

        // Loading again replaces (upsert); a load that names the same chunk twice stores nothing.
        Assert.Equal(2, await scope.Embeddings.BulkLoadAsync(space, rows.Take(2)));
        var e = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Embeddings.BulkLoadAsync(space, [rows[0], rows[0] with { ChunkText = "again" }]));
        Assert.Equal(("rows", "duplicate"), (e.Field, e.Rule));
        Assert.Equal("memory 0", (await scope.Embeddings.ListAsync(space, EmbeddingOwner.Memory(memories[0]))).Single().ChunkText);
    }

    [Fact]
    public async Task Spaces_of_different_dimensions_coexist_each_with_its_own_partial_index()
    {
        var client = await TestStore.ClientAsync();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var small = await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace { Name = $"small-{suffix}", Model = "m-small", Dimensions = 384 });
        var large = await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace
        {
            Name = $"large-{suffix}", Model = "m-large", Dimensions = 1024, Metric = DistanceMetric.InnerProduct,
            IndexParameters = new VectorIndexParameters { M = 8, EfConstruction = 32 },
        });
        var flat = await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace
        {
            Name = $"flat-{suffix}", Model = "m", Dimensions = 8, Metric = DistanceMetric.L2, IndexKind = VectorIndexKind.IvfFlat,
            IndexParameters = new VectorIndexParameters { Lists = 4 },
        });
        var smallDef = await TestStore.ScalarAsync<string>("SELECT indexdef FROM pg_indexes WHERE indexname = $1", small.IndexName);
        Assert.Contains("USING hnsw (((embedding)::vector(384)) vector_cosine_ops) WITH (m='16', ef_construction='64')", smallDef, StringComparison.Ordinal);
        Assert.Contains($"WHERE (space_id = '{small.Id}'::uuid)", smallDef, StringComparison.Ordinal);
        var largeDef = await TestStore.ScalarAsync<string>("SELECT indexdef FROM pg_indexes WHERE indexname = $1", large.IndexName);
        Assert.Contains("USING hnsw (((embedding)::vector(1024)) vector_ip_ops) WITH (m='8', ef_construction='32')", largeDef, StringComparison.Ordinal);
        // vector_l2_ops is ivfflat's default operator class, which pg_get_indexdef leaves out.
        Assert.Contains("USING ivfflat (((embedding)::vector(8))) WITH (lists='4')",
            await TestStore.ScalarAsync<string>("SELECT indexdef FROM pg_indexes WHERE indexname = $1", flat.IndexName), StringComparison.Ordinal);

        // Registering the same definition again is a no-op; another definition under the name is a conflict.
        Assert.Equal(small, await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace { Name = $"small-{suffix}", Model = "m-small", Dimensions = 384 }));
        await Assert.ThrowsAsync<ChatStoreConflictException>(() => client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace { Name = $"small-{suffix}", Model = "m-small", Dimensions = 768 }));
        Assert.Contains(await client.Embeddings.ListSpacesAsync(), s => s.Id == large.Id);

        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await SearchData.UserAsync(tenant.Id);
        var memory = await SearchData.MemoryAsync(tenant.Id, user, "both spaces");
        await scope.Embeddings.UpsertAsync(small, EmbeddingOwner.Memory(memory), SearchData.Axis(384, 1));
        await scope.Embeddings.UpsertAsync(large, EmbeddingOwner.Memory(memory), SearchData.Axis(1024, 1));
        Assert.Equal(1024, (await scope.Embeddings.ListAsync(large, EmbeddingOwner.Memory(memory))).Single().Vector.Length);
        Assert.Equal(small, await scope.Embeddings.GetSpaceAsync(small.Name));

        await client.Embeddings.DropSpaceAsync(large.Name);
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM pg_indexes WHERE indexname = $1", large.IndexName));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM embeddings WHERE space_id = $1", large.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => client.Embeddings.GetSpaceAsync(large.Name));
    }

    [Fact]
    public async Task Space_definitions_are_validated()
    {
        var client = await TestStore.ClientAsync();
        async Task Expect(string field, NewEmbeddingSpace space)
        {
            var e = await Assert.ThrowsAsync<ChatStoreValidationException>(() => client.Embeddings.RegisterSpaceAsync(space));
            Assert.Equal(field, e.Field);
        }
        await Expect("name", new NewEmbeddingSpace { Name = "Bad Name", Model = "m", Dimensions = 8 });
        await Expect("name", new NewEmbeddingSpace { Name = "x'); DROP TABLE embeddings; --", Model = "m", Dimensions = 8 });
        await Expect("dimensions", new NewEmbeddingSpace { Name = "ok-dims", Model = "m", Dimensions = 0 });
        await Expect("dimensions", new NewEmbeddingSpace { Name = "ok-dims", Model = "m", Dimensions = 4000 });
        await Expect("indexParameters.efConstruction", new NewEmbeddingSpace { Name = "ok-ef", Model = "m", Dimensions = 8, IndexParameters = new() { M = 32, EfConstruction = 40 } });
        await Expect("indexParameters.lists", new NewEmbeddingSpace { Name = "ok-lists", Model = "m", Dimensions = 8, IndexParameters = new() { Lists = 5 } });
        await Expect("model", new NewEmbeddingSpace { Name = "ok-model", Model = "", Dimensions = 8 });
        var name = $"ok-mem-{Guid.NewGuid():N}"[..20];
        var mem = await Assert.ThrowsAsync<ChatStoreValidationException>(() =>
            client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace { Name = name, Model = "m", Dimensions = 8 }, maintenanceWorkMem: "lots"));
        Assert.Equal("maintenanceWorkMem", mem.Field);
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM embedding_spaces WHERE name = $1", name));
    }

    sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
