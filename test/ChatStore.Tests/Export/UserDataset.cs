using System.Security.Cryptography;
using Npgsql;

namespace ChatStore.Tests.Export;

/// <summary>
/// A rich data set for one user, inserted with plain SQL as the owner (no feature store involved): a row
/// in every table a user owns, with unicode and emoji, nested jsonb, arrays, numerics, bytea, a
/// self-referencing message, a memory superseded by a newer one, soft-deleted rows and vectors.
/// </summary>
public sealed class UserDataset
{
    /// <summary>Rows inserted per table (sessions included: an export leaves them out, an erase deletes them).</summary>
    public Dictionary<string, long> Rows { get; } = new(StringComparer.Ordinal);

    public Guid UserId { get; } = Guid.CreateVersion7();

    public Guid SpaceId { get; private set; }

    public List<Guid> ConversationIds { get; } = [];

    public List<Guid> MessageIds { get; } = [];

    /// <summary>Rows in export order of the tables the export holds (every table but sessions).</summary>
    public Dictionary<string, long> ExportedRows => Rows.Where(kv => kv.Key != "sessions").ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    /// <summary>Creates the data set in <paramref name="tenantId"/> of schema <paramref name="schema"/>; the embedding space is made when not given.</summary>
    public static async Task<UserDataset> CreateAsync(Guid tenantId, Guid? spaceId = null, string schema = "public", string role = "admin")
    {
        await TestStore.ClientAsync();
        var set = new UserDataset();
        await using var conn = new NpgsqlConnection(TestStore.ConnectionString);
        await conn.OpenAsync();
        await using (var path = new NpgsqlCommand($"SET search_path = \"{schema}\", public", conn))
            await path.ExecuteNonQueryAsync();
        await set.InsertAsync(conn, tenantId, spaceId, role);
        return set;
    }

    async Task InsertAsync(NpgsqlConnection conn, Guid t, Guid? spaceId, string role)
    {
        var u = UserId;
        var n = u.ToString("N");
        var at = new DateTimeOffset(2024, 3, 1, 12, 34, 56, TimeSpan.Zero).AddTicks(1234560);
        const string info = """{"school":"Ünïcode 🐶","nested":{"a":[1,2.5,null,true,"x\ny\t\"q\"\\"]},"ключ":"значение","emoji":"👩‍👩‍👧"}""";

        await Exec(conn, "users", """
            INSERT INTO users (id, tenant_id, external_id, email, name, role, sso_provider, sso_id, info, last_login_at, created_at, updated_at)
            VALUES ($1, $2, $3, $4, 'Zoë 🐶 O''Brien', $5, 'google', $3, $6::jsonb, $7, $7, $7 + interval '1 day')
            """, u, t, "ext-" + n, $"zoe.{n}@example.com", role, info, at);
        await Exec(conn, "sessions", """
            INSERT INTO sessions (id, tenant_id, user_id, token_hash, created_at, expires_at, ip_address, user_agent)
            VALUES ($1, $2, $3, $4, now(), now() + interval '1 day', '127.0.0.1', 'test')
            """, Guid.CreateVersion7(), t, u, RandomNumberGenerator.GetBytes(32));
        await Exec(conn, "user_preferences", """
            INSERT INTO user_preferences (tenant_id, user_id, preferences, learned_patterns, feature_toggles, created_at, updated_at)
            VALUES ($1, $2, '{"theme":"dark","lang":"de-CH","units":["metric"]}', '{"tone":{"formal":0.25}}', '{"beta":true}', $3, $3)
            """, t, u, at);
        await Exec(conn, "credit_balances", "INSERT INTO credit_balances (tenant_id, user_id, balance, created_at, updated_at) VALUES ($1, $2, 12.3456, $3, $3)", t, u, at);

        var s1 = Guid.CreateVersion7();
        var s2 = Guid.CreateVersion7();
        await Exec(conn, "subjects", """
            INSERT INTO subjects (id, tenant_id, user_id, kind, name, attributes, created_at, updated_at)
            VALUES ($1, $2, $3, 'dog', 'Rex 🐕', '{"breed":"Labrador","age":3,"weights":[30.5,31.25]}', $4, $4)
            """, s1, t, u, at);
        await Exec(conn, "subjects", """
            INSERT INTO subjects (id, tenant_id, user_id, kind, name, created_at, updated_at, deleted_at)
            VALUES ($1, $2, $3, 'cat', 'Gone', $4, $4, $4 + interval '2 hours')
            """, s2, t, u, at);

        var c1 = Guid.CreateVersion7();
        var c2 = Guid.CreateVersion7();
        ConversationIds.AddRange([c1, c2]);
        await Exec(conn, "conversations", """
            INSERT INTO conversations (id, tenant_id, user_id, title, status, pinned, mode, state, subject_id, metadata, last_seq, message_count,
                                       last_message_at, last_activity_at, created_at, updated_at)
            VALUES ($1, $2, $3, 'Chat über 🐶 "quotes"', 'active', true, 'coach', '{"step":2,"context":{"goal":"walks"}}', $4,
                    '{"source":"app","tags":["a","b"]}', 4, 4, $5, $5, $5, $5)
            """, c1, t, u, s1, at);
        await Exec(conn, "conversations", """
            INSERT INTO conversations (id, tenant_id, user_id, status, last_seq, message_count, last_activity_at, created_at, updated_at)
            VALUES ($1, $2, $3, 'archived', 1, 1, $4, $4, $4)
            """, c2, t, u, at);
        await Exec(conn, "conversation_shares", """
            INSERT INTO conversation_shares (id, tenant_id, conversation_id, created_by, token_hash, up_to_seq, created_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, 3, $6, $6 + interval '7 days')
            """, Guid.CreateVersion7(), t, c1, u, RandomNumberGenerator.GetBytes(32), at);

        var d1 = Guid.CreateVersion7();
        await Exec(conn, "documents", """
            INSERT INTO documents (id, tenant_id, user_id, conversation_id, filename, mime_type, size_bytes, sha256, storage_uri, status,
                                   extracted_text, metadata, last_analysis_version, language, created_at, updated_at)
            VALUES ($1, $2, $3, $4, 'notes 📄.pdf', 'application/pdf', 12345, $5, 's3://bucket/notes.pdf', 'ready',
                    E'Text with emoji 🎉\nand a line break, tab\tand backslash \\', '{"pages":2}', 2, 'german', $6, $6)
            """, d1, t, u, c1, SHA256.HashData("notes"u8), at);
        var a1 = Guid.CreateVersion7();
        var a2 = Guid.CreateVersion7();
        await Exec(conn, "document_analyses", """
            INSERT INTO document_analyses (id, tenant_id, document_id, version, category, summary, result, provider, model, trace_id, created_at)
            VALUES ($1, $2, $3, 1, 'medical', 'Erste Analyse', '{"score":0.5}', 'openai', 'gpt-x', 'trace-1', $4)
            """, a1, t, d1, at);
        await Exec(conn, "document_analyses", """
            INSERT INTO document_analyses (id, tenant_id, document_id, version, category, summary, result, created_at)
            VALUES ($1, $2, $3, 2, 'medical', 'Zweite 🧪', '{"score":0.75,"items":[{"k":"v"}]}', $4)
            """, a2, t, d1, at);

        // m3 regenerates m2, and its id is generated first, so ordering by id alone would put the child first.
        var m3 = Guid.CreateVersion7();
        var m1 = Guid.CreateVersion7();
        var m2 = Guid.CreateVersion7();
        var m4 = Guid.CreateVersion7();
        var m5 = Guid.CreateVersion7();
        MessageIds.AddRange([m1, m2, m3, m4, m5]);
        await Exec(conn, "messages", """
            INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content, created_at, updated_at)
            VALUES ($1, $2, $3, $4, 1, 'user', 'Hallo 👋 wie geht''s?', $5, $5)
            """, m1, t, c1, u, at);
        await Exec(conn, "messages", """
            INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content, citations, metadata, domains, model,
                                  input_tokens, output_tokens, cost_usd, response_ms, idempotency_key, request_hash, created_at, updated_at)
            VALUES ($1, $2, $3, $4, 2, 'assistant', 'Mir geht''s gut 😊', '[{"title":"Doc","url":"https://x.test/a?b=c&d"}]',
                    '{"temperature":0.7}', '{dogs,"health care",ünï}', 'gpt-x', 12, 34, 0.00012345, 850, $6, $7, $5, $5)
            """, m2, t, c1, u, at.AddSeconds(1), "idem-" + n, SHA256.HashData("req"u8));
        await Exec(conn, "messages", """
            INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content, parent_id, status, created_at, updated_at)
            VALUES ($1, $2, $3, $4, 3, 'assistant', 'Regenerated 🔁', $5, 'complete', $6, $6)
            """, m3, t, c1, u, m2, at.AddSeconds(2));
        await Exec(conn, "messages", """
            INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content, status, error, language, created_at, updated_at, edited_at, deleted_at)
            VALUES ($1, $2, $3, $4, 4, 'tool', '', 'error', 'timeout', 'simple', $5, $5, $5, $5 + interval '1 minute')
            """, m4, t, c1, u, at.AddSeconds(3));
        await Exec(conn, "messages", """
            INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content, created_at, updated_at)
            VALUES ($1, $2, $3, $4, 1, 'system', 'Du bist ein Hundetrainer.', $5, $5)
            """, m5, t, c2, u, at);
        await Exec(conn, "message_feedback", """
            INSERT INTO message_feedback (id, tenant_id, message_id, user_id, rating, score, comment, created_at, updated_at)
            VALUES ($1, $2, $3, $4, 'like', 9, 'великолепно', $5, $5)
            """, Guid.CreateVersion7(), t, m2, u, at);
        await Exec(conn, "message_corrections", """
            INSERT INTO message_corrections (id, tenant_id, message_id, user_id, original_content, corrected_content, reason, created_at)
            VALUES ($1, $2, $3, $4, 'Mir geht''s gut', 'Mir geht es gut', 'grammar', $5)
            """, Guid.CreateVersion7(), t, m2, u, at);
        await Exec(conn, "message_documents", "INSERT INTO message_documents (tenant_id, message_id, document_id, created_at) VALUES ($1, $2, $3, $4)", t, m1, d1, at);

        // mA (older) was superseded by mB (newer): mA points forward, so mB must be imported first.
        var mA = Guid.CreateVersion7();
        var mB = Guid.CreateVersion7();
        var mC = Guid.CreateVersion7();
        await Exec(conn, "memories", """
            INSERT INTO memories (id, tenant_id, user_id, content, kind, importance, external_id, content_hash, metadata, created_at, updated_at)
            VALUES ($1, $2, $3, 'Loves dogs 🐶', 'fact', 0.9, 'ext-b', $4, '{"confidence":0.875}', $5, $5)
            """, mB, t, u, SHA256.HashData("b"u8), at.AddDays(1));
        await Exec(conn, "memories", """
            INSERT INTO memories (id, tenant_id, user_id, content, kind, importance, content_hash, superseded_by, created_at, updated_at)
            VALUES ($1, $2, $3, 'Likes dogs', 'preference', 0.3, $4, $5, $6, $6)
            """, mA, t, u, SHA256.HashData("a"u8), mB, at);
        await Exec(conn, "memories", """
            INSERT INTO memories (id, tenant_id, user_id, content, content_hash, language, created_at, updated_at, deleted_at)
            VALUES ($1, $2, $3, 'Forgotten', $4, 'simple', $5, $5, $5)
            """, mC, t, u, SHA256.HashData("c"u8), at);
        await Exec(conn, "memory_sources", "INSERT INTO memory_sources (tenant_id, memory_id, conversation_id, message_id, created_at) VALUES ($1, $2, $3, $4, $5)", t, mB, c1, m2, at);
        await Exec(conn, "memory_sources", "INSERT INTO memory_sources (tenant_id, memory_id, conversation_id, message_id, created_at) VALUES ($1, $2, $3, NULL, $4)", t, mB, c2, at);

        if (spaceId is null)
        {
            SpaceId = Guid.CreateVersion7();
            await Exec(conn, null, "INSERT INTO embedding_spaces (id, name, model, dimensions) VALUES ($1, $2, 'test-model', 3)", SpaceId, "t" + SpaceId.ToString("N"));
        }
        else
        {
            SpaceId = spaceId.Value;
        }
        const string embedding = """
            INSERT INTO embeddings (id, tenant_id, space_id, user_id, message_id, memory_id, document_id, analysis_id, subject_id, conversation_id,
                                    chunk_index, chunk_text, embedding, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::real[]::vector, $14)
            """;
        await Exec(conn, "embeddings", embedding, Guid.CreateVersion7(), t, SpaceId, u, m2, null, null, null, null, c1, 0, "Mir geht's gut 😊", new[] { 0.1f, -0.25f, 3.5e-7f }, at);
        await Exec(conn, "embeddings", embedding, Guid.CreateVersion7(), t, SpaceId, u, null, mB, null, null, null, null, 0, null, new[] { 1f, 0f, -1.5e-30f }, at);
        await Exec(conn, "embeddings", embedding, Guid.CreateVersion7(), t, SpaceId, u, null, null, d1, null, null, null, 1, "chunk 2", new[] { 0.333333f, 123456.79f, 1e-3f }, at);
        await Exec(conn, "embeddings", embedding, Guid.CreateVersion7(), t, SpaceId, null, null, null, null, a2, null, null, 0, null, new[] { 0.5f, 0.25f, 0.125f }, at);
        await Exec(conn, "embeddings", embedding, Guid.CreateVersion7(), t, SpaceId, u, null, null, null, null, s1, null, 0, "Rex", new[] { -0.1f, 0.2f, -0.3f }, at);

        await Exec(conn, "reminders", """
            INSERT INTO reminders (id, tenant_id, user_id, conversation_id, title, body, due_at, recurrence, timezone, status, sent_count, metadata, created_at, updated_at)
            VALUES ($1, $2, $3, $4, 'Walk 🐕', 'Park', $5, 'FREQ=DAILY;COUNT=3', 'Europe/Zurich', 'pending', 1, '{"channel":"push"}', $5, $5)
            """, Guid.CreateVersion7(), t, u, c1, at);
        await Exec(conn, "usage_events", """
            INSERT INTO usage_events (id, tenant_id, user_id, conversation_id, message_id, action, model, input_tokens, output_tokens, credits, cost_usd, metadata, occurred_at)
            VALUES ($1, $2, $3, $4, $5, 'chat', 'gpt-x', 12, 34, 1.2345, 0.00012345, '{"route":"/chat"}', $6)
            """, Guid.CreateVersion7(), t, u, c1, m2, at);
        await Exec(conn, "search_history", """
            INSERT INTO search_history (id, tenant_id, user_id, query, mode, result_count, created_at)
            VALUES ($1, $2, $3, 'dogs 🐶 "quoted" -cats', 'hybrid', 3, $4)
            """, Guid.CreateVersion7(), t, u, at);
        await Exec(conn, "cache_entries", """
            INSERT INTO cache_entries (tenant_id, key, user_id, value, expires_at, created_at)
            VALUES ($1, $2, $3, '{"profile":{"name":"Zoë"},"list":[1,2,3]}', $4 + interval '1 year', $4)
            """, t, $"user:{n}:profile", u, at);
    }

    async Task Exec(NpgsqlConnection conn, string? table, string sql, params object?[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var a in args)
        {
            // A null goes untyped: PostgreSQL takes the column's type.
            cmd.Parameters.Add(new NpgsqlParameter { Value = a ?? DBNull.Value });
        }
        var n = await cmd.ExecuteNonQueryAsync();
        if (table is not null)
            Rows[table] = Rows.GetValueOrDefault(table) + n;
    }
}
