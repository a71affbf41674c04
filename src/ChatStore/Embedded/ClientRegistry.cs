using System.Diagnostics;
using System.Globalization;

namespace ChatStore.Embedded;

/// <summary>
/// Who is using an embedded cluster: one file per <see cref="EmbeddedPostgres"/> instance in
/// <c>&lt;dataDirectory&gt;.clients/</c>, named <c>&lt;pid&gt;.&lt;instance id&gt;</c> and holding the
/// process's start time, so that a file left by a dead process is recognised even if its pid has
/// been reused. Read and pruned only under the <see cref="DataDirectoryLock"/>; an instance may
/// remove its own file without it (leaving can only make a later stop decision more eager, never wrong).
/// </summary>
internal static class ClientRegistry
{
    static readonly long CurrentProcessStartTicks = StartTicks(Process.GetCurrentProcess()) ?? 0;

    // Start times are derived from boot time and clock ticks, so allow for rounding between readings.
    static readonly long StartTimeTolerance = TimeSpan.FromSeconds(2).Ticks;

    public static string Register(string registryDirectory)
    {
        Directory.CreateDirectory(registryDirectory);
        var clientId = $"{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.{Guid.NewGuid():N}";
        File.WriteAllText(Path.Combine(registryDirectory, clientId), CurrentProcessStartTicks.ToString(CultureInfo.InvariantCulture));
        return clientId;
    }

    public static void Unregister(string registryDirectory, string clientId)
    {
        try
        {
            File.Delete(Path.Combine(registryDirectory, clientId));
        }
        catch (DirectoryNotFoundException)
        {
            // Someone removed the whole registry; nothing left to do.
        }
    }

    /// <summary>Deletes the files of processes that are gone and returns how many users remain.</summary>
    public static int PruneAndCount(string registryDirectory)
    {
        if (!Directory.Exists(registryDirectory)) return 0;
        var live = 0;
        foreach (var file in Directory.EnumerateFiles(registryDirectory))
        {
            if (IsAlive(file)) live++;
            else File.Delete(file);
        }
        return live;
    }

    static bool IsAlive(string file)
    {
        var name = Path.GetFileName(file);
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        if (!int.TryParse(dot < 0 ? name : name[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            return false; // Not ours; a stray file must not keep the server up forever.
        if (pid == Environment.ProcessId) return true;

        long recorded;
        try
        {
            if (!long.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out recorded)) recorded = 0;
        }
        catch (FileNotFoundException)
        {
            return false;
        }

        Process process;
        try
        {
            process = Process.GetProcessById(pid);
        }
        catch (ArgumentException)
        {
            return false; // No such process.
        }
        using (process)
        {
            try
            {
                if (process.HasExited) return false;
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                return false;
            }
            var actual = StartTicks(process);
            // When the start time cannot be read, assume the process is the one that registered.
            return recorded == 0 || actual is null || Math.Abs(actual.Value - recorded) <= StartTimeTolerance;
        }
    }

    static long? StartTicks(Process process)
    {
        try
        {
            return process.StartTime.ToUniversalTime().Ticks;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return null;
        }
    }
}
