// The int8 variant of a model directory's float graph: derived once, on first use, by the project's own rewrites
// (SemanticSearch.Onnx: AttentionFusion, then FirstTokenTrim for a model pooled by its first token, then
// DynamicInt8Quantizer) and kept beside the float graph as model.int8-v<version>-mha<version>.onnx, or
// model.int8-v<version>-mha<version>-cls<version>.onnx when trimmed. Indexes embedded with it record the profile's
// revision plus "+int8.<version>", so they are always re-opened with the same variant, and an index recorded without
// the suffix keeps the float graph. Neither the fusion nor the trim is part of the revision: the fusion changes how
// the graph runs, not what it computes (vectors agree with the unfused graph's to float rounding), and the trim moves
// int8 vectors by less than their own batch dependence (the tests hold both bounds). Invariant: the derived file
// appears whole or not at all (written to a temporary name, then renamed; two processes deriving at once write
// identical bytes). Beside it, the same graph without attention masks (PaddingFree, file name + "-pf<version>") runs
// the runs that have no padding.
using SemanticSearch.Core;
using SemanticSearch.Models;
using SemanticSearch.Onnx.Fusion;
using SemanticSearch.Onnx.Quantization;

namespace SemanticSearch.Embeddings;

/// <summary>Derives and names the int8 variant of an ONNX encoder graph.</summary>
public static class Int8Variant
{
    /// <summary>What an index embedded with the variant appends to the model's revision.</summary>
    public static string RevisionSuffix { get; } = $"+int8.{DynamicInt8Quantizer.Version}";

    /// <summary>The derived graph's file name in a model directory (attention fused, every token's state kept).</summary>
    public static string FileName { get; } = $"model.int8-v{DynamicInt8Quantizer.Version}-mha{AttentionFusion.Version}.onnx";

    /// <summary>The derived graph's file name for a model pooled by its first token (last layer trimmed to it).</summary>
    public static string FirstTokenFileName { get; } = $"model.int8-v{DynamicInt8Quantizer.Version}-mha{AttentionFusion.Version}-cls{FirstTokenTrim.Version}.onnx";

    /// <summary>
    /// Whether an index that recorded <paramref name="recordedRevision"/> was embedded with this build's int8 variant
    /// of a model whose files have <paramref name="modelRevision"/>. A suffix of another rewrite version cannot be
    /// reproduced and is refused.
    /// </summary>
    public static bool IsVariant(string recordedRevision, string modelRevision)
    {
        ArgumentNullException.ThrowIfNull(recordedRevision);
        if (recordedRevision == modelRevision + RevisionSuffix)
        {
            return true;
        }
        if (recordedRevision.StartsWith(modelRevision + "+int8.", StringComparison.Ordinal))
        {
            throw new ModelMismatchException($"the index was embedded with int8 rewrite '{recordedRevision[modelRevision.Length..]}', this build writes '{RevisionSuffix}'; rebuild the index (a new index) to use this build's variant.");
        }
        return false;
    }

    /// <summary>
    /// The derived graph for <paramref name="profile"/> in <paramref name="directory"/>: trimmed to the first token when
    /// the profile pools by it ([CLS]), which changes no vector beyond int8's own batch dependence (the tests hold both
    /// to the same bound).
    /// </summary>
    public static string Ensure(string directory, ModelProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return Ensure(directory, firstTokenOnly: profile.Pooling == PoolingMode.Cls);
    }

    /// <summary>The derived graph in <paramref name="directory"/>, written from its float graph when missing; returns its file name.</summary>
    public static string Ensure(string directory, bool firstTokenOnly = false)
    {
        var name = firstTokenOnly ? FirstTokenFileName : FileName;
        var target = Path.Combine(directory, name);
        if (File.Exists(target))
        {
            return name;
        }
        var source = Path.Combine(directory, OnnxEncoderFormat.OnnxFileName);
        if (!File.Exists(source))
        {
            throw new NotFoundException($"{source}: not found; the int8 variant is derived from it");
        }
        // float graph → attention fused → (last layer trimmed to the first token) → int8. A graph whose attention is
        // not in the pattern the fusion knows keeps its unfused attention, and is then not trimmed either (the trim
        // works on the fused graph).
        var fused = AttentionFusion.Fuse(File.ReadAllBytes(source), source).Model;
        var shaped = firstTokenOnly ? FirstTokenTrim.Trim(fused, source).Model : fused;
        var quantized = DynamicInt8Quantizer.Quantize(shaped, source);
        if (quantized.QuantizedMatMuls == 0)
        {
            throw new CorruptDataException(source, "the graph has no float weight products to quantise; use precision float32 for this model");
        }
        DerivedGraphFile.WriteWhole(directory, target, quantized.Model, "the int8 variant of the model");
        return name;
    }

    /// <summary>The unpadded companion's file name for a variant file name: the variant's name plus the rewrite's version.</summary>
    public static string UnpaddedFileName(string variantFileName)
    {
        ArgumentNullException.ThrowIfNull(variantFileName);
        return Path.GetFileNameWithoutExtension(variantFileName) + $"-pf{PaddingFree.Version}.onnx";
    }

    /// <summary>
    /// The companion of <see cref="Ensure(string, ModelProfile)"/>'s graph for runs without padding (PaddingFree: the
    /// fused attention without its key-padding mask, so ONNX Runtime can use flash attention), derived from it when
    /// missing; null when the variant has no fused attention to unmask. It computes the same vectors for such runs.
    /// </summary>
    public static string? EnsureUnpadded(string directory, ModelProfile profile)
    {
        var variant = Ensure(directory, profile);
        var name = UnpaddedFileName(variant);
        var target = Path.Combine(directory, name);
        if (File.Exists(target))
        {
            return name;
        }
        var source = Path.Combine(directory, variant);
        var rewritten = PaddingFree.Rewrite(File.ReadAllBytes(source), source);
        if (rewritten.Unmasked == 0)
        {
            return null;
        }
        DerivedGraphFile.WriteWhole(directory, target, rewritten.Model, "the unpadded graph of the model");
        return name;
    }
}
