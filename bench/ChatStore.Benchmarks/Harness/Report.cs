using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ChatStore.Benchmarks.Harness;

/// <summary>The results: a console table, Markdown and JSON, with B/A and B/C ratios and the targets checked.</summary>
public static class Report
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public sealed record Check(string Target, string Measured, bool Met);

    public static string Markdown(IReadOnlyList<Cell> cells, IReadOnlyDictionary<string, string> machine, IReadOnlyList<string> notes)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# ChatStore benchmark results").AppendLine();
        sb.AppendLine("A = raw Npgsql (the floor: same statements, prepared, batched), B = ChatStore, C = EF Core 10. "
            + "Ratios are B/A and B/C: throughput (higher is better for B), p99 and allocations (lower is better for B).").AppendLine();
        sb.AppendLine("## Machine").AppendLine();
        foreach (var (k, v) in machine)
            sb.AppendLine(CultureInfo.InvariantCulture, $"- {k}: {v}");
        sb.AppendLine();
        sb.AppendLine("## Results").AppendLine();
        sb.AppendLine("| scenario | case | impl | conc | throughput | p50 ms | p95 ms | p99 ms | alloc/op | recall@10 |");
        sb.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var c in cells)
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {c.Scenario} | {c.Case} | {c.Label} | {c.Concurrency} | {Throughput(c)} | {c.Percentile(50):F2} | {c.Percentile(95):F2} | {c.Percentile(99):F2} | {Bytes(c.AllocPerOp)}{(c.UnitName is null ? "" : "/" + c.UnitName.TrimEnd('s'))} | {(c.Recall is double r ? r.ToString("F3", Inv) : "")} |");
        sb.AppendLine();
        sb.AppendLine("## Ratios").AppendLine();
        sb.AppendLine("| scenario | case | B/A throughput | B/A p99 | B/A alloc | B/C throughput | B/C p99 | B/C alloc |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var g in cells.GroupBy(c => (c.Scenario, c.Case)))
        {
            var a = g.FirstOrDefault(c => c.Impl == "A");
            var b = g.FirstOrDefault(c => c.Impl == "B");
            var cc = g.FirstOrDefault(c => c.Impl == "C");
            if (b is null)
                continue;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {g.Key.Scenario} | {g.Key.Case} | {R(Rate(b), Rate(a))} | {R(b.Percentile(99), a?.Percentile(99))} | {R(b.AllocPerOp, a?.AllocPerOp)} | {R(Rate(b), Rate(cc))} | {R(b.Percentile(99), cc?.Percentile(99))} | {R(b.AllocPerOp, cc?.AllocPerOp)} |");
        }
        var checks = Targets(cells);
        if (checks.Count > 0)
        {
            sb.AppendLine().AppendLine("## Targets").AppendLine();
            sb.AppendLine("| target | measured | |").AppendLine("|---|---|---|");
            foreach (var c in checks)
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {c.Target} | {c.Measured} | {(c.Met ? "met" : "**missed**")} |");
        }
        if (notes.Count > 0)
        {
            sb.AppendLine().AppendLine("## Notes").AppendLine();
            foreach (var n in notes)
                sb.AppendLine(CultureInfo.InvariantCulture, $"- {n}");
        }
        return sb.ToString();
    }

    static double? Rate(Cell? c) => c is null ? null : c.UnitName is null ? c.OpsPerSecond : c.UnitsPerSecond;

    static string Throughput(Cell c) => c.UnitName is null
        ? string.Create(Inv, $"{c.OpsPerSecond:N0} ops/s")
        : string.Create(Inv, $"{c.UnitsPerSecond:N0} {c.UnitName}/s");

    static string Bytes(double b) => b >= 10_240 ? string.Create(Inv, $"{b / 1024:N0} KB") : string.Create(Inv, $"{b:N0} B");

    static string R(double? x, double? y) => x is double a && y is double b && b > 0 && !double.IsNaN(a) && !double.IsNaN(b) ? (a / b).ToString("F2", Inv) + "×" : "";

    /// <summary>The issue's targets, checked against what was measured.</summary>
    public static List<Check> Targets(IReadOnlyList<Cell> cells)
    {
        var checks = new List<Check>();
        Cell? Find(string scenarioPrefix, string @case, string impl) =>
            cells.FirstOrDefault(c => c.Scenario.StartsWith(scenarioPrefix, StringComparison.Ordinal) && c.Case == @case && c.Impl == impl);
        foreach (var g in cells.GroupBy(c => (c.Scenario, c.Case)))
        {
            var a = g.FirstOrDefault(c => c.Impl == "A");
            var b = g.FirstOrDefault(c => c.Impl == "B");
            var c = g.FirstOrDefault(c => c.Impl == "C");
            if (b is null)
                continue;
            var name = $"{g.Key.Scenario} {g.Key.Case}";
            var isImport = g.Key.Scenario.StartsWith("3 ", StringComparison.Ordinal);
            var isAppend = g.Key.Scenario.StartsWith("1 ", StringComparison.Ordinal);
            if (g.Key.Scenario.StartsWith("8 ", StringComparison.Ordinal) || g.Key.Scenario.StartsWith("7 ", StringComparison.Ordinal))
                continue;
            if (a is not null)
            {
                var thr = Rate(b)!.Value / Rate(a)!.Value;
                if (isImport)
                    checks.Add(new($"{name}: B/A rows/s ≥ 0.85", $"{thr:F2}×", thr >= 0.85));
                else
                {
                    checks.Add(new($"{name}: B/A throughput ≥ 0.90", $"{thr:F2}×", thr >= 0.90));
                    var p99 = b.Percentile(99) / a.Percentile(99);
                    checks.Add(new($"{name}: B/A p99 ≤ 1.15", $"{p99:F2}×", p99 <= 1.15));
                }
                var alloc = b.AllocPerOp / a.AllocPerOp;
                checks.Add(new($"{name}: B/A allocations ≤ 1.5", $"{alloc:F2}×", alloc <= 1.5));
            }
            if (c is not null)
            {
                var thr = Rate(b)!.Value / Rate(c)!.Value;
                var (need, what) = isImport ? (2.5, "import") : isAppend ? (2.0, "append") : (1.3, "read");
                checks.Add(new($"{name}: B/C throughput ≥ {need} ({what})", $"{thr:F2}×", thr >= need));
            }
            if (b.Recall is double rb && c?.Recall is double rc)
                checks.Add(new($"{name}: recall B = C", $"{rb:F3} vs {rc:F3}", Math.Abs(rb - rc) < 0.005));
        }
        // The HTTP service's targets: at most 0.3 ms added at the median to an append and a history; holds the
        // mixed load with p99 under 25 ms.
        foreach (var @case in new[] { "append (1)", "history, last 50 (2)" })
        {
            var lib = Find("7 ", @case, "lib");
            var http = Find("7 ", @case, "http");
            if (lib is not null && http is not null)
            {
                var added = http.Percentile(50) - lib.Percentile(50);
                checks.Add(new($"7 http {@case}: HTTP adds ≤ 0.3 ms at the median", $"+{added:F2} ms", added <= 0.3));
            }
        }
        foreach (var mixed in cells.Where(c => c.Scenario.StartsWith("7 ", StringComparison.Ordinal) && c.Case.StartsWith("mixed", StringComparison.Ordinal) && c.Impl == "http"))
        {
            checks.Add(new($"7 http {mixed.Case}: holds ≥ 0.95 × {Scenarios.HttpScenario.MixedRate:N0}/s", $"{mixed.OpsPerSecond:N0}/s",
                mixed.OpsPerSecond >= 0.95 * Scenarios.HttpScenario.MixedRate));
            checks.Add(new($"7 http {mixed.Case}: p99 < 25 ms", $"{mixed.Percentile(99):F1} ms", mixed.Percentile(99) < 25));
        }
        foreach (var conc in new[] { "c=1", "c=4" })
        {
            var shortCell = Find("1 ", $"length 10, {conc}", "B");
            var longCell = Find("1 ", $"length 10,000, {conc}", "B");
            if (shortCell is not null && longCell is not null)
            {
                var r = shortCell.OpsPerSecond / longCell.OpsPerSecond;
                checks.Add(new($"1 append {conc}: B at length 10,000 within 1.1× of length 10 (throughput)", $"{r:F2}×", r <= 1.1));
            }
        }
        var hs = Find("2 ", "last 10 of length 10", "B");
        var hl = Find("2 ", "last 10 of length 10,000", "B");
        if (hs is not null && hl is not null)
        {
            var r = hs.OpsPerSecond / hl.OpsPerSecond;
            checks.Add(new("2 history: B at length 10,000 within 1.1× of length 10 (throughput)", $"{r:F2}×", r <= 1.1));
        }
        return checks;
    }

    public static void Console(IReadOnlyList<Cell> cells)
    {
        var w = System.Console.Out;
        w.WriteLine();
        w.WriteLine(string.Create(Inv, $"{"scenario",-24} {"case",-28} {"impl",-18} {"throughput",16} {"p50",8} {"p95",8} {"p99",8} {"alloc/op",10} {"recall",7} {"B/A",6} {"B/C",6}"));
        foreach (var g in cells.GroupBy(c => (c.Scenario, c.Case)))
        {
            var a = g.FirstOrDefault(c => c.Impl == "A");
            var cc = g.FirstOrDefault(c => c.Impl == "C");
            foreach (var c in g)
            {
                var ba = c.Impl == "B" ? R(Rate(c), Rate(a)) : "";
                var bc = c.Impl == "B" ? R(Rate(c), Rate(cc)) : "";
                w.WriteLine(string.Create(Inv,
                    $"{Trim(c.Scenario, 24),-24} {Trim(c.Case, 28),-28} {Trim(c.Label, 18),-18} {Throughput(c),16} {c.Percentile(50),8:F2} {c.Percentile(95),8:F2} {c.Percentile(99),8:F2} {Bytes(c.AllocPerOp),10} {(c.Recall is double r ? r.ToString("F3", Inv) : ""),7} {ba,6} {bc,6}"));
            }
        }
        w.WriteLine();
    }

    static string Trim(string s, int n) => s.Length <= n ? s : s[..(n - 1)] + "…";

    public static string Json(IReadOnlyList<Cell> cells, IReadOnlyDictionary<string, string> machine, IReadOnlyList<string> notes) =>
        JsonSerializer.Serialize(new
        {
            machine,
            notes,
            cells = cells.Select(c => new
            {
                c.Scenario, c.Case, c.Impl, c.Label, c.Concurrency, c.Ops, c.Units, c.UnitName, c.Seconds,
                opsPerSecond = c.OpsPerSecond, unitsPerSecond = c.UnitsPerSecond,
                p50 = c.Percentile(50), p95 = c.Percentile(95), p99 = c.Percentile(99),
                allocPerOp = c.AllocPerOp, c.Recall, c.Note,
            }),
            targets = Targets(cells),
        }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });
}
