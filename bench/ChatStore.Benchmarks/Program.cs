using System.Diagnostics;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using System.Globalization;
using ChatStore.Benchmarks.Data;
using ChatStore.Benchmarks.Harness;
using ChatStore.Benchmarks.Scenarios;
using ChatStore.Connection;
using Npgsql;

// ChatStore side by side with raw Npgsql (A) and EF Core (B), in one run. Started by scripts/bench.sh,
// which provides the PostgreSQL server (CHATSTORE_BENCH_DATABASE_URL, a superuser on its maintenance database).
//
//   --quick         the small dataset and short slices (< 3 minutes)
//   --smoke         the small dataset; run every implementation once on the same inputs and check that the
//                   results are equal (no timings); exits non-zero on a difference
//   --only 1,2,5    only these scenarios
//   --keep          keep the run's database (a clone of the dataset) instead of dropping it
//   --rate N        the open-loop rate of scenario 8, operations per second
//   --results DIR   where the JSON and Markdown go (default bench/results)
//   --vectors       ChatStore's hand-written vector path side by side with the Pgvector package's UseVector()
//                   (kNN, upsert, bulk load) in alternating slices, on a table of its own (VectorPathComparison)
//   --bdn [ARGS]    BenchmarkDotNet over the hot paths of scenarios 1 and 2 (HotPathBenchmarks), in process,
//                   on the dataset --quick selects (put --quick before --bdn); ARGS go to BenchmarkDotNet

var options = new BenchOptions();
string[]? bdnArgs = null;
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--vectors")
    {
        var vectorsUrl = Environment.GetEnvironmentVariable("CHATSTORE_BENCH_DATABASE_URL")
            ?? throw new InvalidOperationException("CHATSTORE_BENCH_DATABASE_URL is not set: run scripts/bench.sh, which starts PostgreSQL.");
        return await VectorPathComparison.RunAsync(DatabaseUrl.ToConnectionString(vectorsUrl), CancellationToken.None);
    }
    if (args[i] == "--bdn")
    {
        bdnArgs = args[(i + 1)..];
        break;
    }
    options = args[i] switch
    {
        "--quick" => options with { Quick = true },
        "--smoke" => options with { Smoke = true },
        "--keep" => options with { Keep = true },
        "--only" => options with { Only = [.. args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] },
        "--rate" => options with { MixedRate = double.Parse(args[++i], CultureInfo.InvariantCulture) },
        "--results" => options with { ResultsDirectory = args[++i] },
        _ => throw new ArgumentException($"unknown argument {args[i]}; see the comment at the top of Program.cs"),
    };
}
options = options with { PgBin = Environment.GetEnvironmentVariable("CHATSTORE_PG_BIN") };
var url = Environment.GetEnvironmentVariable("CHATSTORE_BENCH_DATABASE_URL")
    ?? throw new InvalidOperationException("CHATSTORE_BENCH_DATABASE_URL is not set: run scripts/bench.sh, which starts PostgreSQL.");
var server = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString(url)) { Pooling = false, CommandTimeout = 0 }.ConnectionString;
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
var total = Stopwatch.StartNew();

var dataset = await DatasetBuilder.EnsureAsync(options.Spec, server, cts.Token);
var runDb = $"{dataset}_run{Environment.ProcessId}";
await using (var conn = new NpgsqlConnection(server))
{
    await conn.OpenAsync();
    await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{runDb}\"; ", conn);
    await cmd.ExecuteNonQueryAsync();
    // A file-level copy of the dataset: every run starts from the same state.
    using (Log.Step("cloning the dataset", 1))
    {
        cmd.CommandText = $"CREATE DATABASE \"{runDb}\" TEMPLATE \"{dataset}\" STRATEGY FILE_COPY";
        await cmd.ExecuteNonQueryAsync();
    }
}
var runCs = new NpgsqlConnectionStringBuilder(server) { Database = runDb, Pooling = true }.ConnectionString;

IScenario[] scenarios =
[
    new HistoryScenario(),
    new AppendScenario(),
    new ImportScenario(),
    new FullTextScenario(),
    new KnnScenario(),
    new HybridScenario(),
    new HttpScenario(),
    new MixedScenario(),
];

var status = 0;
try
{
    await using var ctx = await BenchContext.CreateAsync(options, runCs, cts.Token);
    if (bdnArgs is not null)
    {
        HotPathBenchmarks.Context = ctx;
        var config = DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithToolchain(BenchmarkDotNet.Toolchains.InProcess.Emit.InProcessEmitToolchain.Instance))
            .WithArtifactsPath(Path.Combine(options.ResultsDirectory, "bdn"));
        BenchmarkDotNet.Running.BenchmarkSwitcher.FromTypes([typeof(HotPathBenchmarks)]).Run(bdnArgs.Length == 0 ? ["--filter", "*"] : bdnArgs, config);
    }
    else if (options.Smoke)
    {
        foreach (var s in scenarios.Where(s => options.Runs(s.Id)))
        {
            await s.SmokeAsync(ctx);
            Log.Info($"smoke {s.Id}: passed");
        }
        Log.Info($"smoke: {Smoke.Checks} checks passed in {total.Elapsed.TotalSeconds:F0} s");
        Console.WriteLine($"smoke: {Smoke.Checks} passed, 0 failed");
    }
    else
    {
        var machine = await Machine.DescribeAsync(runCs);
        machine["dataset"] = $"{options.Spec.Name}: {options.Spec.Messages:N0} messages, {options.Spec.Conversations:N0} conversations, {options.Spec.Memories:N0} memories × {options.Spec.Dimensions} dims ({dataset})";
        machine["timing"] = FormattableString.Invariant($"{options.Timing.Repeats} repeats of {options.Timing.SliceSeconds} s slices per implementation, rotating order, after a {options.Timing.WarmupSeconds} s warm-up");
        if (await Machine.CalibrateAsync(options.PgBin, runCs, options.Quick ? 2 : 5) is { } calibration)
        {
            machine["calibration"] = calibration;
            Log.Info($"calibration: {calibration}");
        }
        // CPU steal: on a shared virtual machine, the time the hypervisor gave to other guests.
        var cpuAtStart = Machine.CpuTimes();
        var steal = new List<string>();
        foreach (var s in scenarios.Where(s => options.Runs(s.Id)))
        {
            var before = Machine.CpuTimes();
            await s.RunAsync(ctx);
            steal.Add(FormattableString.Invariant($"{s.Id} {Machine.StealPercent(before, Machine.CpuTimes()):F0}%"));
        }
        machine["load average at end"] = Machine.LoadAverage();
        machine["CPU steal during the scenarios"] = FormattableString.Invariant($"{Machine.StealPercent(cpuAtStart, Machine.CpuTimes()):F0}% ({string.Join(", ", steal)})");
        machine["wall time"] = $"{total.Elapsed.TotalSeconds:F0} s";

        Report.Console(ctx.Results);
        Directory.CreateDirectory(options.ResultsDirectory);
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var name = Path.Combine(options.ResultsDirectory, $"{stamp}-{options.Spec.Name}");
        await File.WriteAllTextAsync(name + ".json", Report.Json(ctx.Results, machine, ctx.Notes));
        await File.WriteAllTextAsync(name + ".md", Report.Markdown(ctx.Results, machine, ctx.Notes));
        Log.Info($"results: {name}.md and .json ({total.Elapsed.TotalSeconds:F0} s in all)");
        foreach (var check in Report.Targets(ctx.Results).Where(c => !c.Met))
            Log.Info($"target missed: {check.Target}: {check.Measured}");
    }
}
catch (Smoke.MismatchException e)
{
    Console.Error.WriteLine($"smoke FAILED: {e.Message}");
    Console.WriteLine("smoke: 0 passed, 1 failed");
    status = 1;
}
finally
{
    NpgsqlConnection.ClearAllPools();
    if (!options.Keep)
    {
        await using var conn = new NpgsqlConnection(server);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{runDb}\" WITH (FORCE)", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
return status;
