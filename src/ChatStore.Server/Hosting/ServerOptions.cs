namespace ChatStore.Server.Hosting;

/// <summary>Settings of the HTTP service (configuration section <c>ChatStore:Server</c>, or CHATSTORE_* variables).</summary>
public sealed class ServerOptions
{
    /// <summary>The environment variable of the operator key; <c>CHATSTORE_SERVER__OPERATORKEY_FILE</c> names a file holding it instead.</summary>
    public const string OperatorKeyVariable = "CHATSTORE_SERVER__OPERATORKEY";

    /// <summary>The operator key (manages tenants and API keys). Required to use the operator routes.</summary>
    public string? OperatorKey { get; set; }

    /// <summary>Largest request body in bytes (default 8 MiB): larger requests get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Per-tenant token bucket: tokens added per second (default 200).</summary>
    public int RateLimitPerSecond { get; set; } = 200;

    /// <summary>Per-tenant token bucket size (default 400).</summary>
    public int RateLimitBurst { get; set; } = 400;

    /// <summary>How long one request may run before it is cancelled, database statement included (default 30 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a verified API key or session is trusted without asking the database again (default 5 s).</summary>
    public TimeSpan CredentialCacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an <c>Idempotency-Key</c> is remembered (default 24 h); older keys are purged in the background.</summary>
    public TimeSpan IdempotencyKeyLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a request waits for another one that holds the same <c>Idempotency-Key</c> before it answers 409 (default 2 s).</summary>
    public TimeSpan IdempotencyClaimWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often expired idempotency keys are purged (default 5 min).</summary>
    public TimeSpan IdempotencyPurgeInterval { get; set; } = TimeSpan.FromMinutes(5);
}
