using ChatStore.Users;
using Npgsql;

namespace ChatStore.Tests.Messages;

/// <summary>
/// Rows the message tests need from other features (conversations, documents), inserted as the owner
/// with plain SQL so these tests do not depend on those features' stores.
/// </summary>
public static class MessageTestData
{
    /// <summary>A tenant scope with one user and one conversation of theirs (through a role that bypasses row-level security when asked).</summary>
    public static async Task<Fixture> NewAsync(string? searchLanguage = null, bool bypassRowLevelSecurity = false)
    {
        var (client, scope, tenant) = await TestStore.NewTenantAsync(searchLanguage: searchLanguage, bypassRowLevelSecurity: bypassRowLevelSecurity);
        var user = await TestStore.NewUserAsync(scope);
        var conversationId = await NewConversationAsync(tenant.Id, user.Id);
        return new Fixture(client, scope, tenant.Id, user, conversationId);
    }

    public static async Task<Guid> NewConversationAsync(Guid tenantId, Guid userId)
    {
        var id = Guid.CreateVersion7();
        await ExecuteAsync("INSERT INTO conversations (id, tenant_id, user_id) VALUES ($1, $2, $3)", id, tenantId, userId);
        return id;
    }

    public static async Task<Guid> NewDocumentAsync(Guid tenantId, Guid userId)
    {
        var id = Guid.CreateVersion7();
        await ExecuteAsync("INSERT INTO documents (id, tenant_id, user_id, filename) VALUES ($1, $2, $3, 'notes.txt')", id, tenantId, userId);
        return id;
    }

    public static Task SoftDeleteConversationAsync(Guid conversationId) =>
        ExecuteAsync("UPDATE conversations SET deleted_at = now() WHERE id = $1", conversationId);

    public static Task<long> CountAsync(string table, Guid tenantId) =>
        TestStore.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE tenant_id = $1", tenantId);

    public static async Task<(long LastSeq, int MessageCount)> CountersAsync(Guid conversationId)
    {
        await using var conn = new NpgsqlConnection(TestStore.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT last_seq, message_count FROM conversations WHERE id = $1", conn);
        cmd.Parameters.Add(new() { Value = conversationId });
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt64(0), reader.GetInt32(1));
    }

    public static Task ExecuteAsync(string sql, params object[] args) => TestStore.ExecuteAsync(sql, args);

    /// <summary>A second client over the shared database with other limits.</summary>
    public static async Task<ChatStoreClient> ClientWithLimitsAsync(ChatStoreLimits limits)
    {
        await TestStore.ClientAsync();
        return new ChatStoreClient(NpgsqlDataSource.Create(TestStore.ConnectionString), limits: limits);
    }

    public sealed record Fixture(ChatStoreClient Client, TenantScope Scope, Guid TenantId, User User, Guid ConversationId);
}
