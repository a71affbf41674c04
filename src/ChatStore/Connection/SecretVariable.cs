namespace ChatStore.Connection;

/// <summary>
/// Reads a secret setting from the environment the way Docker and Kubernetes secrets are mounted:
/// <c>NAME</c> holds the value itself, or <c>NAME_FILE</c> names a file that holds it (its trailing
/// newline is dropped). Setting both is an error, never a silent choice.
/// </summary>
public static class SecretVariable
{
    /// <summary>The suffix of the variable that names a file holding the secret.</summary>
    public const string FileSuffix = "_FILE";

    /// <summary>The secret <paramref name="name"/> gives, from the variable or the file <c>NAME_FILE</c> names; null when neither is set.</summary>
    /// <param name="name">The variable, for example <c>DATABASE_URL</c>.</param>
    /// <param name="lookup">Reads a variable; null reads the process's environment.</param>
    /// <exception cref="ChatStoreConfigurationException">Both variables are set, or the file is missing, unreadable or empty.</exception>
    public static string? Read(string name, Func<string, string?>? lookup = null) => ReadWithSource(name, lookup)?.Value;

    /// <summary>The secret and where it came from (<c>NAME</c>, or <c>NAME_FILE (path)</c>) for messages.</summary>
    internal static (string Value, string Source)? ReadWithSource(string name, Func<string, string?>? lookup)
    {
        lookup ??= Environment.GetEnvironmentVariable;
        var fileVariable = name + FileSuffix;
        var value = lookup(name) is { } v && !string.IsNullOrWhiteSpace(v) ? v : null;
        var path = lookup(fileVariable) is { } p && !string.IsNullOrWhiteSpace(p) ? p : null;
        if (value is not null && path is not null)
            throw new ChatStoreConfigurationException(
                $"Both {name} and {fileVariable} are set: unset one. {fileVariable} names a file holding the value (a Docker or Kubernetes secret); {name} holds the value itself.");
        if (path is null)
            return value is null ? null : (value, name);

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ChatStoreConfigurationException($"{fileVariable} names {path}, which does not exist: mount the secret there or correct {fileVariable}.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ChatStoreConfigurationException($"{fileVariable} names {path}, which cannot be read ({e.Message}): give this process read access to it.", e);
        }
        // Secrets files usually end with a newline (echo, editors, kubectl create secret --from-file).
        var secret = text.TrimEnd('\r', '\n');
        if (string.IsNullOrWhiteSpace(secret))
            throw new ChatStoreConfigurationException($"{path} (named by {fileVariable}) is empty: write the value into it, or unset {fileVariable}.");
        return (secret, $"{fileVariable} ({path})");
    }
}
