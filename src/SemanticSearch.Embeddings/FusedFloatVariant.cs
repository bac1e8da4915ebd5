using SemanticSearch.Core;
using SemanticSearch.Onnx.Fusion;

namespace SemanticSearch.Embeddings;

/// <summary>
/// The float graph a float profile runs: the model's own graph with its attention cores fused (AttentionFusion), and
/// beside it the same graph without padding masks (PaddingFree) for runs of one length — a lone query always is one.
/// Both compute what the published graph computes, to float rounding (the tests hold that bound), so an index's
/// recorded revision does not name them and indexes built before them open unchanged: they are an execution plan,
/// not a new model. Measured on all-MiniLM-L6-v2 (docs/eval/spaces.md): a lone SciFact query 8.00 → 7.62 ms p50.
/// </summary>
/// <remarks>
/// Derived once, on first use, and kept beside <c>model.onnx</c> (written whole or not at all). A graph whose
/// attention the fusion does not recognise leaves an empty marker file instead, so later opens do not parse it again.
/// A model directory that cannot be written runs the published graph, as before: the variant is an optimisation,
/// never a reason to fail. A stamp (model.onnx's length and modification time) ties the derived files to the graph
/// they came from, so a replaced model.onnx re-derives them.
/// </remarks>
public static class FusedFloatVariant
{
    /// <summary>The fused graph's file name in a model directory.</summary>
    public static string FileName { get; } = $"model.mha{AttentionFusion.Version}.onnx";

    /// <summary>The fused graph without padding masks, for runs whose rows all have one length.</summary>
    public static string UnpaddedFileName { get; } = $"model.mha{AttentionFusion.Version}-pf{PaddingFree.Version}.onnx";

    /// <summary>The marker left when the graph has no attention core the fusion knows.</summary>
    public static string NothingToFuseFileName { get; } = $"model.mha{AttentionFusion.Version}.none";

    /// <summary>
    /// The graph and the unpadded companion to run for <paramref name="directory"/>'s float graph: the derived pair,
    /// or the published graph and null when nothing fuses or the directory cannot hold the derived files.
    /// </summary>
    public static (string Graph, string? Unpadded) Ensure(string directory)
    {
        var source = Path.Combine(directory, OnnxEncoderFormat.OnnxFileName);
        if (!File.Exists(source))
        {
            return (OnnxEncoderFormat.OnnxFileName, null);
        }
        var graph = Path.Combine(directory, FileName);
        var unpadded = Path.Combine(directory, UnpaddedFileName);
        var marker = Path.Combine(directory, NothingToFuseFileName);
        var stamp = SourceStamp(source);
        if (Stamped(marker, stamp))
        {
            return (OnnxEncoderFormat.OnnxFileName, null);
        }
        if (File.Exists(graph) && File.Exists(unpadded) && Stamped(Path.Combine(directory, StampFileName), stamp))
        {
            return (FileName, UnpaddedFileName);
        }
        try
        {
            var fused = AttentionFusion.Fuse(File.ReadAllBytes(source), source);
            if (fused.FusedLayers == 0)
            {
                DerivedGraphFile.WriteWhole(directory, marker, System.Text.Encoding.UTF8.GetBytes(stamp), "a marker");
                return (OnnxEncoderFormat.OnnxFileName, null);
            }
            var unmasked = PaddingFree.Rewrite(fused.Model, source);
            DerivedGraphFile.WriteWhole(directory, graph, fused.Model, "the attention-fused graph of the model");
            DerivedGraphFile.WriteWhole(directory, unpadded, unmasked.Model, "the unpadded graph of the model");
            // the stamp last: it vouches for both files
            DerivedGraphFile.WriteWhole(directory, Path.Combine(directory, StampFileName), System.Text.Encoding.UTF8.GetBytes(stamp), "the derived graphs' source stamp");
            return (FileName, UnpaddedFileName);
        }
        catch (CorruptDataException)
        {
            return (OnnxEncoderFormat.OnnxFileName, null); // ONNX Runtime then names what is wrong with the graph
        }
        catch (StoreWriteException)
        {
            return (OnnxEncoderFormat.OnnxFileName, null);
        }
    }

    // The derived files were made from this model.onnx (its length and modification time): a replaced model.onnx
    // re-derives them, never runs a stale plan.
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
