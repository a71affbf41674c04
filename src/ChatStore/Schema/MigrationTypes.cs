namespace ChatStore.Schema;

/// <summary>Which way a migration step went.</summary>
public enum MigrationDirection
{
    /// <summary>Applied.</summary>
    Up,
    /// <summary>Rolled back.</summary>
    Down,
}

/// <summary>One migration applied or rolled back.</summary>
public sealed record MigrationStep(string Source, int Version, string Name, MigrationDirection Direction, TimeSpan Elapsed);

/// <summary>What a migrate, init or rollback run did.</summary>
/// <param name="Applied">The steps taken, in order.</param>
/// <param name="AlreadyInitialised">For init: the schema was already up to date and nothing changed.</param>
public sealed record MigrationRun(IReadOnlyList<MigrationStep> Applied, bool AlreadyInitialised);

/// <summary>The state of one migration in a schema.</summary>
public enum MigrationState
{
    /// <summary>Applied, and the file still matches its checksum.</summary>
    Applied,
    /// <summary>Not applied yet.</summary>
    Pending,
    /// <summary>Applied, but the file changed since.</summary>
    ChecksumMismatch,
    /// <summary>Recorded as applied, but no file defines it.</summary>
    Missing,
}

/// <summary>One row of <see cref="MigrationStatus"/>.</summary>
public sealed record MigrationStatusEntry(string Source, int Version, string Name, MigrationState State, DateTimeOffset? AppliedAt, int? ExecutionMs);

/// <summary>The migrations of a schema and their states.</summary>
public sealed record MigrationStatus(string Schema, IReadOnlyList<MigrationStatusEntry> Entries)
{
    /// <summary>Migrations not applied yet.</summary>
    public int Pending => Entries.Count(e => e.State == MigrationState.Pending);

    /// <summary>The highest applied ChatStore version (0 when none).</summary>
    public int CurrentVersion => Entries.Where(e => e.Source == MigrationSource.ChatStoreName && e.State != MigrationState.Pending)
        .Select(e => e.Version).DefaultIfEmpty(0).Max();

    /// <summary>True when every migration is applied and unchanged.</summary>
    public bool UpToDate => Entries.All(e => e.State == MigrationState.Applied);
}

/// <summary>A row from the history table.</summary>
internal sealed record AppliedMigration(string Source, int Version, string Name, string Checksum, DateTimeOffset AppliedAt, int ExecutionMs, long Order);
