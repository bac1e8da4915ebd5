// Reader for a TF.js GraphModel (tfjs-converter's "graph-model" format): model.json holds the TensorFlow GraphDef
// as JSON (modelTopology.node) and a weightsManifest whose groups list shard files and the weights stored in them.
// Invariant: weights are laid out back to back, in manifest order, across the concatenation of a group's shards;
// a weight's byte size follows from its shape and stored dtype (quantised weights are stored as uint8/uint16 and
// dequantised here with value = q * scale + min, or through float16 for "float16" quantisation).
using System.Buffers.Binary;
using System.Text.Json;
using SemanticSearch.Core;

namespace SemanticSearch.UseLite;

/// <summary>One node of the TensorFlow graph in model.json.</summary>
internal sealed record TfjsNode(string Name, string Op, IReadOnlyList<string> Inputs, JsonElement Attributes);

/// <summary>A weight from the manifest, dequantised to its logical dtype.</summary>
internal sealed class TfjsTensor(string name, string dtype, int[] shape, float[]? floats, int[]? ints)
{
    public string Name { get; } = name;

    /// <summary><c>float32</c> or <c>int32</c> (bool weights are read as int32 0/1).</summary>
    public string DType { get; } = dtype;

    public int[] Shape { get; } = shape;

    public float[] Floats => floats ?? throw new CorruptDataException("model.json", $"weight '{Name}' is {DType}, not float32.");

    public int[] Ints => ints ?? throw new CorruptDataException("model.json", $"weight '{Name}' is {DType}, not int32.");

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }
}

/// <summary>A loaded TF.js GraphModel: its nodes and its weights by name.</summary>
internal sealed class TfjsGraphModel
{
    private TfjsGraphModel(string path, Dictionary<string, TfjsNode> nodes, Dictionary<string, TfjsTensor> weights)
    {
        Path = path;
        Nodes = nodes;
        Weights = weights;
    }

    /// <summary>The model.json this was read from (named in errors).</summary>
    public string Path { get; }

    public IReadOnlyDictionary<string, TfjsNode> Nodes { get; }

    public IReadOnlyDictionary<string, TfjsTensor> Weights { get; }

    /// <summary>Node count per op type (what a converter must support).</summary>
    public IReadOnlyDictionary<string, int> OpHistogram()
    {
        var ops = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in Nodes.Values)
        {
            ops[node.Op] = ops.GetValueOrDefault(node.Op) + 1;
        }

        return ops;
    }

    /// <summary>The weight called <paramref name="name"/>, checked against an expected shape.</summary>
    public TfjsTensor Weight(string name, params int[] expectedShape)
    {
        if (!Weights.TryGetValue(name, out var w))
            throw new CorruptDataException(Path, $"no weight named '{name}'; this is not the expected graph.");
        if (!w.Shape.AsSpan().SequenceEqual(expectedShape))
            throw new CorruptDataException(Path,
                $"weight '{name}' has shape [{string.Join(",", w.Shape)}], expected [{string.Join(",", expectedShape)}].");
        return w;
    }

    /// <summary>A scalar float weight.</summary>
    public float Scalar(string name) => Weight(name).Floats[0];

    /// <summary>A scalar int weight.</summary>
    public int IntScalar(string name) => Weight(name).Ints[0];

    /// <summary>Checks that a node exists with the given op (the converter relies on that structure).</summary>
    public TfjsNode Node(string name, string op)
    {
        if (!Nodes.TryGetValue(name, out var node))
            throw new CorruptDataException(Path, $"no node named '{name}'; this is not the expected graph.");
        if (node.Op != op)
            throw new CorruptDataException(Path, $"node '{name}' is a {node.Op}, expected {op}.");
        return node;
    }

    /// <summary>Loads <c>model.json</c> and its weight shards from <paramref name="directory"/>.</summary>
    public static TfjsGraphModel Load(string directory)
    {
        var modelPath = System.IO.Path.Combine(directory, "model.json");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(modelPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NotFoundException($"Cannot read the TF.js model '{modelPath}': {e.Message}");
        }
        catch (JsonException e)
        {
            throw new CorruptDataException(modelPath, $"not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (!root.TryGetProperty("modelTopology", out var topology) || !topology.TryGetProperty("node", out var nodeArray))
                throw new CorruptDataException(modelPath, "no modelTopology.node: not a TF.js graph model.");
            if (!root.TryGetProperty("weightsManifest", out var manifest))
                throw new CorruptDataException(modelPath, "no weightsManifest.");

            var nodes = new Dictionary<string, TfjsNode>(StringComparer.Ordinal);
            foreach (var n in nodeArray.EnumerateArray())
            {
                var name = n.GetProperty("name").GetString()!;
                var inputs = new List<string>();
                if (n.TryGetProperty("input", out var inArr))
                {
                    foreach (var i in inArr.EnumerateArray()) inputs.Add(i.GetString()!);
                }

                var attr = n.TryGetProperty("attr", out var a) ? a.Clone() : default;
                nodes[name] = new TfjsNode(name, n.GetProperty("op").GetString()!, inputs, attr);
            }

            var weights = new Dictionary<string, TfjsTensor>(StringComparer.Ordinal);
            foreach (var group in manifest.EnumerateArray())
            {
                var data = ReadShards(directory, group, modelPath);
                var offset = 0L;
                foreach (var w in group.GetProperty("weights").EnumerateArray())
                {
                    var tensor = ReadWeight(w, data, ref offset, modelPath);
                    weights[tensor.Name] = tensor;
                }

                if (offset != data.Length)
                    throw new CorruptDataException(modelPath,
                        $"the weight shards hold {data.Length} bytes but its manifest describes {offset}.");
            }

            return new TfjsGraphModel(modelPath, nodes, weights);
        }
    }

    private static byte[] ReadShards(string directory, JsonElement group, string modelPath)
    {
        using var all = new MemoryStream();
        foreach (var p in group.GetProperty("paths").EnumerateArray())
        {
            var rel = p.GetString()!;
            if (rel.Contains("..", StringComparison.Ordinal) || System.IO.Path.IsPathRooted(rel))
                throw new CorruptDataException(modelPath, $"names a weight shard outside its folder: '{rel}'.");
            var shard = System.IO.Path.Combine(directory, rel);
            try
            {
                using var f = File.OpenRead(shard);
                f.CopyTo(all);
            }
            catch (IOException e)
            {
                throw new NotFoundException($"Weight shard '{shard}' named in '{modelPath}' cannot be read: {e.Message}");
            }
        }

        return all.ToArray();
    }

    private static TfjsTensor ReadWeight(JsonElement w, byte[] data, ref long offset, string modelPath)
    {
        var name = w.GetProperty("name").GetString()!;
        var dtype = w.GetProperty("dtype").GetString()!;
        var shapeList = new List<int>();
        foreach (var d in w.GetProperty("shape").EnumerateArray()) shapeList.Add(d.GetInt32());
        var shape = shapeList.ToArray();
        long count = 1;
        foreach (var d in shape) count *= d;

        string storedType = dtype;
        float scale = 1, min = 0;
        var quantized = w.TryGetProperty("quantization", out var q);
        if (quantized)
        {
            storedType = q.GetProperty("dtype").GetString()!;
            if (q.TryGetProperty("scale", out var s)) scale = s.GetSingle();
            if (q.TryGetProperty("min", out var m)) min = m.GetSingle();
        }

        var elementSize = storedType switch
        {
            "float32" or "int32" => 4,
            "uint16" or "float16" => 2,
            "uint8" or "bool" => 1,
            _ => throw new CorruptDataException(modelPath, $"weight '{name}' has unsupported stored dtype '{storedType}'."),
        };
        var bytes = count * elementSize;
        if (offset + bytes > data.Length)
            throw new CorruptDataException(modelPath, $"weight '{name}' runs past the end of the weight shards.");
        var span = data.AsSpan((int)offset, (int)bytes);
        offset += bytes;

        float[]? floats = null;
        int[]? ints = null;
        if (dtype == "float32")
        {
            floats = new float[count];
            for (var i = 0; i < count; i++)
            {
                floats[i] = storedType switch
                {
                    "float32" => BinaryPrimitives.ReadSingleLittleEndian(span[(i * 4)..]),
                    "float16" => (float)BinaryPrimitives.ReadHalfLittleEndian(span[(i * 2)..]),
                    "uint16" => BinaryPrimitives.ReadUInt16LittleEndian(span[(i * 2)..]) * scale + min,
                    "uint8" => span[i] * scale + min,
                    _ => throw new CorruptDataException(modelPath, $"weight '{name}': float32 cannot be stored as {storedType}."),
                };
            }
        }
        else if (dtype is "int32" or "bool")
        {
            ints = new int[count];
            for (var i = 0; i < count; i++)
            {
                ints[i] = storedType switch
                {
                    "int32" => BinaryPrimitives.ReadInt32LittleEndian(span[(i * 4)..]),
                    "bool" => span[i] != 0 ? 1 : 0,
                    "uint16" => (int)MathF.Round(BinaryPrimitives.ReadUInt16LittleEndian(span[(i * 2)..]) * scale + min),
                    "uint8" => (int)MathF.Round(span[i] * scale + min),
                    _ => throw new CorruptDataException(modelPath, $"weight '{name}': {dtype} cannot be stored as {storedType}."),
                };
            }
        }
        else
        {
            throw new CorruptDataException(modelPath, $"weight '{name}' has unsupported dtype '{dtype}'.");
        }

        return new TfjsTensor(name, dtype, shape, floats, ints);
    }
}
