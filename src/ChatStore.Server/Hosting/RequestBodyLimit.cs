using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace ChatStore.Server.Hosting;

/// <summary>
/// 413 problem details for a body over the limit, on any server: before anything reads it when its declared
/// length is too large, and when reading passes the limit for a body sent without a length (chunked). The
/// second is this middleware's own count, not the server's: Kestrel's limit ends the request with a bare 413
/// and drops the rest of the body, which a client still sending sees as a connection reset; with this one the
/// error goes through problem details and the server may drain what the client is still sending.
/// </summary>
internal sealed class RequestBodyLimit(RequestDelegate next, IOptions<ServerOptions> options, IProblemDetailsService problems)
{
    readonly long _max = options.Value.MaxRequestBodyBytes;

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength > _max)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await problems.WriteAsync(new()
            {
                HttpContext = context,
                ProblemDetails = ProblemMapping.Problem(413, "Request too large", $"The request body is larger than this service accepts ({_max} bytes)."),
            }).ConfigureAwait(false);
            return;
        }
        var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (context.Request.ContentLength is null && context.Request.Headers.TransferEncoding.Count > 0)
        {
            // Counted here; the server's own limit would cut the connection before problem details could be written.
            if (limit is { IsReadOnly: false }) limit.MaxRequestBodySize = null;
            context.Request.Body = new LimitedBody(context.Request.Body, _max);
        }
        else if (limit is { IsReadOnly: false })
        {
            limit.MaxRequestBodySize = _max;
        }
        await next(context).ConfigureAwait(false);
    }

    /// <summary>
    /// A request body that throws <see cref="RequestBodyTooLargeException"/> once more than the limit has been read: not an
    /// <see cref="IOException"/> (as the server's own <see cref="BadHttpRequestException"/> is), which body binding would
    /// swallow into a bare status code, so it reaches <see cref="ProblemMapping"/>.
    /// </summary>
    sealed class LimitedBody(Stream inner, long max) : Stream
    {
        long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        int Count(int read)
        {
            _read += read;
            return _read > max
                ? throw new RequestBodyTooLargeException(max)
                : read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>A body sent without a length passed the limit while it was read (see <see cref="RequestBodyLimit"/>): 413.</summary>
internal sealed class RequestBodyTooLargeException(long max) : Exception($"The request body is larger than this service accepts ({max} bytes).");
