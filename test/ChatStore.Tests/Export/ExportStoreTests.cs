using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatStore.Tenants;
using Npgsql;

namespace ChatStore.Tests.Export;

public sealed class ExportStoreTests
{
    static async Task<List<string>> ExportAsync(TenantScope scope, Guid userId)
    {
        using var stream = new MemoryStream();
        await scope.Export.ExportUserAsync(userId, stream);
        var text = Encoding.UTF8.GetString(stream.ToArray());
        Assert.EndsWith("\n", text);
        Assert.False(stream.ToArray().AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]), "no byte order mark");
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    static Task<ChatStore.Export.UserImport> ImportAsync(TenantScope scope, IEnumerable<string> lines) =>
        scope.Export.ImportUserAsync(new MemoryStream(Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n")));

    /// <summary>The header without the fields that differ between two exports of the same data.</summary>
    static string Stable(string header)
    {
        var node = JsonNode.Parse(header)!.AsObject();
        node.Remove("tenantId");
        node.Remove("exportedAt");
        return node.ToJsonString();
    }

    static void AssertSameExport(List<string> expected, List<string> actual)
    {
        Assert.Equal(Stable(expected[0]), Stable(actual[0]));
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 1; i < expected.Count; i++)
            Assert.Equal(expected[i], actual[i]);
    }

    static Dictionary<string, long> CountByType(IEnumerable<string> lines) =>
        lines.Skip(1).GroupBy(l => JsonNode.Parse(l)!["type"]!.GetValue<string>()).ToDictionary(g => g.Key, g => (long)g.Count());

    [Fact]
    public async Task Export_writes_a_header_then_every_row_of_the_user_parents_first_without_tenant_ids_generated_columns_or_sessions()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var data = await UserDataset.CreateAsync(tenant.Id);
        var other = await UserDataset.CreateAsync(tenant.Id, data.SpaceId);

        using var stream = new MemoryStream();
        var counts = await scope.Export.ExportUserAsync(data.UserId, stream);
        var lines = Encoding.UTF8.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        var header = JsonNode.Parse(lines[0])!.AsObject();
        Assert.Equal("chatstore-export", header["type"]!.GetValue<string>());
        Assert.Equal(1, header["version"]!.GetValue<int>());
        Assert.Equal(await TestStore.ScalarAsync<int>("SELECT max(version) FROM chatstore_migrations WHERE source = 'chatstore'"), header["schemaVersion"]!.GetValue<int>());
        Assert.Equal(tenant.Id, header["tenantId"]!.GetValue<Guid>());
        Assert.Equal(data.UserId, header["userId"]!.GetValue<Guid>());
        Assert.InRange(DateTimeOffset.Parse(header["exportedAt"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture),
            DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));

        // Exactly the user's rows, counted right; the other user's rows and the sessions are not there.
        var expected = data.ExportedRows;
        Assert.Equal(expected.OrderBy(kv => kv.Key), CountByType(lines).OrderBy(kv => kv.Key));
        Assert.Equal(expected.OrderBy(kv => kv.Key), counts.Where(kv => kv.Value > 0).OrderBy(kv => kv.Key));
        Assert.DoesNotContain(other.UserId.ToString(), string.Join("\n", lines.Skip(1)));

        var rows = lines.Skip(1).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        foreach (var row in rows.Select(r => r["row"]!.AsObject()))
        {
            Assert.False(row.ContainsKey("tenant_id"));
            Assert.False(row.ContainsKey("search_vector"));
            Assert.False(row.ContainsKey("date_group"));
        }

        // Parents before children: every table's first row after the last row of the tables it references.
        var position = rows.Select((r, i) => (Type: r["type"]!.GetValue<string>(), i)).GroupBy(x => x.Type).ToDictionary(g => g.Key, g => (First: g.Min(x => x.i), Last: g.Max(x => x.i)));
        Assert.Equal(0, position["users"].First);
        foreach (var (parent, child) in new[] { ("users", "conversations"), ("subjects", "conversations"), ("conversations", "messages"), ("conversations", "documents"),
            ("documents", "document_analyses"), ("messages", "message_feedback"), ("messages", "message_documents"), ("documents", "message_documents"),
            ("memories", "memory_sources"), ("messages", "memory_sources"), ("document_analyses", "embeddings"), ("messages", "embeddings"), ("messages", "usage_events") })
            Assert.True(position[parent].Last < position[child].First, $"{parent} before {child}");

        // Within a table, a row comes after the row it points at: the regeneration after its message, the old memory after its successor.
        var messages = rows.Where(r => r["type"]!.GetValue<string>() == "messages").Select(r => r["row"]!).ToList();
        var ids = messages.Select(m => m["id"]!.GetValue<string>()).ToList();
        foreach (var m in messages.Where(m => m["parent_id"] is not null))
            Assert.True(ids.IndexOf(m["parent_id"]!.GetValue<string>()) < ids.IndexOf(m["id"]!.GetValue<string>()));
        var memories = rows.Where(r => r["type"]!.GetValue<string>() == "memories").Select(r => r["row"]!).ToList();
        var memoryIds = memories.Select(m => m["id"]!.GetValue<string>()).ToList();
        var superseded = memories.Single(m => m["superseded_by"] is not null);
        Assert.True(memoryIds.IndexOf(superseded["superseded_by"]!.GetValue<string>()) < memoryIds.IndexOf(superseded["id"]!.GetValue<string>()));

        // Values: unicode as is, numerics exact, vectors as number arrays, bytea as hex, timestamps in UTC.
        var user = rows[0]["row"]!;
        Assert.Equal("Zoë 🐶 O'Brien", user["name"]!.GetValue<string>());
        Assert.Equal("x\ny\t\"q\"\\", user["info"]!["nested"]!["a"]![4]!.GetValue<string>());
        Assert.Equal("2024-03-01T12:34:56.123456+00:00", user["created_at"]!.GetValue<string>());
        var reply = messages.Single(m => m["seq"]!.GetValue<int>() == 2 && m["role"]!.GetValue<string>() == "assistant");
        Assert.Equal("0.00012345", reply["cost_usd"]!.ToJsonString());
        Assert.Equal(["dogs", "health care", "ünï"], reply["domains"]!.AsArray().Select(d => d!.GetValue<string>()));
        Assert.Contains("\"ünï\"", lines.Single(l => l.StartsWith($"{{\"type\":\"messages\",\"row\":{{\"id\":\"{reply["id"]!.GetValue<string>()}\"", StringComparison.Ordinal)));
        Assert.StartsWith("\\x", reply["request_hash"]!.GetValue<string>());
        var vectors = rows.Where(r => r["type"]!.GetValue<string>() == "embeddings").Select(r => r["row"]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray()).ToList();
        Assert.Contains(vectors, v => v.SequenceEqual([0.1f, -0.25f, 3.5e-7f]));
        Assert.Contains(vectors, v => v.SequenceEqual([1f, 0f, -1.5e-30f]));
    }

    [Fact]
    public async Task Export_import_into_a_fresh_tenant_of_another_schema_and_export_again_gives_the_same_lines()
    {
        var (_, source, tenant) = await TestStore.NewTenantAsync();
        var data = await UserDataset.CreateAsync(tenant.Id);
        var first = await ExportAsync(source, data.UserId);

        // Another ChatStore schema in the same database stands in for another installation.
        var schema = $"export-target-{Guid.NewGuid():N}"[..30];
        await using var dataSource = NpgsqlDataSource.Create(TestStore.ConnectionString);
        await using var target = new ChatStoreClient(dataSource, schema);
        await target.Migrator.InitAsync();
        await Probe.ExecAsync($"INSERT INTO \"{schema}\".embedding_spaces (id, name, model, dimensions) VALUES ($1, 'same-space', 'test-model', 3)", data.SpaceId);
        var fresh = await target.Tenants.CreateAsync(new NewTenant { Name = "fresh" });
        var scope = target.ForTenant(fresh.Id);

        var imported = await ImportAsync(scope, first);
        Assert.Equal(data.UserId, imported.UserId);
        Assert.Equal(tenant.Id, imported.SourceTenantId);
        Assert.Equal(data.ExportedRows.OrderBy(kv => kv.Key), imported.Rows.Where(kv => kv.Value > 0).OrderBy(kv => kv.Key));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>($"SELECT count(*) FROM \"{schema}\".sessions"));

        var second = await ExportAsync(scope, data.UserId);
        AssertSameExport(first, second);
        Assert.Equal(fresh.Id, JsonNode.Parse(second[0])!["tenantId"]!.GetValue<Guid>());
        // Generated columns are computed again from the imported values.
        Assert.Equal(5L, await TestStore.ScalarAsync<long>($"SELECT count(*) FROM \"{schema}\".messages WHERE tenant_id = $1 AND search_vector IS NOT NULL AND date_group IS NOT NULL", fresh.Id));
    }

    [Fact]
    public async Task A_user_moves_between_tenants_by_export_erase_and_import_and_exports_the_same_lines()
    {
        var (_, a, tenantA) = await TestStore.NewTenantAsync();
        var (_, b, _) = await TestStore.NewTenantAsync();
        var data = await UserDataset.CreateAsync(tenantA.Id);
        var first = await ExportAsync(a, data.UserId);

        await a.Export.EraseUserAsync(data.UserId);
        var imported = await ImportAsync(b, first);

        Assert.Equal(data.ExportedRows.Values.Sum(), imported.Rows.Values.Sum());
        AssertSameExport(first, await ExportAsync(b, data.UserId));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => ExportAsync(a, data.UserId));
    }

    [Fact]
    public async Task Import_into_a_tenant_that_has_the_user_is_a_conflict_and_changes_nothing()
    {
        var (_, a, tenantA) = await TestStore.NewTenantAsync();
        var (_, b, tenantB) = await TestStore.NewTenantAsync();
        var data = await UserDataset.CreateAsync(tenantA.Id);
        var lines = await ExportAsync(a, data.UserId);
        var before = await Probe.TenantRowsAsync(tenantA.Id);

        var error = await Assert.ThrowsAsync<ChatStoreConflictException>(() => ImportAsync(a, lines));
        Assert.Contains("already exists in this tenant", error.Message);
        Assert.Equal(before, await Probe.TenantRowsAsync(tenantA.Id));

        // Keys are per tenant, so the same rows (ids kept) can go into tenant B while the user still lives in tenant A:
        // a copy, which leaves A as it was.
        await ImportAsync(b, lines);
        Assert.Equal(1L, (await Probe.TenantRowsAsync(tenantB.Id))["users"]);
        Assert.Equal(before, await Probe.TenantRowsAsync(tenantA.Id));
    }

    public static TheoryData<string> BadImports => ["nul", "lone surrogate", "unknown table", "unknown column", "another user's conversation",
        "foreign parent", "unknown role", "newer schema", "not a header", "not json", "user id differs from header"];

    [Theory]
    [MemberData(nameof(BadImports))]
    public async Task A_bad_import_is_rejected_naming_what_is_wrong_and_changes_nothing(string kind)
    {
        var (_, a, tenantA) = await TestStore.NewTenantAsync();
        var (_, b, tenantB) = await TestStore.NewTenantAsync();
        var data = await UserDataset.CreateAsync(tenantA.Id);
        var lines = await ExportAsync(a, data.UserId);
        await a.Export.EraseUserAsync(data.UserId);
        var resident = await TestStore.NewUserAsync(b);
        var foreign = await UserDataset.CreateAsync(tenantA.Id, data.SpaceId);

        // Built here: xunit's theory data would replace a lone surrogate with U+FFFD.
        var tampered = lines.ToList();
        void ReplaceIn(string type, string from, string to)
        {
            var i = tampered.FindIndex(l => l.StartsWith($"{{\"type\":\"{type}\"", StringComparison.Ordinal));
            Assert.Contains(from, tampered[i]);
            tampered[i] = tampered[i].Replace(from, to, StringComparison.Ordinal);
        }
        void Change(string type, Action<JsonObject> change)
        {
            var i = tampered.FindIndex(l => JsonNode.Parse(l)!["type"]!.GetValue<string>() == type);
            var line = JsonNode.Parse(tampered[i])!.AsObject();
            change(line["row"]!.AsObject());
            tampered[i] = line.ToJsonString();
        }
        var (field, rule) = kind switch
        {
            "nul" => Edit(() => Change("messages", r => r["content"] = "a\0b"), "messages[0].content", "nul_character"),
            "lone surrogate" => Edit(() => ReplaceIn("search_history", "\"query\":\"dogs", "\"query\":\"\\ud800dogs"), "search_history[0].query", "unpaired_surrogate"),
            "unknown table" => Edit(() => tampered.Insert(2, """{"type":"pg_authid","row":{}}"""), "line 3.type", "unknown_table"),
            "unknown column" => Edit(() => Change("subjects", r => r["owner_secret"] = 1), "subjects[0].owner_secret", "unknown_column"),
            "another user's conversation" => Edit(() => Change("conversations", r => r["user_id"] = resident.Id.ToString()), "conversations[0].user_id", "other_user"),
            "foreign parent" => Edit(() => Change("messages", r => { r["conversation_id"] = foreign.ConversationIds[0].ToString(); r["seq"] = 99; }), "messages[0].conversation_id", "reference"),
            "unknown role" => Edit(() => Change("users", r => r["role"] = "wizard"), "users.role", "enum"),
            "newer schema" => Edit(() => { var h = JsonNode.Parse(tampered[0])!; h["schemaVersion"] = 9999; tampered[0] = h.ToJsonString(); }, "header.schemaVersion", "newer"),
            "not a header" => Edit(() => tampered.RemoveAt(0), "header.type", "format"),
            "not json" => Edit(() => tampered.Insert(3, "{\"type\":"), "line 4", "json"),
            _ => Edit(() => Change("users", r => r["id"] = Guid.NewGuid().ToString()), "users[0].id", "header"),
        };
        var before = await Probe.TenantRowsAsync(tenantB.Id);

        var error = await Assert.ThrowsAsync<ChatStoreValidationException>(() => ImportAsync(b, tampered));
        Assert.Equal((field, rule), (error.Field, error.Rule));
        Assert.Equal(before, await Probe.TenantRowsAsync(tenantB.Id));
        // The untouched export still imports: nothing of the failed attempt is left in the way.
        Assert.Equal(data.ExportedRows.Values.Sum(), (await ImportAsync(b, lines)).Rows.Values.Sum());
    }

    static (string, string) Edit(Action edit, string field, string rule)
    {
        edit();
        return (field, rule);
    }

    [Fact]
    public async Task Erase_deletes_every_row_connected_to_the_user_in_every_table_and_nothing_else()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var data = await UserDataset.CreateAsync(tenant.Id);
        var other = await UserDataset.CreateAsync(tenant.Id, data.SpaceId);
        var ids = await Probe.IdsOfUserAsync(data.UserId);
        var otherExport = await ExportAsync(scope, other.UserId);
        var before = await Probe.TenantRowsAsync(tenant.Id);
        Assert.Contains(await Probe.RowsConnectedToAsync(data.UserId, ids), kv => kv.Value > 0);

        var erased = await scope.Export.EraseUserAsync(data.UserId);

        // The counts returned are the user's rows, table by table (every table that can hold them is listed).
        Assert.Equal(data.Rows.OrderBy(kv => kv.Key), erased.Where(kv => kv.Value > 0).OrderBy(kv => kv.Key));
        Assert.Contains("sessions", erased.Keys);
        // Nothing connected to the user is left in any table, whatever its foreign keys are called.
        Assert.All(await Probe.RowsConnectedToAsync(data.UserId, ids), kv => Assert.True(kv.Value == 0, $"{kv.Key}: {kv.Value} rows left"));
        // And nothing else was deleted: the tenant lost exactly the counted rows, the other user's export is unchanged.
        var after = await Probe.TenantRowsAsync(tenant.Id);
        foreach (var (table, n) in before)
            Assert.Equal(n - erased.GetValueOrDefault(table), after[table]);
        AssertSameExport(otherExport, await ExportAsync(scope, other.UserId));
    }

    [Fact]
    public async Task Erase_takes_another_users_feedback_on_the_users_messages_and_export_leaves_it_out()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var data = await UserDataset.CreateAsync(tenant.Id);
        var friend = await TestStore.NewUserAsync(scope);
        await Probe.ExecAsync("INSERT INTO message_feedback (id, tenant_id, message_id, user_id, rating) VALUES ($1, $2, $3, $4, 'dislike')",
            Guid.CreateVersion7(), tenant.Id, data.MessageIds[0], friend.Id);
        // A usage event of the friend that names the user's conversation only points at it (ON DELETE SET NULL).
        await Probe.ExecAsync("INSERT INTO usage_events (id, tenant_id, user_id, conversation_id, action) VALUES ($1, $2, $3, $4, 'view')",
            Guid.CreateVersion7(), tenant.Id, friend.Id, data.ConversationIds[0]);

        var lines = await ExportAsync(scope, data.UserId);
        Assert.DoesNotContain(friend.Id.ToString(), string.Join("\n", lines));

        var erased = await scope.Export.EraseUserAsync(data.UserId);
        Assert.Equal(data.Rows["message_feedback"] + 1, erased["message_feedback"]);
        Assert.Equal(data.Rows["usage_events"], erased["usage_events"]);
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM message_feedback WHERE user_id = $1", friend.Id));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM usage_events WHERE user_id = $1 AND conversation_id IS NULL", friend.Id));
        Assert.Equal(friend.Id, (await scope.Users.GetAsync(friend.Id)).Id);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Another_tenant_cannot_export_or_erase_the_user_and_an_unknown_user_is_not_found(bool bypassRowLevelSecurity)
    {
        var (_, a, tenantA) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var (_, b, _) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var data = await UserDataset.CreateAsync(tenantA.Id);
        var before = await Probe.TenantRowsAsync(tenantA.Id);

        using var stream = new MemoryStream();
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Export.ExportUserAsync(data.UserId, stream));
        Assert.Equal(0, stream.Length);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Export.EraseUserAsync(data.UserId));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => a.Export.EraseUserAsync(Guid.NewGuid()));
        await Assert.ThrowsAsync<ChatStoreValidationException>(() => a.Export.EraseUserAsync(Guid.Empty));
        Assert.Equal(before, await Probe.TenantRowsAsync(tenantA.Id));
    }

    [Fact]
    public async Task A_soft_deleted_user_is_exported_and_erased_too()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var data = await UserDataset.CreateAsync(tenant.Id);
        await scope.Users.DeleteAsync(data.UserId);

        var lines = await ExportAsync(scope, data.UserId);
        Assert.Equal(data.ExportedRows.Values.Sum() + 1, lines.Count);
        var erased = await scope.Export.EraseUserAsync(data.UserId);
        Assert.Equal(1L, erased["users"]);
        Assert.All(await Probe.TenantRowsAsync(tenant.Id), kv => Assert.Equal(0L, kv.Value));
    }

    [Fact]
    public async Task A_large_export_streams_and_imports_in_batches()
    {
        var (_, a, tenantA) = await TestStore.NewTenantAsync();
        var (_, b, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(a);
        var conversation = Guid.CreateVersion7();
        const int messages = 5000;
        await Probe.ExecAsync("INSERT INTO conversations (id, tenant_id, user_id, last_seq, message_count) VALUES ($1, $2, $3, $4, $4)", conversation, tenantA.Id, user.Id, messages);
        await Probe.ExecAsync("""
            INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content, metadata)
            SELECT gen_random_uuid(), $1, $2, $3, s, CASE WHEN s % 2 = 0 THEN 'assistant' ELSE 'user' END,
                   'Message ' || s || ' 🐶 ' || repeat('x', s % 300), jsonb_build_object('n', s)
              FROM generate_series(1, $4) s
            """, tenantA.Id, conversation, user.Id, messages);

        var lines = await ExportAsync(a, user.Id);
        var seqs = lines.Skip(1).Select(l => JsonNode.Parse(l)!).Where(n => n["type"]!.GetValue<string>() == "messages").Select(n => n["row"]!["seq"]!.GetValue<long>()).ToList();
        Assert.Equal(Enumerable.Range(1, messages).Select(i => (long)i), seqs);

        await a.Export.EraseUserAsync(user.Id);
        var imported = await ImportAsync(b, lines);
        Assert.Equal(messages, imported.Rows["messages"]);
        AssertSameExport(lines, await ExportAsync(b, user.Id));
    }
}
