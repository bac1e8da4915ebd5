// Fuses the self-attention core of a BERT graph, as the Hugging Face exporter writes it, into one ONNX Runtime
// com.microsoft.MultiHeadAttention node per layer. Left alone, that core is eleven nodes per layer, and three of them
// stream a [batch, heads, sequence, sequence] tensor through memory once more each (the mask Add, the scaling, the
// Transposes); the fused kernel adds the key-padding mask and the scale inside its own products and writes the
// context straight into [batch, sequence, hidden]. The arithmetic is the same — a fused graph's vectors agree with the
// original's to float rounding — so a fused graph is an execution plan, not a new model.
//
// The pattern, per layer (q, k, v: the projected [B, S, hidden] tensors, biases already added):
//
//   qT = Transpose[0,2,1,3](Reshape(q, [B, S, heads, d]))      kT = Transpose[0,2,3,1](Reshape(k, [B, S, heads, d]))
//   vT = Transpose[0,2,1,3](Reshape(v, [B, S, heads, d]))
//   p  = Softmax[axis -1](Div(MatMul(qT, kT), c) + mask)       mask = (1 - float(attention_mask[:, None, None, :])) · m
//   y  = Reshape(Transpose[0,2,1,3](MatMul(p, vT)), [B, S, hidden])
//
// becomes y = MultiHeadAttention(q, k, v, key_padding_mask = int32(attention_mask)) with num_heads, scale = 1/c and
// mask_filter_value = m. Anything that does not match exactly — another perm, a mask that is not a key-padding mask
// of a graph input, a head count that cannot be read from the graph — is left as it was. Nodes the fusion leaves
// without consumers are dropped; every other field of the model is copied byte for byte.
using SemanticSearch.Core;
using SemanticSearch.Onnx.Graph;

namespace SemanticSearch.Onnx.Fusion;

/// <summary>What an attention fusion changed.</summary>
/// <param name="Model">The rewritten model (the input bytes when nothing matched).</param>
/// <param name="FusedLayers">Attention cores replaced by a MultiHeadAttention node.</param>
/// <param name="RemovedNodes">Nodes dropped because the fused nodes left them without consumers.</param>
public sealed record FusedModel(byte[] Model, int FusedLayers, int RemovedNodes);

/// <summary>Rewrites BERT self-attention cores into ONNX Runtime's fused MultiHeadAttention kernel.</summary>
public static class AttentionFusion
{
    /// <summary>Version of this rewrite; part of a derived graph's file name, so a change re-derives cached files.</summary>
    public const int Version = 1;

    /// <summary>The operator domain of the fused node.</summary>
    public const string Domain = "com.microsoft";

    /// <summary>Fuses the attention cores of <paramref name="model"/> (an ONNX ModelProto); <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="CorruptDataException">The bytes are not an ONNX model.</exception>
    public static FusedModel Fuse(ReadOnlyMemory<byte> model, string source)
    {
        var (top, graph) = OnnxGraphView.ReadModel(model, source);
        var rewrite = new Rewrite(graph);
        rewrite.Run();
        return rewrite.Fused == 0
            ? new FusedModel(model.ToArray(), 0, 0)
            : new FusedModel(graph.WriteModel(top, Domain), rewrite.Fused, rewrite.Removed);
    }

    private sealed class Rewrite(OnnxGraphView graph)
    {
        private readonly Dictionary<string, string> _maskCasts = new(StringComparer.Ordinal);

        public int Fused { get; private set; }

        public int Removed { get; private set; }

        public void Run()
        {
            foreach (var softmax in graph.Nodes.Where(n => n.Is("Softmax")).ToList())
            {
                if (Match(softmax) is { } m)
                {
                    Apply(m);
                    Fused++;
                }
            }
            if (Fused > 0)
            {
                Removed = graph.RemoveDeadNodes();
            }
        }

        private sealed record Core(
            OnnxNode Last, string Q, string K, string V, long Heads, float Scale, string MaskInput, float MaskFilter);

        private Core? Match(OnnxNode softmax)
        {
            // the axis must be written out: its default is 1 (and means "flatten from 1") before opset 13
            if (softmax.Int("axis", 0) is not (-1 or 3) || graph.Producer(softmax.Inputs[0]) is not { } add || !add.Is("Add") || add.Inputs.Count != 2)
            {
                return null;
            }
            // one side of the Add is the key-padding mask, the other the scaled scores
            OnnxNode? scaled = null;
            (string Input, float Filter)? mask = null;
            for (var side = 0; side < 2 && mask is null; side++)
            {
                if (KeyPaddingMask(add.Inputs[side]) is { } found)
                {
                    mask = found;
                    scaled = graph.Producer(add.Inputs[1 - side]);
                }
            }
            if (mask is null || scaled is null || scaled.Inputs.Count != 2)
            {
                return null;
            }
            float scale;
            if (scaled.Is("Div") && graph.ScalarFloat(scaled.Inputs[1]) is { } divisor && divisor != 0)
            {
                scale = 1f / divisor;
            }
            else if (scaled.Is("Mul") && graph.ScalarFloat(scaled.Inputs[1]) is { } factor)
            {
                scale = factor;
            }
            else
            {
                return null;
            }
            if (graph.Producer(scaled.Inputs[0]) is not { } scores || !scores.Is("MatMul")
                || Heads(scores.Inputs[0], [0, 2, 1, 3]) is not { } q || Heads(scores.Inputs[1], [0, 2, 3, 1]) is not { } k)
            {
                return null;
            }
            if (graph.Consumers(softmax.Outputs[0]) is not [var context] || !context.Is("MatMul") || context.Inputs[0] != softmax.Outputs[0]
                || Heads(context.Inputs[1], [0, 2, 1, 3]) is not { } v)
            {
                return null;
            }
            // the merge back to [B, S, hidden]; Shape nodes beside it only compute its target shape
            if (graph.Consumers(context.Outputs[0]) is not [var back] || !back.Is("Transpose") || !back.Ints("perm").SequenceEqual([0L, 2, 1, 3])
                || graph.Consumers(back.Outputs[0]).Where(n => !n.Is("Shape")).ToList() is not [var merge] || !merge.Is("Reshape"))
            {
                return null;
            }
            if (q.Heads != k.Heads || k.Heads != v.Heads || q.Heads <= 0)
            {
                return null;
            }
            return new Core(merge, q.Projected, k.Projected, v.Projected, q.Heads, scale, mask.Value.Input, mask.Value.Filter);
        }

        // Transpose[perm](Reshape(x, [B, S, heads, d])): the projected x and the head count read from the shape.
        private (string Projected, long Heads)? Heads(string name, long[] perm)
        {
            if (graph.Producer(name) is not { } transpose || !transpose.Is("Transpose") || !transpose.Ints("perm").SequenceEqual(perm)
                || graph.Producer(transpose.Inputs[0]) is not { } reshape || !reshape.Is("Reshape") || reshape.Inputs.Count != 2)
            {
                return null;
            }
            return ShapeDim(reshape.Inputs[1], 2) is { } heads && ShapeDim(reshape.Inputs[1], 3) is > 0 ? (reshape.Inputs[0], heads) : null;
        }

        // Dimension i of a 4-D target shape: a constant shape, or a Concat whose i-th part is a constant.
        private long? ShapeDim(string shape, int i)
        {
            if (graph.ConstantInt64s(shape) is { Length: 4 } whole)
            {
                return whole[i];
            }
            if (graph.Producer(shape) is { } concat && concat.Is("Concat") && concat.Inputs.Count == 4 && graph.ConstantInt64s(concat.Inputs[i]) is [var d])
            {
                return d;
            }
            return null;
        }

        // (1 - float(unsqueeze(input, [1, 2]))) · m, in any order of Cast and Unsqueeze: the graph input and m.
        private (string Input, float Filter)? KeyPaddingMask(string name)
        {
            var axes = new List<long>();
            float? filter = null;
            var sawOneMinus = false;
            var at = name;
            for (var step = 0; step < 8; step++)
            {
                if (graph.IsGraphInput(at))
                {
                    axes.Sort();
                    return filter is { } m && sawOneMinus && axes.SequenceEqual([1L, 2]) ? (at, m) : null;
                }
                if (graph.Producer(at) is not { } node)
                {
                    return null;
                }
                if (node.Is("Mul") && filter is null && node.Inputs.Count == 2)
                {
                    if (graph.ScalarFloat(node.Inputs[1]) is { } b) { filter = b; at = node.Inputs[0]; }
                    else if (graph.ScalarFloat(node.Inputs[0]) is { } a) { filter = a; at = node.Inputs[1]; }
                    else return null;
                }
                else if (node.Is("Sub") && !sawOneMinus && node.Inputs.Count == 2 && graph.ScalarFloat(node.Inputs[0]) is 1f)
                {
                    sawOneMinus = true;
                    at = node.Inputs[1];
                }
                else if (node.Is("Cast"))
                {
                    at = node.Inputs[0];
                }
                else if (node.Is("Unsqueeze"))
                {
                    var these = node.Inputs.Count > 1 ? graph.ConstantInt64s(node.Inputs[1]) : node.Ints("axes");
                    if (these is null || these.Length == 0)
                    {
                        return null;
                    }
                    axes.AddRange(these);
                    at = node.Inputs[0];
                }
                else
                {
                    return null;
                }
            }
            return null;
        }

        private void Apply(Core m)
        {
            if (!_maskCasts.TryGetValue(m.MaskInput, out var mask))
            {
                mask = graph.FreshName(m.MaskInput + "_int32");
                var cast = OnnxNode.Create(graph.FreshName(mask + "_cast"), "Cast", "", [m.MaskInput], [mask],
                    OnnxGraphBuilder.BuildAttribute("to", (long)OnnxType.Int32));
                graph.InsertFirst(cast);
                _maskCasts[m.MaskInput] = mask;
            }
            var fused = OnnxNode.Create(graph.FreshName(m.Last.Outputs[0] + "_mha"), "MultiHeadAttention", Domain,
                [m.Q, m.K, m.V, "", mask], [m.Last.Outputs[0]],
                OnnxGraphBuilder.BuildAttribute("num_heads", m.Heads),
                OnnxGraphBuilder.BuildAttribute("scale", m.Scale),
                OnnxGraphBuilder.BuildAttribute("mask_filter_value", m.MaskFilter));
            // the replaced core is not removed node by node: whatever no longer reaches an output goes with the dead
            // nodes afterwards, and anything still used elsewhere keeps its inputs
            graph.Replace(m.Last, fused);
        }
    }
}
