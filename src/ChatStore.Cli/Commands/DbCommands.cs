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
        return db;
    }

    static Progress<MigrationStep> Progress() => new(step =>
        AnsiConsole.MarkupLine(
            (step.Direction == MigrationDirection.Up ? "  [green]applied[/]     " : "  [yellow]rolled back[/] ") +
            Markup.Escape($"{step.Source} {step.Version:D4}_{step.Name} ({step.Elapsed.TotalMilliseconds:F0} ms)")));

    static Command Init()
    {
        var command = new Command("init", "Create the schema, the vector extension and the application role, and apply every migration. Safe to run again.");
        CliAction.Set(command, async (parse, client, ct) =>
        {
            AnsiConsole.MarkupLineInterpolated($"Initialising schema [bold]{client.Schema}[/]…");
            var run = await client.Migrator.InitAsync(Progress(), ct);
            AnsiConsole.MarkupLine(run.AlreadyInitialised
                ? "[green]Already initialised:[/] the schema is up to date; nothing changed."
                : $"[green]Initialised:[/] {run.Applied.Count} migration(s) applied.");
            return 0;
        });
        return command;
    }

    static Command Migrate()
    {
        var to = new Option<int?>("--to") { Description = "Stop at this version (of --source)" };
        var source = new Option<string>("--source") { Description = "Migration source for --to", DefaultValueFactory = _ => MigrationSource.ChatStoreName };
        var command = new Command("migrate", "Apply pending migrations") { to, source };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var run = await client.Migrator.MigrateAsync(parse.GetValue(to), parse.GetValue(source)!, Progress(), ct);
            AnsiConsole.MarkupLine(run.Applied.Count == 0 ? "Nothing to apply." : $"[green]{run.Applied.Count} migration(s) applied.[/]");
            return 0;
        });
        return command;
    }

    static Command Rollback()
    {
        var steps = new Option<int?>("--steps") { Description = "Roll back this many migrations, newest first" };
        var to = new Option<int?>("--to") { Description = "Roll back to this version (of --source)" };
        var source = new Option<string>("--source") { Description = "Migration source for --to", DefaultValueFactory = _ => MigrationSource.ChatStoreName };
        var command = new Command("rollback", "Roll back migrations (give --steps or --to)") { steps, to, source };
        CliAction.Set(command, async (parse, client, ct) =>
        {
            int? s = parse.GetValue(steps), t = parse.GetValue(to);
            var run = await client.Migrator.RollbackAsync(s is null && t is null ? 1 : s, t, parse.GetValue(source)!, Progress(), ct);
            if (run.Applied.Count == 0)
            {
                CliFailure.Print(t is null
                    ? $"nothing to roll back: no migration is applied in schema {client.Schema}. `chatstore db status` shows what is applied; `chatstore db init` applies them."
                    : $"nothing to roll back: no migration of {parse.GetValue(source)} above version {t} is applied in schema {client.Schema}. `chatstore db status` shows what is applied.");
                return ExitCodes.MigrationConflict;
            }
            AnsiConsole.MarkupLine($"[yellow]{run.Applied.Count} migration(s) rolled back.[/]");
            return 0;
        });
        return command;
    }

    static Command Status()
    {
        var command = new Command("status", "Show applied and pending migrations, and files changed since they were applied");
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var health = await client.HealthCheckAsync(ct);
            var status = await client.Migrator.StatusAsync(ct);
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
            return status.Entries.Any(e => e.State is MigrationState.ChecksumMismatch or MigrationState.Missing) ? CliAction.Failed : 0;
        });
        return command;
    }

    static Command Verify()
    {
        var command = new Command("verify", "Compare the live schema with what its migrations define; exit 1 on any drift");
        CliAction.Set(command, async (parse, client, ct) =>
        {
            var report = await client.Migrator.VerifyAsync(ct);
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
        var source = new Option<string>("--source") { Description = "Migration source", DefaultValueFactory = _ => MigrationSource.ChatStoreName };
        var command = new Command("script", "Print the SQL a migration range would run, for review; runs nothing") { from, to, source };
        command.SetAction(parse => CliAction.RunAsync(parse, settings =>
        {
            using var dataSource = Npgsql.NpgsqlDataSource.Create("Host=localhost");
            Console.Out.Write(new Migrator(dataSource, settings.Schema, settings.AppRole).Script(parse.GetValue(from), parse.GetValue(to), parse.GetValue(source)!));
            return Task.FromResult(0);
        }));
        return command;
    }
}
