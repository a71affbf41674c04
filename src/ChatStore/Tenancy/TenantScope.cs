using ChatStore.Tenancy;

namespace ChatStore;

/// <summary>
/// Everything one tenant may do. Every operation runs with <c>chatstore.tenant_id</c> set
/// transaction-locally as the application role, so row-level security holds even if a query
/// forgot its tenant filter. Get one from <see cref="ChatStoreClient.ForTenant"/>; it is cheap
/// and safe to share between threads. Feature stores hang off it: <c>scope.Users</c>,
/// <c>scope.Conversations</c>, <c>scope.Messages</c>, …
/// </summary>
public sealed partial class TenantScope
{
    internal TenantScope(StoreContext context, Guid tenantId)
    {
        Context = context;
        TenantId = tenantId;
    }

    /// <summary>The tenant this scope acts for.</summary>
    public Guid TenantId { get; }

    internal StoreContext Context { get; }

    internal ChatStoreLimits Limits => Context.Limits;

    /// <summary>A single statement for this tenant, sent in one round trip with the tenant setting.</summary>
    internal ValueTask<TenantCommand> CommandAsync(string sql, CancellationToken cancellationToken) =>
        TenantCommand.CreateAsync(Context, TenantId, sql, cancellationToken);

    /// <summary>A transaction for this tenant, for operations of several statements.</summary>
    internal ValueTask<TenantTransaction> BeginAsync(CancellationToken cancellationToken) =>
        TenantTransaction.BeginAsync(Context, TenantId, cancellationToken);
}
