namespace ChatStore.Tests;

/// <summary>Files a test writes under the temporary directory, deleted when it is disposed.</summary>
public sealed class TempFiles : IDisposable
{
    readonly List<string> _paths = [];

    /// <summary>Writes <paramref name="text"/> to a new file named <c>{prefix}-{guid}{extension}</c> and returns its path.</summary>
    public string Write(string text, string prefix = "chatstore-test", string extension = "")
    {
        var path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}{extension}");
        File.WriteAllText(path, text);
        _paths.Add(path);
        return path;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var path in _paths)
            File.Delete(path);
    }
}
