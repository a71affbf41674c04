using System.Collections.Concurrent;
using ChatStore.Benchmarks.Harness;
using ChatStore.Benchmarks.Peers;
using ChatStore.Messages;

namespace ChatStore.Benchmarks.Scenarios;

/// <summary>
/// 3. Import 100,000 messages (10,000 with --quick) into fresh conversations of one tenant, 100 per
/// conversation: (A) binary COPY straight into messages, as the owner (PostgreSQL refuses COPY FROM
/// under row-level security: this is the floor, not a tenant-safe alternative); (B) ChatStore's
/// MessageStore.ImportAsync (binary COPY into a staging table, then one INSERT … SELECT under the
/// tenant's row-level security); (C) EF Core AddRange + SaveChanges in chunks of 2,000.
/// </summary>
public sealed class ImportScenario : IScenario
{
    public string Id => "3 import";

    const int PerConversation = 100;

    sealed record Job(int Rows, IReadOnlyList<RawStore.ImportRow> Raw, IReadOnlyList<ImportedMessage> Library);

    async Task<Job> MakeJobAsync(BenchContext ctx, int rows)
    {
        var tenant = ctx.Manifest.ImportTenant;
        var conversations = await ctx.NewConversationsAsync(tenant, Math.Max(1, rows / PerConversation));
        var owners = await ctx.OwnerQueryAsync("SELECT id, user_id FROM conversations WHERE id = ANY ($1)", conversations);
        var userOf = owners.ToDictionary(r => (Guid)r[0]!, r => (Guid)r[1]!);
        var texts = ctx.Manifest.Texts;
        var start = new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero);
        var raw = new List<RawStore.ImportRow>(rows);
        var library = new List<ImportedMessage>(rows);
        for (var i = 0; i < rows; i++)
        {
            // Conversations interleaved, as an export of many users' chats would come.
            var conversation = conversations[i % conversations.Length];
            var role = i / conversations.Length % 2 == 0 ? MessageRole.User : MessageRole.Assistant;
            var text = texts[i % texts.Length];
            var created = start.AddSeconds(i);
            raw.Add(new RawStore.ImportRow(ctx.Tenant(tenant), conversation, userOf[conversation], role, text, created));
            library.Add(new ImportedMessage { ConversationId = conversation, Role = role, Content = text, CreatedAt = created });
        }
        return new Job(rows, raw, library);
    }

    public async Task RunAsync(BenchContext ctx)
    {
        var rows = ctx.Options.Quick ? 10_000 : 100_000;
        const int repeats = 2;
        var tenant = ctx.Manifest.ImportTenant;
        var scope = ctx.Scope(tenant);
        // One job per slice, made before the measurement: a small warm-up import, then the full ones.
        var jobs = new Dictionary<string, ConcurrentQueue<Job>>();
        using (Log.Step("preparing import jobs", 3 * (repeats + 1)))
            foreach (var impl in new[] { "A", "B", "C" })
            {
                var queue = new ConcurrentQueue<Job>();
                queue.Enqueue(await MakeJobAsync(ctx, rows / 20));
                for (var r = 0; r < repeats; r++)
                    queue.Enqueue(await MakeJobAsync(ctx, rows));
                jobs[impl] = queue;
            }
        Impl Make(string name, string label, Func<Job, Task<long>> import) => new(name, label, async () =>
        {
            jobs[name].TryDequeue(out var job);
            return (int)await import(job!);
        });
        var impls = new[]
        {
            Make("A", "A binary COPY", job => ctx.Raw.ImportAsync(job.Raw)),
            Make("B", "B ChatStore", job => scope.Messages.ImportAsync(job.Library)),
            Make("C", "C EF Core", job => ctx.Ef.ImportAsync(ctx.Tenant(tenant), job.Raw)),
        };
        ctx.Results.AddRange(await Runner.RunAsync(Id, $"{rows:N0} messages", impls, 1, new Timing(0.001, 0.001, repeats), unitName: "rows", maxOpsPerSlice: 1));
    }

    public async Task SmokeAsync(BenchContext ctx)
    {
        // The same 300 messages into three conversations per implementation: the stored rows (times included) must match.
        var tenant = ctx.Manifest.ImportTenant;
        var results = new List<string>();
        foreach (var impl in new[] { "A", "B", "C" })
        {
            var job = await MakeJobAsync(ctx, 3 * PerConversation);
            var n = impl switch
            {
                "A" => await ctx.Raw.ImportAsync(job.Raw),
                "B" => await ctx.Scope(tenant).Messages.ImportAsync(job.Library),
                _ => await ctx.Ef.ImportAsync(ctx.Tenant(tenant), job.Raw),
            };
            Smoke.Equal($"3 import {impl} count", (long)job.Rows, n);
            var text = new System.Text.StringBuilder();
            foreach (var conversation in job.Raw.Select(r => r.ConversationId).Distinct())
                text.Append(await Smoke.ConversationRowsAsync(ctx, conversation, withTimes: true));
            results.Add(text.ToString());
        }
        Smoke.AllEqual("3 import: stored messages and counters", results);
    }
}
