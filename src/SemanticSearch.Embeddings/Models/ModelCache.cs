namespace SemanticSearch.Embeddings.Models;

/// <summary>
/// The on-disk model store: one folder per model id under a root (<c>SEMSEARCH_MODELS</c>, else
/// <c>$XDG_CACHE_HOME/semsearch/models</c>, else <c>~/.cache/semsearch/models</c>). Each folder is a self-contained
/// model directory: <c>model.onnx</c>, <c>tokenizer.json</c> and/or <c>vocab.txt</c>, optional <c>config.json</c>
/// and the <c>semsearch-profile.json</c> it was pulled with.
/// </summary>
public sealed class ModelCache
{
    /// <summary>File name of the graph inside a model directory.</summary>
    public const string OnnxFileName = "model.onnx";

    /// <summary>File name of the Hugging Face tokenizer definition inside a model directory.</summary>
    public const string TokenizerFileName = "tokenizer.json";

    /// <summary>File name of the WordPiece vocabulary inside a model directory.</summary>
    public const string VocabFileName = "vocab.txt";

    /// <summary>File name of the Hugging Face model configuration inside a model directory.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>Opens the cache rooted at <paramref name="root"/> (created on first write, not here).</summary>
    public ModelCache(string root) => Root = Path.GetFullPath(root);

    /// <summary>The folder that holds one folder per model.</summary>
    public string Root { get; }

    /// <summary>The cache named by the environment: <c>SEMSEARCH_MODELS</c>, else the user's cache directory.</summary>
    public static ModelCache FromEnvironment() => new(DefaultRoot());

    /// <summary>The root <see cref="FromEnvironment"/> uses.</summary>
    public static string DefaultRoot()
    {
        var explicitRoot = Environment.GetEnvironmentVariable("SEMSEARCH_MODELS");
        if (!string.IsNullOrWhiteSpace(explicitRoot))
        {
            return explicitRoot;
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg))
        {
            return Path.Combine(xdg, "semsearch", "models");
        }

        if (OperatingSystem.IsWindows())
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "semsearch", "models");
        }

        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "semsearch", "models");
    }

    /// <summary>The folder of model <paramref name="modelId"/> (which may not exist yet).</summary>
    public string DirectoryFor(string modelId) => Path.Combine(Root, modelId);

    /// <summary>Whether model <paramref name="modelId"/> has every file it needs in the cache.</summary>
    public bool IsPresent(string modelId) => IsModelDirectory(DirectoryFor(modelId));

    /// <summary>Whether <paramref name="directory"/> holds a usable model: a graph and a tokenizer definition.</summary>
    public static bool IsModelDirectory(string directory) =>
        File.Exists(Path.Combine(directory, OnnxFileName))
        && (File.Exists(Path.Combine(directory, TokenizerFileName)) || File.Exists(Path.Combine(directory, VocabFileName)));
}
