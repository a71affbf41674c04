namespace ChatStore.Export;

/// <summary>
/// Reads UTF-8 JSON Lines from a stream one line at a time, without decoding to strings: a line is handed
/// out as bytes (valid until the next read) for <see cref="System.Text.Json.JsonDocument"/> to parse.
/// Memory is bounded by the longest line, which is capped.
/// </summary>
internal sealed class JsonLineReader(Stream stream, int maxLineBytes)
{
    byte[] _buffer = new byte[64 * 1024];
    int _start;
    int _end;
    bool _eof;
    bool _started;

    /// <summary>The 1-based number of the line last returned.</summary>
    public int LineNumber { get; private set; }

    /// <summary>The next line that is not blank, without its line break; null at the end of the stream.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (newline >= 0 || (_eof && _start < _end))
            {
                var length = newline >= 0 ? newline : _end - _start;
                var line = _buffer.AsMemory(_start, length);
                _start += newline >= 0 ? length + 1 : length;
                LineNumber++;
                if (!_started)
                {
                    _started = true;
                    if (line.Span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
                        line = line[3..];
                }
                if (line.Span.EndsWith((byte)'\r'))
                    line = line[..^1];
                if (line.Span.Trim((ReadOnlySpan<byte>)[(byte)' ', (byte)'\t']).IsEmpty)
                    continue;
                return line;
            }
            if (_eof)
                return null;
            if (_end - _start >= maxLineBytes)
                throw new ChatStoreValidationException($"line {LineNumber + 1}", "max_size", $"is longer than {maxLineBytes} bytes.");
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
                Array.Resize(ref _buffer, (int)Math.Min((long)_buffer.Length * 2, Math.Min(Array.MaxLength, (long)maxLineBytes + 1)));
            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
                _eof = true;
            else
                _end += read;
        }
    }
}
