using System.CommandLine;
using ChatStore.Schema;
using Spectre.Console;

namespace ChatStore.Cli.Commands;

/// <summary><c>chatstore db …</c>: the schema's lifecycle.</summary>
internal static class DbCommands
{
    public static Command Build()
    {
        var db = new Command("db", "Create, migrate, roll back, inspect and verify the ChatStore schema");
        db.Subcommands.Add(Init());
        db.Subcommands.Add(Migrate());
        db.Subcommands.Add(Rollback());
        db.Subcommands.Add(Status());
        db.Subcommands.Add(Verify());
        db.Subcommands.Add(Distribute());
        db.Subcommands.Add(Reset());
        db.Subcommands.Add(Script());
        db.Subcommands.Add(DbGrantCommand.Build());
        return db;
    }

    // Synchronous on purpose: System.Progress<T> posts each report to the thread pool, so lines
    // could print out of the order the migrator ran the steps in.
    static IProgress<MigrationStep> Progress() => new Transcript();

    sealed class Transcript : IProgress<MigrationStep>
    {
        public void Report(MigrationStep step) => AnsiConsole.MarkupLine(
            (step.Direction == MigrationDirection.Up ? "  [green]applied[/]     " : "  [yellow]rolled back[/] ") +
            Markup.Escape($"{step.Source} {step.Version:D4}_{step.Name} ({step.Elapsed.TotalMilliseconds:F0} ms)"));
    }

    static Command Init()
    {
        var sources = SourceOption();
        var command = new Command("init", "Create the schema, the vector extension and the application role, and apply every migration. Safe to run again.") { sources };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            AnsiConsole.MarkupLineInterpolated($"Initialising schema [bold]{client.Schema}[/]…");
            var run = await MigratorFor(client, parse.GetValue(sources)).Migrator.InitAsync(Progress(), ct);
            AnsiConsole.MarkupLine(run.AlreadyInitialised
                ? "[green]Already initialised:[/] the schema is up to date; nothing changed."
                : $"[green]Initialised:[/] {run.Applied.Count} migration(s) applied.");
            return 0;
        });
        return command;
    }

    static Command Migrate()
    {
        var to = new Option<int?>("--to") { Description = "Stop at this version (of the source --source names)" };
        var sources = SourceOption();
        var command = new Command("migrate", "Apply pending migrations") { to, sources };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var (migrator, target) = MigratorFor(client, parse.GetValue(sources));
            var run = await migrator.MigrateAsync(parse.GetValue(to), target, Progress(), ct);
            AnsiConsole.MarkupLine(run.Applied.Count == 0 ? "Nothing to apply." : $"[green]{run.Applied.Count} migration(s) applied.[/]");
            return 0;
        });
        return command;
    }

    static Command Rollback()
    {
        var steps = new Option<int?>("--steps") { Description = "Roll back this many migrations, newest first" };
        var to = new Option<int?>("--to") { Description = "Roll back to this version (of the source --source names)" };
        var sources = SourceOption();
        var command = new Command("rollback", "Roll back migrations (give --steps or --to)") { steps, to, sources };
        // Rolling back is destructive: with neither option it refuses (usage, nonzero exit) rather than guess.
        command.Validators.Add(result =>
        {
            var hasSteps = result.GetResult(steps) is { Implicit: false };
            var hasTo = result.GetResult(to) is { Implicit: false };
            if (hasSteps == hasTo)
                result.AddError("Give exactly one of --steps N (roll back the last N migrations) or --to VERSION (roll back to that version); rollback does nothing without one.");
        });
        CliAction.Set(command, async (parse, client, ct) =>
        {
            int? s = parse.GetValue(steps), t = parse.GetValue(to);
            var (migrator, target) = MigratorFor(client, parse.GetValue(sources));
            var run = await migrator.RollbackAsync(s, t, target, Progress(), ct);
            if (run.Applied.Count == 0)
            {
                CliFailure.Print(t is null
                    ? $"nothing to roll back: no migration is applied in schema {client.Schema}. `chatstore db status` shows what is applied; `chatstore db init` applies them."
                    : $"nothing to roll back: no migration of {target} above version {t} is applied in schema {client.Schema}. `chatstore db status` shows what is applied.");
                return ExitCodes.MigrationConflict;
            }
            AnsiConsole.MarkupLine($"[yellow]{run.Applied.Count} migration(s) rolled back.[/]");
            return 0;
        });
        return command;
    }

    static Command Status()
    {
        var sources = SourceOption();
        var json = CliOutput.JsonOption();
        var command = new Command("status", "Show applied and pending migrations, and files changed since they were applied") { sources, json };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var health = await client.HealthCheckAsync(ct);
            var status = await MigratorFor(client, parse.GetValue(sources)).Migrator.StatusAsync(ct);
            var failed = status.Entries.Any(e => e.State is MigrationState.ChecksumMismatch or MigrationState.Missing);
            if (parse.GetValue(json))
            {
                CliOutput.Json(new { health.ServerVersion, health.PgvectorVersion, status.Schema, status.CurrentVersion, status.Pending, status.UpToDate, status.Entries });
                return failed ? CliAction.Failed : 0;
            }
            AnsiConsole.MarkupLineInterpolated($"PostgreSQL [bold]{health.ServerVersion}[/], pgvector [bold]{health.PgvectorVersion ?? "not installed"}[/], schema [bold]{status.Schema}[/] at version [bold]{status.CurrentVersion}[/], {status.Pending} pending");
            var table = new Table().AddColumns("Source", "Version", "Name", "State", "Applied at", "ms");
            foreach (var e in status.Entries)
            {
                var state = e.State switch
                {
                    MigrationState.Applied => "[green]applied[/]",
                    MigrationState.Pending => "[yellow]pending[/]",
                    MigrationState.ChecksumMismatch => "[red]changed since applied[/]",
                    _ => "[red]applied, file missing[/]",
                };
                table.AddRow(Markup.Escape(e.Source), e.Version.ToString("D4", System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(e.Name), state,
                    e.AppliedAt?.ToString("u", System.Globalization.CultureInfo.InvariantCulture) ?? "", e.ExecutionMs?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "");
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(Describe(await client.Migrator.DistributionStatusAsync(ct)));
            return failed ? CliAction.Failed : 0;
        });
        return command;
    }

    static Command Verify()
    {
        var sources = SourceOption();
        var command = new Command("verify", "Compare the live schema with what its migrations define; exit 1 on any drift") { sources };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var report = await MigratorFor(client, parse.GetValue(sources)).Migrator.VerifyAsync(ct);
            if (report.Ok)
            {
                AnsiConsole.MarkupLineInterpolated($"[green]OK:[/] schema {report.Schema} matches its migrations.");
                return 0;
            }
            AnsiConsole.MarkupLineInterpolated($"[red]Drift:[/] schema {report.Schema} differs from its migrations in {report.Differences.Count} place(s):");
            foreach (var d in report.Differences)
                AnsiConsole.MarkupLineInterpolated($"  - {d}");
            AnsiConsole.MarkupLine("Fix the database by hand or restore the migration files; `chatstore db status` shows edited migrations.");
            return CliAction.Failed;
        });
        return command;
    }

    static string Describe(DistributionStatus d) => d switch
    {
        { Citus: false } => "Citus: not installed (plain PostgreSQL, one node).",
        { Distributed: true } => Markup.Escape(
            $"Citus {d.CitusVersion}: distributed: {d.DistributedTables} tables by tenant_id in {d.ColocationGroups} colocation group(s), {d.Shards} shards on {d.Workers} worker(s); {d.ReferenceTables} reference tables."),
        { DistributedTables: 0, ReferenceTables: 0 } => Markup.Escape(
            $"Citus {d.CitusVersion}: not distributed ({d.LocalTables} local tables, {d.Workers} worker(s)). Run `chatstore db distribute`."),
        _ => "[yellow]" + Markup.Escape(
            $"Citus {d.CitusVersion}: partly distributed: {d.DistributedTables} distributed, {d.ReferenceTables} reference, {d.LocalTables} still local. Run `chatstore db distribute` to finish.") + "[/]",
    };

    static Command Distribute()
    {
        var command = new Command("distribute",
            $"On a Citus coordinator: make tenants, embedding_spaces and the migrations table reference tables and distribute every tenant table by tenant_id in one colocation group. Safe to run again. Exit {CliAction.NotCitus} on plain PostgreSQL.");
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var before = await client.Migrator.DistributionStatusAsync(ct);
            if (!before.Citus)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]Refusing:[/] this database is plain PostgreSQL (the citus extension is not installed), so schema {client.Schema} stays on this one node; nothing was changed.");
                AnsiConsole.MarkupLine("Run `chatstore db distribute` against the coordinator of a Citus cluster (docs/scaling.md); one PostgreSQL server needs no distribution.");
                return CliAction.NotCitus;
            }
            AnsiConsole.MarkupLineInterpolated($"Distributing schema [bold]{client.Schema}[/] over {before.Workers} worker(s)…");
            var run = await client.Migrator.DistributeAsync(new Progress<DistributeStep>(step =>
                AnsiConsole.MarkupLine(Markup.Escape($"  {(step.Reference ? "reference  " : "distributed")} {step.Table} ({step.Elapsed.TotalMilliseconds:F0} ms)"))), ct);
            foreach (var change in run.Changes)
                AnsiConsole.MarkupLine(Markup.Escape($"  set         {change}"));
            AnsiConsole.MarkupLine(run.AlreadyDistributed
                ? "[green]Already distributed:[/] every table is placed; nothing changed."
                : $"[green]Distributed:[/] {run.Steps.Count} table(s) placed.");
            AnsiConsole.MarkupLine(Describe(await client.Migrator.DistributionStatusAsync(ct)));
            return 0;
        });
        return command;
    }

    static Command Reset()
    {
        var force = new Option<bool>("--force") { Description = "Required: confirms that every object of the schema is dropped" };
        var command = new Command("reset", "Drop every object in the schema (data included)") { force };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            if (!parse.GetValue(force))
            {
                CliFailure.Print($"refusing: reset drops every table and row in schema {client.Schema}. Run again with --force to confirm.");
                return ExitCodes.Usage;
            }
            await client.Migrator.ResetAsync(ct);
            AnsiConsole.MarkupLineInterpolated($"[yellow]Reset:[/] schema {client.Schema} is empty. Run `chatstore db init` to recreate it.");
            return 0;
        });
        return command;
    }

    static Command Script()
    {
        var from = new Option<int?>("--from") { Description = "Start after this version (default 0)" };
        var to = new Option<int?>("--to") { Description = "End at this version (default: latest)" };
        var sources = SourceOption();
        var command = new Command("script", "Print the SQL a migration range would run, for review; runs nothing") { from, to, sources };
        command.SetAction(parse => CliAction.RunAsync(parse, settings =>
        {
            using var dataSource = Npgsql.NpgsqlDataSource.Create("Host=localhost");
            var (app, target) = AppSources(parse.GetValue(sources));
            Console.Out.Write(new Migrator(dataSource, settings.Schema, settings.AppRole, app).Script(parse.GetValue(from), parse.GetValue(to), target));
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>
    /// <c>--source NAME=DIR</c> (repeatable) loads an app's migration folder, run after ChatStore's own;
    /// <c>--source NAME</c> names the source <c>--to</c> counts in (default: the only folder given, else chatstore).
    /// </summary>
    static Option<string[]> SourceOption() => new("--source")
    {
        Description = "An app's migrations as NAME=DIR (repeatable; run after ChatStore's), or the NAME of the source --to counts in",
        Arity = ArgumentArity.ZeroOrMore,
    };

    static (Migrator Migrator, string Target) MigratorFor(ChatStoreClient client, string[]? sources)
    {
        var (app, target) = AppSources(sources);
        return (app.Count == 0 ? client.Migrator : new Migrator(client.DataSource, client.Schema, client.Migrator.AppRole, app), target);
    }

    static (IReadOnlyList<MigrationSource> App, string Target) AppSources(string[]? values)
    {
        var app = new List<MigrationSource>();
        var named = new List<string>();
        foreach (var value in values ?? [])
        {
            var equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                named.Add(value);
                continue;
            }
            var (name, directory) = (value[..equals], value[(equals + 1)..]);
            if (name.Length == 0 || directory.Length == 0)
                throw new ChatStoreValidationException("--source", "format", $"'{value}' is not NAME=DIR: give the source's name and its migration folder, for example --source app=./migrations.");
            app.Add(MigrationSource.FromDirectory(name, directory));
        }
        if (named.Distinct(StringComparer.Ordinal).Count() > 1)
            throw new ChatStoreValidationException("--source", "one_target", $"Name at most one source for --to (got {string.Join(", ", named)}).");
        var target = named.FirstOrDefault()
            ?? (app.Count == 1 ? app[0].Name : MigrationSource.ChatStoreName);
        return (app, target);
    }
}
