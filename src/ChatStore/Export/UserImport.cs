namespace ChatStore.Export;

/// <summary>What <see cref="ExportStore.ImportUserAsync"/> imported.</summary>
/// <param name="UserId">The imported user (the id is kept).</param>
/// <param name="SourceTenantId">The tenant the export was taken from.</param>
/// <param name="ExportedAt">When the export was taken.</param>
/// <param name="SchemaVersion">The ChatStore schema version the export was taken from.</param>
/// <param name="Rows">Rows inserted per table, in the order they were inserted.</param>
public sealed record UserImport(Guid UserId, Guid SourceTenantId, DateTimeOffset ExportedAt, int SchemaVersion, IReadOnlyDictionary<string, long> Rows);
