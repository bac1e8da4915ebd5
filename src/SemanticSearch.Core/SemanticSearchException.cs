namespace SemanticSearch.Core;

/// <summary>
/// The one base type for every error the engine reports on purpose. Its message is written for the user:
/// it names the file, field or setting at fault. Hosts print <see cref="Exception.Message"/> and hide the stack
/// trace unless asked for it.
/// </summary>
public class SemanticSearchException : Exception
{
    public SemanticSearchException(string message) : base(message) { }
    public SemanticSearchException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A setting or argument has a value the engine cannot use. The message names the setting.</summary>
public sealed class InvalidSettingException : SemanticSearchException
{
    public InvalidSettingException(string setting, string message) : base($"{setting}: {message}") => Setting = setting;

    /// <summary>The setting, option or field at fault.</summary>
    public string Setting { get; }
}

/// <summary>An index, model or other named resource does not exist where it was looked for.</summary>
public sealed class NotFoundException : SemanticSearchException
{
    public NotFoundException(string message) : base(message) { }
}

/// <summary>A persisted file is damaged, truncated, of a foreign format or of an unsupported version.</summary>
public sealed class CorruptDataException : SemanticSearchException
{
    public CorruptDataException(string path, string message) : base($"{path}: {message}") => Path = path;
    public CorruptDataException(string path, string message, Exception inner) : base($"{path}: {message}", inner) => Path = path;

    /// <summary>The file or directory at fault.</summary>
    public string Path { get; }
}

/// <summary>An index was built with one model and is being opened with another.</summary>
public sealed class ModelMismatchException : SemanticSearchException
{
    public ModelMismatchException(string message) : base(message) { }
}

/// <summary>
/// A store (the metadata file, the lexical index) is held by another writer. Components raise it at their edge in
/// place of their library's own lock error, so hosts can answer "busy" without knowing the library.
/// </summary>
public sealed class StoreLockedException : SemanticSearchException
{
    public StoreLockedException(string path, string message, Exception inner) : base($"{path}: {message}", inner) => Path = path;

    /// <summary>The store that is locked.</summary>
    public string Path { get; }
}

/// <summary>
/// Writing to a store failed (a full disk, an I/O error, the store's library refusing the write). The store keeps its
/// last commit; the write batch is lost.
/// </summary>
public sealed class StoreWriteException : SemanticSearchException
{
    public StoreWriteException(string path, string message, Exception inner) : base($"{path}: {message}", inner) => Path = path;

    /// <summary>The store whose write failed.</summary>
    public string Path { get; }
}

/// <summary>
/// A read that needs one committed state (a store's, or the whole index's at one generation) found a writer moving on
/// through every attempt within its patience. Nothing is wrong with the data; the same read succeeds when the writer
/// pauses.
/// </summary>
public sealed class StoreBusyException : SemanticSearchException
{
    public StoreBusyException(string path, string message) : base($"{path}: {message}") => Path = path;

    /// <summary>The store or index directory that kept changing.</summary>
    public string Path { get; }
}
