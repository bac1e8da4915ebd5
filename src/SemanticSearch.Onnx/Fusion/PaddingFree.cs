// A graph for runs without padding. When every row of a run has the same length (a run of one text, or texts of one
// length), the key-padding mask of a fused MultiHeadAttention node masks nothing, and its presence alone keeps ONNX
// Runtime's CPU kernel off its flash-attention path (which takes no mask): the kernel then writes the whole
// [batch, heads, sequence, sequence] score tensor, adds the mask to it and runs a separate softmax over it, where the
// flash path keeps a tile of scores in cache and folds the softmax into the products. Dropping the mask input from
// every MultiHeadAttention node gives the same vectors for such runs (to float rounding: the softmax is summed in
// another order) and the flash path. The mask chain it leaves without consumers is dropped; the attention_mask input
// stays declared, so a caller feeds both graphs alike. Fed a run with padding, this graph would attend to the padding:
// it is only for runs whose rows are all of one length.
using SemanticSearch.Core;
using SemanticSearch.Onnx.Graph;

namespace SemanticSearch.Onnx.Fusion;

/// <summary>What a padding-free rewrite changed.</summary>
/// <param name="Model">The rewritten model (the input bytes when the graph was left alone).</param>
/// <param name="Unmasked">MultiHeadAttention nodes whose key-padding mask was dropped.</param>
public sealed record PaddingFreeModel(byte[] Model, int Unmasked);

/// <summary>Drops the key-padding mask of fused attention, for runs whose rows all have the same length.</summary>
public static class PaddingFree
{
    /// <summary>Version of this rewrite; part of a derived graph's file name.</summary>
    public const int Version = 1;

    private const int KeyPaddingMask = 4; // MultiHeadAttention inputs: query, key, value, bias, key_padding_mask, ...

    /// <summary>Rewrites <paramref name="model"/> (an ONNX ModelProto with fused attention); <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="CorruptDataException">The bytes are not an ONNX model.</exception>
    public static PaddingFreeModel Rewrite(ReadOnlyMemory<byte> model, string source)
    {
        var (top, graph) = OnnxGraphView.ReadModel(model, source);
        var unmasked = 0;
        foreach (var node in graph.Nodes.ToList())
        {
            if (node.OpType != "MultiHeadAttention" || node.Domain != AttentionFusion.Domain
                || node.Inputs.Count <= KeyPaddingMask || node.Inputs[KeyPaddingMask].Length == 0)
            {
                continue;
            }
            // trailing empty names are dropped, as an exporter writes them; an inner one keeps later inputs in place
            var inputs = node.Inputs.ToArray();
            inputs[KeyPaddingMask] = "";
            var count = inputs.Length;
            while (count > 0 && inputs[count - 1].Length == 0)
            {
                count--;
            }
            graph.Replace(node, node.WithInputs(inputs[..count]));
            unmasked++;
        }
        if (unmasked == 0)
        {
            return new PaddingFreeModel(model.ToArray(), 0);
        }
        graph.RemoveDeadNodes();
        return new PaddingFreeModel(graph.WriteModel(top), unmasked);
    }
}
