namespace SemanticSearch.Models;

/// <summary>
/// The on-disk model store: one folder per model id under a root (<c>SEMSEARCH_MODELS</c>, else
/// <c>$XDG_CACHE_HOME/semsearch/models</c>, else <c>~/.cache/semsearch/models</c>). Each folder is a self-contained
/// model directory in the layout of its source's <see cref="IModelFormat"/>, plus the <c>semsearch-profile.json</c>
/// it was pulled with.
/// </summary>
public sealed class ModelCache
{
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
}
