using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace ChatStore.Embedded;

/// <summary>
/// An exclusive lock on <c>&lt;dataDirectory&gt;.lock</c> that serialises every start and stop
/// decision for one data directory, across threads and processes. On Unix, .NET takes
/// <c>flock(LOCK_EX | LOCK_NB)</c> for <see cref="FileShare.None"/>, so the lock is released by the
/// kernel when the holder dies; a lock held per open file also excludes other threads of this process.
/// The file is never deleted: deleting a lock file lets two holders lock different inodes.
/// </summary>
internal sealed class DataDirectoryLock : IDisposable
{
    static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(25);
    readonly FileStream _stream;

    DataDirectoryLock(FileStream stream) => _stream = stream;

    public static async Task<DataDirectoryLock> AcquireAsync(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                try
                {
                    // For whoever looks at the file while diagnosing a hang: who holds it.
                    stream.SetLength(0);
                    stream.Write(Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n"));
                    stream.Flush();
                }
                catch (IOException)
                {
                    // Informational only.
                }
                return new DataDirectoryLock(stream);
            }
            catch (IOException e) when (e is not (DirectoryNotFoundException or PathTooLongException or FileNotFoundException))
            {
                if (Stopwatch.GetElapsedTime(started) >= timeout)
                    throw new ChatStoreConfigurationException(
                        $"Another process has held {path} for more than {timeout.TotalSeconds:0} s while starting or stopping the embedded PostgreSQL. " +
                        "If no ChatStore process is running, check for a hung one; the lock is released when its holder exits.", e);
                await Task.Delay(RetryDelay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
