using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace ChatStore.Cli.Commands;

/// <summary>
/// Whole-tenant <c>export --tenant T --out DIR</c> and <c>import --tenant T --in DIR</c>: every user's export
/// as one JSON Lines file per user (<c>USER_ID.jsonl</c>) in a folder. Each user is read from one snapshot and
/// imported in one transaction; a progress bar (users, rows and rows/s) shows on a terminal, and a summary follows.
/// </summary>
internal static class TenantTransfer
{
    public static async Task<int> ExportAsync(ChatStoreClient client, Guid tenantId, string directory, bool json, CancellationToken ct)
    {
        var scope = client.ForTenant(tenantId);
        await client.Tenants.GetAsync(tenantId, ct);
        var userIds = (await CliOutput.CollectAsync(int.MaxValue, (n, cursor) => scope.Users.ListAsync(n, cursor, cancellationToken: ct))).ConvertAll(u => u.Id);
        Directory.CreateDirectory(directory);

        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        await RunAsync(userIds, json, "Exporting", async (userId, ct2) =>
        {
            await using var stream = File.Create(Path.Combine(directory, $"{userId}.jsonl"));
            return await scope.Export.ExportUserAsync(userId, stream, ct2);
        }, totals, clock, ct);
        Summary("Exported", userIds.Count, totals, clock.Elapsed, directory, json);
        return 0;
    }

    public static async Task<int> ImportAsync(ChatStoreClient client, Guid tenantId, string directory, bool json, CancellationToken ct)
    {
        var scope = client.ForTenant(tenantId);
        var files = Directory.GetFiles(directory, "*.jsonl").Order(StringComparer.Ordinal).ToList();
        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        await RunAsync(files, json, "Importing", async (file, ct2) =>
        {
            await using var stream = File.OpenRead(file);
            return (await scope.Export.ImportUserAsync(stream, ct2)).Rows;
        }, totals, clock, ct);
        Summary("Imported", files.Count, totals, clock.Elapsed, directory, json);
        return 0;
    }

    static async Task RunAsync<T>(IReadOnlyList<T> items, bool json, string verb, Func<T, CancellationToken, Task<IReadOnlyDictionary<string, long>>> one,
        Dictionary<string, long> totals, Stopwatch clock, CancellationToken ct)
    {
        async Task Each(Action<long>? advanced)
        {
            foreach (var item in items)
            {
                var rows = await one(item, ct);
                foreach (var (table, n) in rows)
                    totals[table] = totals.GetValueOrDefault(table) + n;
                advanced?.Invoke(rows.Values.Sum());
            }
        }

        if (json || !CliConsole.IsTerminal)
        {
            await Each(null);
            return;
        }
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask($"{verb} {items.Count} users", maxValue: Math.Max(1, items.Count));
                long rows = 0;
                await Each(n =>
                {
                    rows += n;
                    task.Increment(1);
                    task.Description = string.Create(CultureInfo.InvariantCulture,
                        $"{verb}: {task.Value:N0}/{items.Count:N0} users, {rows:N0} rows, {rows / Math.Max(0.001, clock.Elapsed.TotalSeconds):N0} rows/s");
                });
            });
    }

    static void Summary(string verb, int users, Dictionary<string, long> totals, TimeSpan elapsed, string directory, bool json)
    {
        var rows = totals.Values.Sum();
        var rate = rows / Math.Max(0.001, elapsed.TotalSeconds);
        if (json)
        {
            CliOutput.Json(new { users, rows, seconds = Math.Round(elapsed.TotalSeconds, 3), rowsPerSecond = Math.Round(rate), directory, tables = totals });
            return;
        }
        CliOutput.Table(totals.Where(t => t.Value > 0).OrderBy(t => t.Key, StringComparer.Ordinal), ("Table", t => t.Key), ("Rows", t => t.Value));
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{verb} {users:N0} users, {rows:N0} rows in {elapsed.TotalSeconds:F1} s ({rate:N0} rows/s) {(verb == "Exported" ? "to" : "from")} {directory}")));
    }
}
