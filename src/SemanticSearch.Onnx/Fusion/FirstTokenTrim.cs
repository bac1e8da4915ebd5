// For an encoder pooled by its first token ([CLS]), the last layer only has to compute that token: its keys and
// values still come from every token, but the query, the attention output, the residual, the feed-forward block and
// the final LayerNorm are per-token operations, so they can run on row 0 alone. That is about five sixths of the last
// layer's weight products and all but one row of its attention — about 14 % of a 6-layer encoder — and in float the
// first row comes out exactly as before. The graph's output then has one row per sequence ([batch, 1, hidden]).
//
// Works on a graph whose attention is already fused (AttentionFusion): the last MultiHeadAttention node's query is
// Add(bias, MatMul(h, Wq)) over the layer input h, which also feeds the key and value products and one residual Add.
// h0 = Slice(h, [0:1] on axis 1) replaces h in the query product and the residual. The rewrite is refused (the bytes
// come back unchanged) unless everything after the attention is an operation that treats each token on its own.
using SemanticSearch.Core;
using SemanticSearch.Onnx.Graph;

namespace SemanticSearch.Onnx.Fusion;

/// <summary>What a first-token trim changed.</summary>
/// <param name="Model">The rewritten model (the input bytes when the graph was left alone).</param>
/// <param name="Trimmed">Whether the last layer now computes the first token only.</param>
public sealed record TrimmedModel(byte[] Model, bool Trimmed);

/// <summary>Trims an encoder's last layer to its first token, for models pooled by that token.</summary>
public static class FirstTokenTrim
{
    /// <summary>Version of this rewrite; part of a derived graph's file name.</summary>
    public const int Version = 1;

    // operators that compute each token from that token alone (given weights and constants)
    private static readonly HashSet<string> PerToken = new(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Erf", "Tanh", "Relu", "Sigmoid", "Cast", "Identity", "Constant", "MatMul",
        "ReduceMean", "LayerNormalization",
    };

    /// <summary>Trims <paramref name="model"/> (an ONNX ModelProto with fused attention); <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="CorruptDataException">The bytes are not an ONNX model.</exception>
    public static TrimmedModel Trim(ReadOnlyMemory<byte> model, string source)
    {
        var (top, graph) = OnnxGraphView.ReadModel(model, source);
        return TryTrim(graph) ? new TrimmedModel(graph.WriteModel(top), true) : new TrimmedModel(model.ToArray(), false);
    }

    private static bool TryTrim(OnnxGraphView graph)
    {
        var attention = graph.Nodes.LastOrDefault(n => n.OpType == "MultiHeadAttention" && n.Domain == AttentionFusion.Domain);
        if (attention is null || attention.Inputs.Count < 3)
        {
            return false;
        }
        if (Projection(graph, attention.Inputs[0]) is not { } q || Projection(graph, attention.Inputs[1]) is not { } k
            || Projection(graph, attention.Inputs[2]) is not { } v)
        {
            return false;
        }
        var h = q.Inputs[0];
        if (k.Inputs[0] != h || v.Inputs[0] != h || graph.IsGraphInput(h))
        {
            return false;
        }
        // h feeds the three products and the residual Add, nothing else
        var others = graph.Consumers(h).Where(n => n != q && n != k && n != v).ToList();
        if (others is not [var residual] || !residual.Is("Add"))
        {
            return false;
        }
        if (!OnlyPerTokenAfter(graph, [attention, residual]))
        {
            return false;
        }

        var first = graph.FreshName(h + "_first_token");
        var slice = OnnxNode.Create(graph.FreshName(first + "_slice"), "Slice", "",
            [h, graph.AddInt64s(first + "_starts", 0), graph.AddInt64s(first + "_ends", 1), graph.AddInt64s(first + "_axes", 1)], [first]);
        graph.InsertBefore(q, slice);
        graph.Replace(q, q.WithInput(0, first));
        graph.Replace(residual, residual.WithInputs(h, first));
        return true;
    }

    // Add(bias, MatMul(x, W)) with W a weight: the MatMul.
    private static OnnxNode? Projection(OnnxGraphView graph, string name)
    {
        if (graph.Producer(name) is not { } add || !add.Is("Add") || add.Inputs.Count != 2)
        {
            return null;
        }
        foreach (var side in add.Inputs)
        {
            if (graph.Producer(side) is { } mm && mm.Is("MatMul") && mm.Inputs.Count == 2 && graph.IsInitializer(mm.Inputs[1]))
            {
                return mm;
            }
        }
        return null;
    }

    // Every node downstream of the starts is per-token, reductions only over the last axis, MatMuls only by weights.
    private static bool OnlyPerTokenAfter(OnnxGraphView graph, IEnumerable<OnnxNode> starts)
    {
        var seen = new HashSet<OnnxNode>();
        var queue = new Queue<OnnxNode>(starts.SelectMany(s => s.Outputs.SelectMany(graph.Consumers)));
        while (queue.TryDequeue(out var node))
        {
            if (!seen.Add(node))
            {
                continue;
            }
            if (node.Domain is not ("" or "ai.onnx") || !PerToken.Contains(node.OpType))
            {
                return false;
            }
            if (node.OpType == "MatMul" && !graph.IsInitializer(node.Inputs[1]))
            {
                return false;
            }
            if (node.OpType == "ReduceMean" && (node.Inputs.Count > 1 || node.Ints("axes") is not [-1]))
            {
                return false;
            }
            if (node.OpType == "LayerNormalization" && node.Int("axis", -1) != -1)
            {
                return false;
            }
            foreach (var next in node.Outputs.SelectMany(graph.Consumers))
            {
                queue.Enqueue(next);
            }
        }
        return true;
    }
}
