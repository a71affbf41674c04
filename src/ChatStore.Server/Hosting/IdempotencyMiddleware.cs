using System.Security.Cryptography;
using ChatStore.Idempotency;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace ChatStore.Server.Hosting;

/// <summary>
/// <c>Idempotency-Key</c> on a POST of a tenant or user: the key, the write the request makes and its response
/// commit in one transaction (<see cref="IdempotencyStore.RunAsync"/>), so a retry after a crash anywhere either
/// gets the original response (<c>Idempotent-Replayed: true</c>) or runs the request once. The same key with a
/// different request is 422; while the first request still runs, 409 with <c>Retry-After</c>. Responses of 500
/// and above, and errors, are not kept: the write is rolled back and the key stays free.
/// </summary>
/// <remarks>
/// A route whose response holds a secret (<see cref="SecretResponse"/>: a session token, a share link) keeps
/// its response encrypted under a key derived from the <c>Idempotency-Key</c>, and the key itself only as a
/// hash, so the stored row does not reveal the secret without the key that only the client holds. Such
/// routes need a key of at least 16 characters (a UUID).
/// </remarks>
internal sealed class IdempotencyMiddleware(RequestDelegate next, IProblemDetailsService problems, IOptions<ServerOptions> serverOptions)
{
    public const string Header = "Idempotency-Key";

    const int MinSecretKeyLength = 16;

    readonly IdempotencyOptions _options = new()
    {
        Lifetime = serverOptions.Value.IdempotencyKeyLifetime,
        ClaimWait = serverOptions.Value.IdempotencyClaimWait,
        AbandonAfter = serverOptions.Value.RequestTimeout + TimeSpan.FromSeconds(10),
    };

    public async Task InvokeAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method)
            || !context.Request.Headers.TryGetValue(Header, out var values)
            || context.Items[Caller.ItemKey] is not Caller { Kind: CallerKind.Tenant or CallerKind.User } caller)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var key = values.ToString();
        var secret = context.GetEndpoint()?.Metadata.GetMetadata<SecretResponse>() is not null;
        if (secret && key.Length < MinSecretKeyLength)
        {
            await WriteProblemAsync(context, 400, "Idempotency key too short",
                $"This route returns a secret, which is kept for replay encrypted under the {Header}: use a key of at least {MinSecretKeyLength} characters (a UUID).").ConfigureAwait(false);
            return;
        }
        var tenant = caller.Scope.TenantId;
        var hash = await HashRequestAsync(context, caller).ConfigureAwait(false);

        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        var result = await caller.Scope.Idempotency.RunAsync(secret ? SealedResponse.StoredKey(tenant, key) : key, hash, async _ =>
        {
            context.Response.Body = buffer;
            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                context.Response.Body = original;
            }
            if (context.Response.StatusCode >= 500)
                return null;
            var body = buffer.ToArray();
            return new IdempotentResponse(context.Response.StatusCode, context.Response.ContentType, secret ? SealedResponse.Seal(tenant, key, body) : body);
        }, _options, context.RequestAborted).ConfigureAwait(false);

        switch (result.Outcome)
        {
            case IdempotencyOutcome.Completed or IdempotencyOutcome.NotStored:
                buffer.Position = 0;
                await buffer.CopyToAsync(original, context.RequestAborted).ConfigureAwait(false);
                return;
            case IdempotencyOutcome.Replay:
                var stored = result.Response!;
                context.Response.StatusCode = stored.StatusCode;
                if (stored.ContentType is not null) context.Response.ContentType = stored.ContentType;
                context.Response.Headers["Idempotent-Replayed"] = "true";
                await context.Response.Body.WriteAsync(secret ? SealedResponse.Open(tenant, key, stored.Body) : stored.Body, context.RequestAborted).ConfigureAwait(false);
                return;
            case IdempotencyOutcome.Mismatch:
                await WriteProblemAsync(context, 422, "Idempotency key reused",
                    $"The {Header} was already used with a different request. Use a new key for a new request.").ConfigureAwait(false);
                return;
            default:
                context.Response.Headers.RetryAfter = "1";
                await WriteProblemAsync(context, 409, "Request in progress",
                    $"A request with this {Header} is still running; retry after a second with the same key.").ConfigureAwait(false);
                return;
        }
    }

    static async Task<byte[]> HashRequestAsync(HttpContext context, Caller caller)
    {
        context.Request.EnableBuffering();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{context.Request.Path}{context.Request.QueryString}|{caller.UserId}|"));
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
            hash.AppendData(chunk, 0, read);
        context.Request.Body.Position = 0;
        return hash.GetHashAndReset();
    }

    async Task WriteProblemAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        await problems.WriteAsync(new() { HttpContext = context, ProblemDetails = ProblemMapping.Problem(status, title, detail) }).ConfigureAwait(false);
    }
}

/// <summary>
/// Marks a route whose response holds a secret (a session or share token). Its response is kept for idempotent
/// replay only encrypted under the request's <c>Idempotency-Key</c> (see <see cref="SealedResponse"/>).
/// </summary>
internal sealed class SecretResponse
{
    public static readonly SecretResponse Instance = new();

    SecretResponse() { }
}

/// <summary>
/// Keeps a response that holds a secret replayable without storing the secret: the row's key is a hash of the
/// tenant and the client's <c>Idempotency-Key</c>, and the body is AES-GCM encrypted under a key derived from
/// the <c>Idempotency-Key</c> (HKDF-SHA256, salted with the tenant). Only a caller that presents the key again
/// can read it.
/// </summary>
internal static class SealedResponse
{
    const int NonceSize = 12;
    const int TagSize = 16;

    public static string StoredKey(Guid tenant, string key) =>
        "sealed:" + Convert.ToBase64String(SHA256.HashData([.. tenant.ToByteArray(), .. System.Text.Encoding.UTF8.GetBytes(key)]));

    public static byte[] Seal(Guid tenant, string key, byte[] body)
    {
        var sealedBody = new byte[NonceSize + TagSize + body.Length];
        var nonce = sealedBody.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(Derive(tenant, key), TagSize);
        aes.Encrypt(nonce, body, sealedBody.AsSpan(NonceSize + TagSize), sealedBody.AsSpan(NonceSize, TagSize));
        return sealedBody;
    }

    public static byte[] Open(Guid tenant, string key, byte[] sealedBody)
    {
        var body = new byte[sealedBody.Length - NonceSize - TagSize];
        using var aes = new AesGcm(Derive(tenant, key), TagSize);
        aes.Decrypt(sealedBody.AsSpan(0, NonceSize), sealedBody.AsSpan(NonceSize + TagSize), sealedBody.AsSpan(NonceSize, TagSize), body);
        return body;
    }

    static byte[] Derive(Guid tenant, string key) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, System.Text.Encoding.UTF8.GetBytes(key), 32, tenant.ToByteArray(), "chatstore idempotent secret response"u8.ToArray());
}
