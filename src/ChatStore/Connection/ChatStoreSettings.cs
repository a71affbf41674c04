using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ChatStore.Connection;

/// <summary>
/// Where ChatStore's database is and how the store uses it. Build one with <see cref="Load"/>
/// (explicit overrides, then the environment, then a JSON config file, then the defaults) or with an
/// object initializer. <see cref="ToString"/> masks the password.
/// </summary>
public sealed record ChatStoreSettings
{
    /// <summary>The file <see cref="Load"/> reads from the current directory when no config file is named.</summary>
    public const string DefaultConfigFileName = "chatstore.json";

    /// <summary>An Npgsql key=value connection string; <see langword="null"/> uses the embedded cluster.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>The schema that holds ChatStore's tables (default <c>public</c>). Any characters are allowed: it is always quoted.</summary>
    /// <exception cref="ChatStoreConfigurationException">The name is empty, longer than 63 bytes or contains NUL.</exception>
    public string Schema
    {
        get;
        init => field = Check(value, IdentifierProblem(value), $"{nameof(ChatStoreSettings)}.{nameof(Schema)}");
    } = "public";

    /// <summary>
    /// The NOBYPASSRLS role the store acts as (default <c>chatstore_app</c>), so that row-level security
    /// applies; <see langword="null"/> acts as the login role itself.
    /// </summary>
    /// <exception cref="ChatStoreConfigurationException">The name is empty, longer than 63 bytes or contains NUL.</exception>
    public string? AppRole
    {
        get;
        init => field = value is null ? null : Check(value, IdentifierProblem(value), $"{nameof(ChatStoreSettings)}.{nameof(AppRole)}");
    } = "chatstore_app";

    /// <summary>The most connections the pool opens; <see langword="null"/> keeps the connection string's (or Npgsql's) value.</summary>
    /// <exception cref="ChatStoreConfigurationException">The value is less than 1.</exception>
    public int? MaxPoolSize
    {
        get;
        init => field = value is null or >= 1 ? value : throw Invalid($"{nameof(ChatStoreSettings)}.{nameof(MaxPoolSize)}", PoolSizeRule);
    }

    /// <summary>The command timeout in seconds (0 waits forever); <see langword="null"/> keeps the connection string's (or Npgsql's) value.</summary>
    /// <exception cref="ChatStoreConfigurationException">The value is negative.</exception>
    public int? CommandTimeoutSeconds
    {
        get;
        init => field = value is null or >= 0 ? value : throw Invalid($"{nameof(ChatStoreSettings)}.{nameof(CommandTimeoutSeconds)}", TimeoutRule);
    }

    /// <summary>The data directory of the embedded cluster (default <c>.chatstore/pg</c>), as given: a relative path is relative to the current directory.</summary>
    /// <exception cref="ChatStoreConfigurationException">The value is empty.</exception>
    public string EmbeddedDataDirectory
    {
        get;
        init => field = Check(value, string.IsNullOrWhiteSpace(value) ? DirectoryRule : null, $"{nameof(ChatStoreSettings)}.{nameof(EmbeddedDataDirectory)}");
    } = DefaultEmbeddedDataDirectory;

    /// <summary>The default <see cref="EmbeddedDataDirectory"/>, relative to the current directory.</summary>
    public const string DefaultEmbeddedDataDirectory = ".chatstore/pg";

    /// <summary>
    /// The clock for the times ChatStore decides (share-link and cache expiry, idempotency key lifetime, how long
    /// search remembers a filtered set's size); <see langword="null"/> is the system clock. Tests pass a fake one.
    /// Not read from the environment or the config file.
    /// </summary>
    public TimeProvider? TimeProvider { get; init; }

    const string PoolSizeRule = "must be a whole number, 1 or more";
    const string TimeoutRule = "must be a whole number of seconds, 0 (wait forever) or more";
    const string DirectoryRule = "must not be empty";

    /// <summary>
    /// Loads the settings. For each setting the first source that gives it wins: <paramref name="overrides"/>,
    /// then the environment, then the JSON config file, then the default.
    /// </summary>
    /// <remarks>
    /// Environment variables: <c>DATABASE_URL</c> (a <c>postgres://</c> URL or an Npgsql key=value string;
    /// or <c>DATABASE_URL_FILE</c>, a file holding it, as Docker and Kubernetes secrets are mounted: see <see cref="SecretVariable"/>),
    /// <c>DATABASE_SCHEMA</c>, <c>CHATSTORE_APP_ROLE</c>, <c>CHATSTORE_POOL_SIZE</c>, <c>CHATSTORE_COMMAND_TIMEOUT</c>,
    /// <c>CHATSTORE_DATA_DIR</c> and <c>CHATSTORE_CONFIG</c> (the config file's path). An empty variable counts
    /// as unset, except <c>CHATSTORE_APP_ROLE</c>: an empty app role at any level turns role switching off.
    /// The config file is <paramref name="configFile"/>, else <c>CHATSTORE_CONFIG</c>, else <c>chatstore.json</c>
    /// in the current directory if it exists. It is a JSON object with the keys <c>databaseUrl</c>, <c>schema</c>,
    /// <c>appRole</c>, <c>maxPoolSize</c>, <c>commandTimeoutSeconds</c> and <c>dataDirectory</c>; a key set to
    /// <see langword="null"/> counts as absent.
    /// </remarks>
    /// <param name="overrides">Settings given in code or as command-line flags.</param>
    /// <param name="environment">The environment variables; <see langword="null"/> reads the process's.</param>
    /// <param name="configFile">The JSON config file; it must exist when named.</param>
    /// <returns>The settings.</returns>
    /// <exception cref="ChatStoreConfigurationException">A value is malformed; the message names the variable or key and the rule.</exception>
    public static ChatStoreSettings Load(
        ChatStoreSettingsOverrides? overrides = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? configFile = null)
    {
        overrides ??= new ChatStoreSettingsOverrides();
        Func<string, string?> lookup = environment is null
            ? Environment.GetEnvironmentVariable
            : name => environment.TryGetValue(name, out var value) ? value : null;
        string? Env(string name) => lookup(name) is { } value && !string.IsNullOrWhiteSpace(value) ? value : null;

        var file = ReadConfigFile(configFile, Env("CHATSTORE_CONFIG"));
        (string Text, string Source)? Pick(object? overrideValue, string overrideName, string? envValue, string envName, string fileKey)
        {
            if (overrideValue is not null)
                return (Convert.ToString(overrideValue, CultureInfo.InvariantCulture)!, $"{nameof(ChatStoreSettingsOverrides)}.{overrideName}");
            if (envValue is not null)
                return (envValue, envName);
            if (file.Values.TryGetValue(fileKey, out var fileValue) && fileValue is not null)
                return (fileValue, $"\"{fileKey}\" in {file.Path}");
            return null;
        }

        var settings = new ChatStoreSettings();

        var databaseUrl = SecretVariable.ReadWithSource("DATABASE_URL", lookup);
        if (Pick(overrides.DatabaseUrl, nameof(overrides.DatabaseUrl), databaseUrl?.Value, databaseUrl?.Source ?? "DATABASE_URL", "databaseUrl") is (var url, var urlSource))
            settings = settings with { ConnectionString = DatabaseUrl.ToConnectionString(url, urlSource) };

        if (Pick(overrides.Schema, nameof(overrides.Schema), Env("DATABASE_SCHEMA"), "DATABASE_SCHEMA", "schema") is (var schema, var schemaSource))
            settings = settings with { Schema = Check(schema, IdentifierProblem(schema), schemaSource) };

        // Here a set but empty variable means something: no role switching.
        if (Pick(overrides.AppRole, nameof(overrides.AppRole), lookup("CHATSTORE_APP_ROLE"), "CHATSTORE_APP_ROLE", "appRole") is (var role, var roleSource))
            settings = settings with { AppRole = string.IsNullOrWhiteSpace(role) ? null : Check(role, IdentifierProblem(role), roleSource) };

        if (Pick(overrides.MaxPoolSize, nameof(overrides.MaxPoolSize), Env("CHATSTORE_POOL_SIZE"), "CHATSTORE_POOL_SIZE", "maxPoolSize") is (var pool, var poolSource))
            settings = settings with { MaxPoolSize = ParseWholeNumber(pool, 1, poolSource, PoolSizeRule) };

        if (Pick(overrides.CommandTimeoutSeconds, nameof(overrides.CommandTimeoutSeconds), Env("CHATSTORE_COMMAND_TIMEOUT"), "CHATSTORE_COMMAND_TIMEOUT", "commandTimeoutSeconds") is (var timeout, var timeoutSource))
            settings = settings with { CommandTimeoutSeconds = ParseWholeNumber(timeout, 0, timeoutSource, TimeoutRule) };

        if (Pick(overrides.EmbeddedDataDirectory, nameof(overrides.EmbeddedDataDirectory), Env("CHATSTORE_DATA_DIR"), "CHATSTORE_DATA_DIR", "dataDirectory") is (var directory, var directorySource))
            settings = settings with { EmbeddedDataDirectory = Check(directory, string.IsNullOrWhiteSpace(directory) ? DirectoryRule : null, directorySource) };

        return settings;
    }

    /// <summary>Describes the settings on one line with the password masked; safe to log.</summary>
    /// <returns>The description.</returns>
    public string Describe()
    {
        var connection = ConnectionString is null ? "(embedded cluster)" : DatabaseUrl.Mask(ConnectionString);
        return string.Create(CultureInfo.InvariantCulture,
            $"{nameof(ChatStoreSettings)} {{ {nameof(ConnectionString)} = {connection}, {nameof(Schema)} = {Schema}, "
            + $"{nameof(AppRole)} = {AppRole ?? "(none)"}, {nameof(MaxPoolSize)} = {MaxPoolSize?.ToString(CultureInfo.InvariantCulture) ?? "(default)"}, "
            + $"{nameof(CommandTimeoutSeconds)} = {CommandTimeoutSeconds?.ToString(CultureInfo.InvariantCulture) ?? "(default)"}, "
            + $"{nameof(EmbeddedDataDirectory)} = {EmbeddedDataDirectory} }}");
    }

    /// <summary>Describes the settings with the password masked; the same as <see cref="Describe"/>.</summary>
    public override string ToString() => Describe();

    static readonly string[] ConfigKeys = ["databaseUrl", "schema", "appRole", "maxPoolSize", "commandTimeoutSeconds", "dataDirectory"];

    sealed record ConfigFile(string Path, Dictionary<string, string?> Values);

    static ConfigFile ReadConfigFile(string? configFile, string? fromEnvironment)
    {
        var path = configFile ?? fromEnvironment;
        var named = configFile is not null ? "config file" : "config file (from CHATSTORE_CONFIG)";
        if (path is null)
        {
            if (!File.Exists(DefaultConfigFileName))
                return new ConfigFile("", []);
            path = DefaultConfigFileName;
            named = "config file";
        }
        if (!File.Exists(path))
            throw new ChatStoreConfigurationException($"{named} {path} does not exist: create it, or name another file.");

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ChatStoreConfigurationException($"{named} {path} cannot be read: {e.Message}", e);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ChatStoreConfigurationException(
                $"{named} {path} is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): it must be one object such as {{ \"databaseUrl\": \"postgres://...\", \"schema\": \"chat\" }}.", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new ChatStoreConfigurationException($"{named} {path} must hold a JSON object with the keys {string.Join(", ", ConfigKeys)}.");

            var values = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var key = property.Name;
                if (!ConfigKeys.Contains(key))
                    throw new ChatStoreConfigurationException($"{named} {path}: unknown key \"{key}\"; the keys are {string.Join(", ", ConfigKeys)} (camelCase).");
                var isNumber = key is "maxPoolSize" or "commandTimeoutSeconds";
                var value = property.Value;
                string? parsed = value.ValueKind switch
                {
                    JsonValueKind.Null => null,
                    JsonValueKind.String when !isNumber => value.GetString(),
                    JsonValueKind.Number when isNumber => value.GetRawText(),
                    _ => throw new ChatStoreConfigurationException(
                        $"\"{key}\" in {path} must be a JSON {(isNumber ? "number" : "string")}, not {value.ValueKind.ToString().ToLowerInvariant()}."),
                };
                if (!values.TryAdd(key, parsed))
                    throw new ChatStoreConfigurationException($"{named} {path}: key \"{key}\" appears more than once.");
            }
            return new ConfigFile(path, values);
        }
    }

    static int ParseWholeNumber(string text, int minimum, string source, string rule)
        => int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= minimum
            ? value
            : throw Invalid(source, rule);

    // PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1) and cannot store NUL.
    static string? IdentifierProblem(string value)
    {
        if (value.Length == 0)
            return "must not be empty";
        if (value.Contains('\0', StringComparison.Ordinal))
            return "must not contain a NUL character";
        if (Encoding.UTF8.GetByteCount(value) > 63)
            return "must be at most 63 bytes in UTF-8 (PostgreSQL's identifier limit)";
        return null;
    }

    static string Check(string value, string? problem, string source)
        => problem is null ? value : throw Invalid(source, problem);

    static ChatStoreConfigurationException Invalid(string source, string rule) => new($"{source} {rule}.");
}
