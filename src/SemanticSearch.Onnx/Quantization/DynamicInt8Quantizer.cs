// Dynamic int8 quantisation of a published ONNX encoder graph, the scheme of ONNX Runtime's quantize_dynamic with
// per-channel weights, written against the graph's own bytes:
//
//   MatMul(x, W)   with W a float [in, out] initializer    becomes
//   (x_q, x_scale, x_zp) = DynamicQuantizeLinear(x)                 u8, per tensor, computed at run time
//   y = Cast(MatMulInteger(x_q, W_q, x_zp), float) · (x_scale · s)  W_q s8 [in, out], s = max|W[:, j]| / 127 per column
//
// ONNX Runtime fuses that chain into one DynamicQuantizeMatMul/MatMulIntegerToFloat kernel, which runs on the VNNI
// units (u8×s8 → s32). Every other node, initializer and model field is copied byte for byte, so the graph keeps its
// inputs, outputs, names and metadata, and nodes stay in topological order (each MatMul is replaced in place). A
// weight used by anything but quantisable MatMuls is kept as it was.
using System.Runtime.InteropServices;
using SemanticSearch.Core;
using SemanticSearch.Onnx.Graph;

namespace SemanticSearch.Onnx.Quantization;

/// <summary>What a quantisation changed.</summary>
/// <param name="Model">The rewritten model.</param>
/// <param name="QuantizedMatMuls">MatMul nodes replaced by the int8 chain.</param>
/// <param name="FloatWeightBytes">Bytes of float weights replaced.</param>
/// <param name="Int8WeightBytes">Bytes of int8 weights and scales written in their place.</param>
public sealed record QuantizedModel(byte[] Model, int QuantizedMatMuls, long FloatWeightBytes, long Int8WeightBytes);

/// <summary>Rewrites the float MatMuls of an ONNX graph over constant weights into dynamic int8 products.</summary>
public static class DynamicInt8Quantizer
{
    /// <summary>Version of this rewrite; part of a quantised model's revision, so a change re-derives cached files.</summary>
    public const int Version = 1;

    private const int FloatType = 1;
    private const int MinOpset = 11; // DynamicQuantizeLinear

    /// <summary>Quantises <paramref name="model"/> (the bytes of an ONNX ModelProto); <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="CorruptDataException">The bytes are not an ONNX model this rewrite understands.</exception>
    public static QuantizedModel Quantize(ReadOnlyMemory<byte> model, string source)
    {
        var top = ProtoReader.Fields(model, source);
        var graphField = top.FindIndex(f => f.Number == ModelField.Graph);
        if (graphField < 0)
        {
            throw new CorruptDataException(source, "the ONNX model has no graph");
        }
        CheckOpset(top, source);
        var rewrite = new GraphRewrite(source);
        var graph = rewrite.Run(top[graphField].Payload);
        var output = new ProtoMessage();
        foreach (var f in top)
        {
            if (f.Number == ModelField.Graph)
            {
                output.Message(ModelField.Graph, graph);
            }
            else
            {
                ProtoReader.CopyTo(output, f);
            }
        }
        return new QuantizedModel(output.ToArray(), rewrite.Quantized, rewrite.FloatBytes, rewrite.Int8Bytes);
    }

    private static void CheckOpset(List<ProtoField> top, string source)
    {
        foreach (var f in top.Where(f => f.Number == ModelField.OpsetImport))
        {
            var fields = ProtoReader.Fields(f.Payload, source);
            var domain = fields.FirstOrDefault(x => x.Number == OpsetField.Domain) is { Wire: Google.Protobuf.WireFormat.WireType.LengthDelimited } d ? d.AsString() : "";
            var version = (long)(fields.FirstOrDefault(x => x.Number == OpsetField.Version).Varint);
            if (domain is "" or "ai.onnx" && version < MinOpset)
            {
                throw new CorruptDataException(source, $"the graph uses opset {version}; int8 quantisation needs opset {MinOpset} or later (DynamicQuantizeLinear)");
            }
        }
    }

    private sealed class GraphRewrite(string source)
    {
        private readonly Dictionary<string, (List<ProtoField> Fields, long[] Dims, int Type)> _initializers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _uses = new(StringComparer.Ordinal);
        private int _fresh;

        public int Quantized { get; private set; }

        public long FloatBytes { get; private set; }

        public long Int8Bytes { get; private set; }

        public ProtoMessage Run(ReadOnlyMemory<byte> graphBytes)
        {
            var graph = ProtoReader.Fields(graphBytes, source);
            var nodes = new List<(ProtoField Raw, List<ProtoField> Fields)>();
            foreach (var f in graph)
            {
                if (f.Number == GraphField.Initializer)
                {
                    var t = ProtoReader.Fields(f.Payload, source);
                    var name = t.FirstOrDefault(x => x.Number == TensorField.Name).AsString();
                    _initializers[name] = (t, [.. ProtoReader.Int64s(t, TensorField.Dims, source)], (int)t.FirstOrDefault(x => x.Number == TensorField.DataType).Varint);
                }
                else if (f.Number == GraphField.Node)
                {
                    var n = ProtoReader.Fields(f.Payload, source);
                    nodes.Add((f, n));
                    foreach (var input in n.Where(x => x.Number == NodeField.Input))
                    {
                        var name = input.AsString();
                        _uses[name] = _uses.GetValueOrDefault(name) + 1;
                    }
                }
            }

            // Which MatMuls to rewrite, and which float weights they leave unused.
            var quantise = new HashSet<int>();
            var quantisedUses = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < nodes.Count; i++)
            {
                if (WeightOf(nodes[i].Fields) is { } w)
                {
                    quantise.Add(i);
                    quantisedUses[w] = quantisedUses.GetValueOrDefault(w) + 1;
                }
            }
            var dropped = quantisedUses.Where(kv => kv.Value == _uses.GetValueOrDefault(kv.Key)).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);

            var output = new ProtoMessage();
            var quantisedWeights = new Dictionary<string, (string Q, string Scale)>(StringComparer.Ordinal);
            var nodeIndex = 0;
            var newInitializers = new List<ProtoMessage>();
            foreach (var f in graph)
            {
                if (f.Number == GraphField.Node)
                {
                    var i = nodeIndex++;
                    if (!quantise.Contains(i))
                    {
                        ProtoReader.CopyTo(output, f);
                        continue;
                    }
                    var fields = nodes[i].Fields;
                    var inputs = fields.Where(x => x.Number == NodeField.Input).Select(x => x.AsString()).ToArray();
                    var result = fields.First(x => x.Number == NodeField.Output).AsString();
                    if (!quantisedWeights.TryGetValue(inputs[1], out var w))
                    {
                        w = QuantiseWeight(inputs[1], newInitializers);
                        quantisedWeights[inputs[1]] = w;
                    }
                    foreach (var node in Chain(inputs[0], w, result))
                    {
                        output.Message(GraphField.Node, node);
                    }
                    Quantized++;
                }
                else if (f.Number == GraphField.Initializer)
                {
                    var name = f.Payload.Length == 0 ? "" : ProtoReader.Fields(f.Payload, source).FirstOrDefault(x => x.Number == TensorField.Name).AsString();
                    if (dropped.Contains(name))
                    {
                        FloatBytes += RawOf(_initializers[name].Fields).Length;
                        continue;
                    }
                    ProtoReader.CopyTo(output, f);
                }
                else
                {
                    ProtoReader.CopyTo(output, f);
                }
            }
            foreach (var init in newInitializers)
            {
                output.Message(GraphField.Initializer, init);
            }
            return output;
        }

        // The weight initializer of a MatMul this rewrite handles: the second input is a 2-D float initializer.
        private string? WeightOf(List<ProtoField> node)
        {
            var op = node.FirstOrDefault(x => x.Number == NodeField.OpType);
            var domain = node.FirstOrDefault(x => x.Number == NodeField.Domain);
            if (op.Payload.Length == 0 || op.AsString() != "MatMul" || (domain.Payload.Length > 0 && domain.AsString() is not ("" or "ai.onnx")))
            {
                return null;
            }
            var inputs = node.Where(x => x.Number == NodeField.Input).Select(x => x.AsString()).ToArray();
            if (inputs.Length != 2 || _initializers.ContainsKey(inputs[0]) || !_initializers.TryGetValue(inputs[1], out var w))
            {
                return null;
            }
            return w.Type == FloatType && w.Dims.Length == 2 && w.Dims[0] > 0 && w.Dims[1] > 0 ? inputs[1] : null;
        }

        private (string Q, string Scale) QuantiseWeight(string name, List<ProtoMessage> initializers)
        {
            var (fields, dims, _) = _initializers[name];
            var raw = RawOf(fields);
            int rows = (int)dims[0], cols = (int)dims[1];
            if (raw.Length != (long)rows * cols * sizeof(float))
            {
                throw new CorruptDataException(source, $"initializer '{name}' holds {raw.Length} bytes, its shape [{rows}, {cols}] needs {(long)rows * cols * 4}");
            }
            var w = MemoryMarshal.Cast<byte, float>(raw.Span);
            // symmetric per output column: W[:, j] ≈ s_j · q[:, j], q ∈ [-127, 127]
            var scales = new float[cols];
            for (var r = 0; r < rows; r++)
            {
                var row = w.Slice(r * cols, cols);
                for (var c = 0; c < cols; c++)
                {
                    scales[c] = MathF.Max(scales[c], MathF.Abs(row[c]));
                }
            }
            for (var c = 0; c < cols; c++)
            {
                scales[c] = scales[c] > 0 ? scales[c] / 127f : 1f;
            }
            var q = new sbyte[rows * cols];
            for (var r = 0; r < rows; r++)
            {
                for (var c = 0; c < cols; c++)
                {
                    q[r * cols + c] = (sbyte)Math.Clamp(MathF.Round(w[r * cols + c] / scales[c]), -127, 127);
                }
            }
            var qName = Fresh(name + "_int8");
            var sName = Fresh(name + "_scale");
            initializers.Add(OnnxGraphBuilder.BuildTensor(qName, OnnxTensor.FromInt8s(q, rows, cols)));
            initializers.Add(OnnxGraphBuilder.BuildTensor(sName, OnnxTensor.FromFloats(scales, cols)));
            Int8Bytes += q.Length + scales.Length * sizeof(float);
            return (qName, sName);
        }

        // The int8 chain for y = x·W, in the order ONNX Runtime's MatMulIntegerToFloat fusion looks for.
        private IEnumerable<ProtoMessage> Chain(string x, (string Q, string Scale) w, string y)
        {
            string xq = Fresh(y + "_xq"), xScale = Fresh(y + "_xscale"), xZero = Fresh(y + "_xzero");
            string product = Fresh(y + "_int32"), asFloat = Fresh(y + "_float"), scale = Fresh(y + "_scale");
            yield return Node("DynamicQuantizeLinear", [x], [xq, xScale, xZero]);
            yield return Node("MatMulInteger", [xq, w.Q, xZero], [product]);
            yield return Node("Mul", [xScale, w.Scale], [scale]);
            var cast = Node("Cast", [product], [asFloat]);
            cast.Message(NodeField.Attribute, OnnxGraphBuilder.BuildAttribute("to", (long)OnnxType.Float));
            yield return cast;
            yield return Node("Mul", [asFloat, scale], [y]);
        }

        private ProtoMessage Node(string op, string[] inputs, string[] outputs)
        {
            var msg = new ProtoMessage();
            foreach (var i in inputs) msg.String(NodeField.Input, i);
            foreach (var o in outputs) msg.String(NodeField.Output, o);
            return msg.String(NodeField.Name, Fresh(outputs[0] + "_node")).String(NodeField.OpType, op);
        }

        private string Fresh(string stem)
        {
            var name = stem;
            while (_initializers.ContainsKey(name) || _uses.ContainsKey(name))
            {
                name = $"{stem}_{++_fresh}";
            }
            _uses[name] = 0;
            return name;
        }

        private ReadOnlyMemory<byte> RawOf(List<ProtoField> tensor)
        {
            if (tensor.Any(x => x.Number == 13 || x.Number == 14))
            {
                throw new CorruptDataException(source, "the graph keeps weights in external data files, which this rewrite does not read");
            }
            var raw = tensor.FirstOrDefault(x => x.Number == TensorField.RawData);
            if (raw.Wire == Google.Protobuf.WireFormat.WireType.LengthDelimited)
            {
                return raw.Payload;
            }
            // float_data (field 4), packed
            var packed = tensor.Where(x => x.Number == 4 && x.Wire == Google.Protobuf.WireFormat.WireType.LengthDelimited).ToList();
            if (packed.Count == 1)
            {
                return packed[0].Payload;
            }
            throw new CorruptDataException(source, "a float initializer keeps its values in a layout this rewrite does not read");
        }
    }
}
