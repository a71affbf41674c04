using System.Security.Cryptography;
using ChatStore.Idempotency;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ChatStore.Server.Hosting;

/// <summary>
/// <c>Idempotency-Key</c> on a creating POST: the first request runs and its response is stored;
/// a retry with the same key and the same request gets the stored response; the same key with a
/// different request is 422; while the first still runs, 409.
/// </summary>
internal sealed class IdempotencyMiddleware(RequestDelegate next, IProblemDetailsService problems)
{
    public const string Header = "Idempotency-Key";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method)
            || !context.Request.Headers.TryGetValue(Header, out var values)
            || context.Items[Caller.ItemKey] is not Caller { Kind: CallerKind.Tenant or CallerKind.User } caller
            || context.GetEndpoint()?.Metadata.GetMetadata<SecretResponse>() is not null)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var key = values.ToString();
        var store = caller.Scope.Idempotency;
        var hash = await HashRequestAsync(context, caller).ConfigureAwait(false);
        var begun = await store.BeginAsync(key, hash, context.RequestAborted).ConfigureAwait(false);
        switch (begun.Outcome)
        {
            case IdempotencyOutcome.Replay:
                context.Response.StatusCode = begun.StatusCode!.Value;
                if (begun.ContentType is not null) context.Response.ContentType = begun.ContentType;
                context.Response.Headers["Idempotent-Replayed"] = "true";
                await context.Response.Body.WriteAsync(begun.Body, context.RequestAborted).ConfigureAwait(false);
                return;
            case IdempotencyOutcome.Mismatch:
                await WriteProblemAsync(context, 422, "Idempotency key reused",
                    $"The {Header} was already used with a different request. Use a new key for a new request.").ConfigureAwait(false);
                return;
            case IdempotencyOutcome.InProgress:
                await WriteProblemAsync(context, 409, "Request in progress",
                    $"A request with this {Header} is still running; retry when it has finished.").ConfigureAwait(false);
                return;
        }

        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        var completed = false;
        try
        {
            await next(context).ConfigureAwait(false);
            if (context.Response.StatusCode < 500)
            {
                await store.CompleteAsync(key, context.Response.StatusCode, context.Response.ContentType, buffer.ToArray(), CancellationToken.None).ConfigureAwait(false);
                completed = true;
            }
        }
        finally
        {
            context.Response.Body = original;
            if (!completed)
                await store.AbandonAsync(key, CancellationToken.None).ConfigureAwait(false);
        }
        buffer.Position = 0;
        await buffer.CopyToAsync(original, context.RequestAborted).ConfigureAwait(false);
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
/// Marks a route whose response holds a secret (a session or share token): its response is never
/// stored for idempotent replay (only hashes of such secrets are kept), so the route ignores
/// <c>Idempotency-Key</c>; a retry creates another one.
/// </summary>
internal sealed class SecretResponse
{
    public static readonly SecretResponse Instance = new();

    SecretResponse() { }
}
