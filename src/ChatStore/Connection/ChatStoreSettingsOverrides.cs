namespace ChatStore.Connection;

/// <summary>
/// Settings given explicitly, in code or as command-line flags. They win over the environment, the
/// JSON config file and the defaults in <see cref="ChatStoreSettings.Load"/>; <see langword="null"/>
/// means "not given".
/// </summary>
public sealed record ChatStoreSettingsOverrides
{
    /// <summary>A <c>postgres://</c> URL or an Npgsql key=value connection string.</summary>
    public string? DatabaseUrl { get; init; }

    /// <summary>The schema that holds ChatStore's tables.</summary>
    public string? Schema { get; init; }

    /// <summary>The role the store acts as; an empty string turns role switching off.</summary>
    public string? AppRole { get; init; }

    /// <summary>The most connections the pool opens.</summary>
    public int? MaxPoolSize { get; init; }

    /// <summary>The command timeout in seconds; 0 waits forever.</summary>
    public int? CommandTimeoutSeconds { get; init; }

    /// <summary>The data directory of the embedded cluster.</summary>
    public string? EmbeddedDataDirectory { get; init; }

    /// <summary>Describes the overrides with the password masked.</summary>
    public override string ToString()
        => $"{nameof(ChatStoreSettingsOverrides)} {{ {nameof(DatabaseUrl)} = {(DatabaseUrl is null ? "" : global::ChatStore.Connection.DatabaseUrl.Mask(DatabaseUrl))}, "
         + $"{nameof(Schema)} = {Schema}, {nameof(AppRole)} = {AppRole}, {nameof(MaxPoolSize)} = {MaxPoolSize}, "
         + $"{nameof(CommandTimeoutSeconds)} = {CommandTimeoutSeconds}, {nameof(EmbeddedDataDirectory)} = {EmbeddedDataDirectory} }}";
}
