using SemanticSearch.Core;
using SemanticSearch.Models;
using SemanticSearch.Onnx.Bert;

namespace SemanticSearch.Embeddings.Download;

/// <summary>
/// <c>semsearch models pull</c>: fetches a profile's files into its cache folder as a self-contained model directory
/// (<c>model.onnx</c>, <c>tokenizer.json</c>/<c>vocab.txt</c>, <c>config.json</c>, <c>semsearch-profile.json</c>).
/// Files already in place are kept, so a pull that failed half-way continues where it stopped. When the repository
/// has no ONNX export, <c>config.json</c> + <c>model.safetensors</c> are fetched and converted locally.
/// </summary>
public sealed class ModelPuller(HuggingFaceDownloader downloader, ModelCache cache)
{
    /// <summary>Downloads every file of <paramref name="profile"/>; returns the model directory.</summary>
    public Task<string> PullAsync(ModelProfile profile, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return PullIntoAsync(profile, cache.DirectoryFor(profile.Id), progress, cancellationToken);
    }

    /// <summary>Downloads every file of <paramref name="profile"/> into <paramref name="directory"/>; returns it.</summary>
    public async Task<string> PullIntoAsync(ModelProfile profile, string directory, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var source = profile.Source as HuggingFaceSource
            ?? throw new InvalidSettingException("model", $"'{profile.Id}' has no Hugging Face source; nothing to pull from the hub");
        Directory.CreateDirectory(directory);

        var tokenizer = source.Tokenizer is { } t && await FetchAsync(source, t, OnnxEncoderFormat.TokenizerFileName, optional: source.Vocab is not null).ConfigureAwait(false);
        var vocab = source.Vocab is { } v && await FetchAsync(source, v, OnnxEncoderFormat.VocabFileName, optional: tokenizer).ConfigureAwait(false);
        if (!tokenizer && !vocab)
        {
            throw new NotFoundException($"{source.HfRepo}: neither {source.Tokenizer} nor {source.Vocab} exists at revision '{source.HubRevision}'");
        }

        var config = source.Config is { } c && await FetchAsync(source, c, OnnxEncoderFormat.ConfigFileName, optional: true).ConfigureAwait(false);
        var onnxPath = Path.Combine(directory, OnnxEncoderFormat.OnnxFileName);
        var exported = false;
        if (source.Onnx is { } onnx)
        {
            try
            {
                exported = await FetchAsync(source, onnx, OnnxEncoderFormat.OnnxFileName, optional: false).ConfigureAwait(false);
            }
            catch (NotFoundException) when (config && source.Weights is not null && profile.Pooling != PoolingMode.Graph)
            {
                // The profile names an export that this revision lacks: fall through to converting the weights.
            }
        }

        if (!exported && !File.Exists(onnxPath))
        {
            if (!config || source.Weights is null)
            {
                throw new NotFoundException($"{source.HfRepo}: no ONNX graph and no config.json + weights to convert at revision '{source.HubRevision}'");
            }

            // No ONNX export in the repository: convert the PyTorch weights (safetensors) with the project's converter.
            const string weightsName = "model.safetensors";
            await FetchAsync(source, source.Weights, weightsName, optional: false).ConfigureAwait(false);
            BertOnnxConverter.ConvertToFile(directory, onnxPath, BertExportOptions.Default with { Pooling = BertPooling.None, Normalize = false });
            File.Delete(Path.Combine(directory, weightsName)); // the graph holds the weights now
        }

        var profileFile = Path.Combine(directory, ModelProfile.LocalFileName);
        await File.WriteAllTextAsync(profileFile + ".tmp", profile.ToJson(), cancellationToken).ConfigureAwait(false);
        File.Move(profileFile + ".tmp", profileFile, overwrite: true);
        return directory;

        async Task<bool> FetchAsync(HuggingFaceSource s, string repoPath, string localName, bool optional)
        {
            var destination = Path.Combine(directory, localName);
            if (File.Exists(destination))
            {
                return true;
            }

            try
            {
                await downloader.DownloadFileAsync(s.HfRepo, s.HubRevision, repoPath, destination, progress, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (NotFoundException) when (optional)
            {
                return false;
            }
        }
    }
}
