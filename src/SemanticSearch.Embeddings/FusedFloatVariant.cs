using SemanticSearch.Core;
using SemanticSearch.Onnx.Fusion;

namespace SemanticSearch.Embeddings;

/// <summary>
/// The float graph a float profile runs: the model's own graph with its attention cores fused (AttentionFusion). It
/// computes what the published graph computes, to float rounding (the tests hold that bound), so an index's recorded
/// revision does not name it and indexes built before it open unchanged: it is an execution plan, not a new model.
/// Measured on all-MiniLM-L6-v2 (docs/eval/spaces.md): a lone SciFact query 8.00 → 7.81 ms p50; passages unchanged.
/// Unlike the int8 variant it has no unpadded companion: that one saved as much again on a lone query, but as a second
/// float session it held a second copy of the model (+127 MiB for MiniLM).
/// </summary>
/// <remarks>
/// Derived once, on first use, and kept beside <c>model.onnx</c> (written whole or not at all). A graph whose
/// attention the fusion does not recognise leaves an empty marker file instead, so later opens do not parse it again.
/// A model directory that cannot be written runs the published graph, as before: the variant is an optimisation,
/// never a reason to fail. A stamp (model.onnx's length and modification time) ties the derived file to the graph it
/// came from, so a replaced model.onnx re-derives it.
/// </remarks>
public static class FusedFloatVariant
{
    /// <summary>The fused graph's file name in a model directory.</summary>
    public static string FileName { get; } = $"model.mha{AttentionFusion.Version}.onnx";

    /// <summary>The marker left when the graph has no attention core the fusion knows.</summary>
    public static string NothingToFuseFileName { get; } = $"model.mha{AttentionFusion.Version}.none";

    /// <summary>
    /// The graph to run for <paramref name="directory"/>'s float graph: the fused one, or the published graph when
    /// nothing fuses or the directory cannot hold the derived file.
    /// </summary>
    public static string Ensure(string directory)
    {
        var source = Path.Combine(directory, OnnxEncoderFormat.OnnxFileName);
        if (!File.Exists(source))
        {
            return OnnxEncoderFormat.OnnxFileName;
        }
        var graph = Path.Combine(directory, FileName);
        var marker = Path.Combine(directory, NothingToFuseFileName);
        var stamp = SourceStamp(source);
        if (Stamped(marker, stamp))
        {
            return OnnxEncoderFormat.OnnxFileName;
        }
        if (File.Exists(graph) && Stamped(Path.Combine(directory, StampFileName), stamp))
        {
            return FileName;
        }
        try
        {
            var fused = AttentionFusion.Fuse(File.ReadAllBytes(source), source);
            if (fused.FusedLayers == 0)
            {
                DerivedGraphFile.WriteWhole(directory, marker, System.Text.Encoding.UTF8.GetBytes(stamp), "a marker");
                return OnnxEncoderFormat.OnnxFileName;
            }
            DerivedGraphFile.WriteWhole(directory, graph, fused.Model, "the attention-fused graph of the model");
            // the stamp last: it vouches for the graph
            DerivedGraphFile.WriteWhole(directory, Path.Combine(directory, StampFileName), System.Text.Encoding.UTF8.GetBytes(stamp), "the derived graph's source stamp");
            return FileName;
        }
        catch (CorruptDataException)
        {
            return OnnxEncoderFormat.OnnxFileName; // ONNX Runtime then names what is wrong with the graph
        }
        catch (StoreWriteException)
        {
            return OnnxEncoderFormat.OnnxFileName;
        }
    }

    // The derived file was made from this model.onnx (its length and modification time): a replaced model.onnx
    // re-derives it, never runs a stale plan.
    private static string StampFileName => $"model.mha{AttentionFusion.Version}.source";

    private static string SourceStamp(string source)
    {
        var info = new FileInfo(source);
        return FormattableString.Invariant($"{info.Length} {info.LastWriteTimeUtc.Ticks}");
    }

    private static bool Stamped(string path, string stamp)
    {
        try
        {
            return File.Exists(path) && File.ReadAllText(path) == stamp;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
