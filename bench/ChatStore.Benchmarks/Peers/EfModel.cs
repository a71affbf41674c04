using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using NpgsqlTypes;

namespace ChatStore.Benchmarks.Peers;

/// <summary>
/// (C) The EF Core peer's model: what a .NET team would map over ChatStore's tables (idempotent: no
/// migrations, the schema is ChatStore's). Multi-tenancy the EF way: a global query filter on
/// <c>tenant_id</c> plus, because the tables have forced row-level security, a connection interceptor
/// that sets the application role and <c>chatstore.tenant_id</c> for the session when EF opens the
/// connection (Npgsql's reset on close, left on, clears both when the connection returns to the pool).
/// </summary>
public sealed class ChatDb(DbContextOptions<ChatDb> options) : DbContext(options)
{
    /// <summary>The tenant this unit of work acts for (set after renting the context from the pool).</summary>
    public Guid TenantId { get; set; }

    public DbSet<ConversationRow> Conversations => Set<ConversationRow>();

    public DbSet<MessageRow> Messages => Set<MessageRow>();

    public DbSet<MemoryRow> Memories => Set<MemoryRow>();

    public DbSet<UserRow> Users => Set<UserRow>();

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<UserRow>(e =>
        {
            e.ToTable("users");
            e.HasKey(x => x.Id);
            e.HasQueryFilter(x => x.TenantId == TenantId);
        });
        b.Entity<ConversationRow>(e =>
        {
            e.ToTable("conversations");
            e.HasKey(x => x.Id);
            // Optimistic concurrency on PostgreSQL's xmin: the EF way to keep seq gapless under concurrent appends.
            e.Property(x => x.Version).IsRowVersion();
            e.HasQueryFilter(x => x.TenantId == TenantId);
        });
        b.Entity<MessageRow>(e =>
        {
            e.ToTable("messages");
            e.HasKey(x => x.Id);
            e.Property(x => x.Citations).HasColumnType("jsonb");
            e.Property(x => x.Metadata).HasColumnType("jsonb");
            e.Property(x => x.CostUsd).HasColumnType("numeric(18,8)");
            e.Property(x => x.CreatedAt).HasDefaultValueSql("now()");
            e.Property(x => x.UpdatedAt).HasDefaultValueSql("now()");
            e.Property(x => x.DateGroup).HasComputedColumnSql("((created_at AT TIME ZONE 'UTC')::date)", stored: true);
            e.Property(x => x.SearchVector).HasComputedColumnSql("to_tsvector(language, left(content, 100000))", stored: true);
            e.HasQueryFilter(x => x.TenantId == TenantId);
        });
        b.Entity<MemoryRow>(e =>
        {
            e.ToTable("memories");
            e.HasKey(x => x.Id);
            e.Property(x => x.Metadata).HasColumnType("jsonb");
            e.Property(x => x.SearchVector).HasComputedColumnSql("to_tsvector(language, left(content, 100000))", stored: true);
            e.HasQueryFilter(x => x.TenantId == TenantId);
        });
        // ChatStore's columns are snake_case.
        foreach (var entity in b.Model.GetEntityTypes())
            foreach (var property in entity.GetProperties())
                if (property.GetColumnName() == property.Name)
                    property.SetColumnName(SnakeCase(property.Name));
    }

    static string SnakeCase(string name)
    {
        var sb = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
                sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }
}

/// <summary>Sets the role and the tenant for the session whenever EF opens a connection.</summary>
public sealed class TenantConnectionInterceptor(string role) : DbConnectionInterceptor
{
    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        var tenant = ((ChatDb)eventData.Context!).TenantId;
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT set_config('role', @role, false), set_config('chatstore.tenant_id', @tenant, false)";
        var r = cmd.CreateParameter();
        r.ParameterName = "role";
        r.Value = role;
        cmd.Parameters.Add(r);
        var t = cmd.CreateParameter();
        t.ParameterName = "tenant";
        t.Value = tenant.ToString();
        cmd.Parameters.Add(t);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) =>
        throw new NotSupportedException("The EF Core peer opens connections asynchronously only.");
}

public sealed class UserRow
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public string? ExternalId { get; set; }
    public string? Email { get; set; }
    public string? Name { get; set; }
    public string Role { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
}

public sealed class ConversationRow
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid UserId { get; set; }
    public string Title { get; set; } = "";
    public string Status { get; set; } = "active";
    public bool Pinned { get; set; }
    public long LastSeq { get; set; }
    public int MessageCount { get; set; }
    public DateTimeOffset? LastMessageAt { get; set; }
    public DateTimeOffset LastActivityAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }

    [System.ComponentModel.DataAnnotations.Schema.Column("xmin")]
    public uint Version { get; set; }
}

public sealed class MessageRow
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid ConversationId { get; set; }
    public Guid UserId { get; set; }
    public long Seq { get; set; }
    public string Role { get; set; } = "";
    public string Content { get; set; } = "";
    public string Status { get; set; } = "complete";
    public Guid? ParentId { get; set; }
    public string Citations { get; set; } = "[]";
    public string Metadata { get; set; } = "{}";
    public string[] Domains { get; set; } = [];
    public string? Model { get; set; }
    public int InputTokens { get; set; }
    public int OutputTokens { get; set; }
    public decimal CostUsd { get; set; }
    public int? ResponseMs { get; set; }
    public string? Error { get; set; }
    public string? IdempotencyKey { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? EditedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
    public DateOnly DateGroup { get; set; }
    public NpgsqlTsVector? SearchVector { get; set; }
}

public sealed class MemoryRow
{
    public Guid Id { get; set; }
    public Guid TenantId { get; set; }
    public Guid UserId { get; set; }
    public string Content { get; set; } = "";
    public string Kind { get; set; } = "fact";
    public float Importance { get; set; }
    public byte[] ContentHash { get; set; } = [];
    public string Metadata { get; set; } = "{}";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
    public Guid? SupersededBy { get; set; }
    public NpgsqlTsVector? SearchVector { get; set; }
}
