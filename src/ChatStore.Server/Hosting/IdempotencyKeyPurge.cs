using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatStore.Server.Hosting;

/// <summary>
/// Deletes idempotency keys older than <see cref="ServerOptions.IdempotencyKeyLifetime"/>, every
/// <see cref="ServerOptions.IdempotencyPurgeInterval"/> on the injected clock, tenant by tenant in batches of
/// <see cref="BatchSize"/> (short transactions that never hold many locks). A failed pass (the database down)
/// is logged and the next one tries again.
/// </summary>
internal sealed partial class IdempotencyKeyPurge(ChatStoreClient client, IOptions<ServerOptions> options, TimeProvider time, ILogger<IdempotencyKeyPurge> logger)
    : BackgroundService
{
    public const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.IdempotencyPurgeInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                var purged = await PurgeAsync(stoppingToken).ConfigureAwait(false);
                if (purged > 0)
                    LogPurged(logger, purged);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, e);
            }
        }
    }

    /// <summary>One pass over every tenant; returns how many keys it deleted.</summary>
    public async Task<long> PurgeAsync(CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow() - options.Value.IdempotencyKeyLifetime;
        long purged = 0;
        string? cursor = null;
        do
        {
            var page = await client.Tenants.ListAsync(100, cursor, cancellationToken).ConfigureAwait(false);
            foreach (var tenant in page.Items)
            {
                var keys = client.ForTenant(tenant.Id).Idempotency;
                int deleted;
                do
                {
                    deleted = await keys.PurgeAsync(before, BatchSize, cancellationToken).ConfigureAwait(false);
                    purged += deleted;
                }
                while (deleted == BatchSize);
            }
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return purged;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} expired idempotency keys")]
    static partial void LogPurged(ILogger logger, long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Purging expired idempotency keys failed; the next pass retries")]
    static partial void LogFailed(ILogger logger, Exception exception);
}
