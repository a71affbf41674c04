using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Npgsql;

namespace ChatStore.Benchmarks.Harness;

/// <summary>The machine's context for the report, and a pgbench calibration of its single-row insert ceiling.</summary>
public static partial class Machine
{
    public static async Task<Dictionary<string, string>> DescribeAsync(string connectionString)
    {
        var info = new Dictionary<string, string>
        {
            ["cpu"] = CpuModel(),
            ["cores"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            ["memory"] = $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB",
            ["os"] = RuntimeInformation.OSDescription,
            [".NET"] = RuntimeInformation.FrameworkDescription,
            ["load average at start"] = LoadAverage(),
        };
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT current_setting('server_version'), (SELECT extversion FROM pg_extension WHERE extname = 'vector'),
                   current_setting('shared_buffers'), current_setting('fsync'), current_setting('synchronous_commit')
            """, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        info["PostgreSQL"] = $"{reader.GetString(0)}, pgvector {(reader.IsDBNull(1) ? "?" : reader.GetString(1))}, shared_buffers {reader.GetString(2)}, fsync {reader.GetString(3)}, synchronous_commit {reader.GetString(4)}";
        info["Npgsql"] = typeof(NpgsqlConnection).Assembly.GetName().Version?.ToString() ?? "?";
        info["EF Core"] = typeof(Microsoft.EntityFrameworkCore.DbContext).Assembly.GetName().Version?.ToString() ?? "?";
        return info;
    }

    /// <summary>
    /// The machine's CPU time so far (all CPUs, in clock ticks) and the part of it the hypervisor gave to
    /// other guests (steal), from /proc/stat; zeros where there is none.
    /// </summary>
    public static (long Steal, long Total) CpuTimes()
    {
        if (!File.Exists("/proc/stat"))
            return (0, 0);
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        // user nice system idle iowait irq softirq steal (guest time is already in user).
        return (fields.Length > 7 ? fields[7] : 0, fields.Take(8).Sum());
    }

    /// <summary>The share of CPU time stolen between two <see cref="CpuTimes"/> readings, as a percentage.</summary>
    public static double StealPercent((long Steal, long Total) from, (long Steal, long Total) to) =>
        to.Total > from.Total ? 100.0 * (to.Steal - from.Steal) / (to.Total - from.Total) : 0;

    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    static string CpuModel()
    {
        if (!File.Exists("/proc/cpuinfo"))
            return RuntimeInformation.ProcessArchitecture.ToString();
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>
    /// pgbench with a single-row INSERT per transaction (prepared, over TCP like the benchmark) at 1 and 4
    /// clients: what this PostgreSQL on this machine can do at most for the simplest write.
    /// </summary>
    public static async Task<string?> CalibrateAsync(string? pgBin, string connectionString, double seconds)
    {
        var pgbench = pgBin is null ? null : Path.Combine(pgBin, "pgbench");
        if (pgbench is null || !File.Exists(pgbench))
            return null;
        var cs = new NpgsqlConnectionStringBuilder(connectionString);
        await using (var conn = new NpgsqlConnection(connectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("DROP TABLE IF EXISTS bench.calibration; CREATE TABLE bench.calibration (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text NOT NULL)", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var script = Path.Combine(Path.GetTempPath(), $"chatstore-bench-{Environment.ProcessId}.sql");
        await File.WriteAllTextAsync(script, "INSERT INTO bench.calibration (v) VALUES ('a single row of calibration text');\n");
        try
        {
            var results = new List<string>();
            foreach (var clients in new[] { 1, 4 })
            {
                var psi = new ProcessStartInfo(pgbench)
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                };
                foreach (var a in new[] { "-n", "-M", "prepared", "-f", script, "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", clients.ToString(CultureInfo.InvariantCulture),
                             "-T", ((int)Math.Ceiling(seconds)).ToString(CultureInfo.InvariantCulture), "-h", cs.Host!, "-p", cs.Port.ToString(CultureInfo.InvariantCulture), "-U", cs.Username!, cs.Database! })
                    psi.ArgumentList.Add(a);
                using var p = Process.Start(psi)!;
                var output = await p.StandardOutput.ReadToEndAsync();
                await p.WaitForExitAsync();
                var m = Tps().Match(output);
                results.Add(m.Success ? $"{double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture):N0} tps at {clients} client{(clients > 1 ? "s" : "")}" : $"pgbench failed: {await p.StandardError.ReadToEndAsync()}");
            }
            return "single-row INSERT (pgbench -M prepared): " + string.Join(", ", results);
        }
        finally
        {
            File.Delete(script);
        }
    }

    [GeneratedRegex(@"tps = ([0-9.]+)")]
    private static partial Regex Tps();
}
