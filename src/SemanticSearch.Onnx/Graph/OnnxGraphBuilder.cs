// Builds one ONNX graph (inputs, initializers, nodes, outputs) and serialises it as a ModelProto.
// Values are objects, not strings: a node output gets an automatic unique name, and Output() renames it in place
// to the public name, so callers never have to thread names through a graph. See README.md for an example.
using System.Globalization;

namespace SemanticSearch.Onnx.Graph;

/// <summary>
/// Writes an ONNX model graph without protoc-generated code. Typical use:
/// <code>
/// var g = new OnnxGraphBuilder("demo");
/// var x = g.Input("x", OnnxType.Float, "batch", 3);
/// var w = g.Initializer("w", new float[] { 1, 2, 3, 4, 5, 6 }, 3, 2);
/// g.Output(g.Node("MatMul", [x, w]), "y", OnnxType.Float, "batch", 2);
/// byte[] model = g.ToModel(opset: 17);
/// </code>
/// </summary>
public sealed class OnnxGraphBuilder
{
    private readonly List<(OnnxValue Value, OnnxType Type, OnnxDim[] Shape)> _inputs = [];
    private readonly List<(OnnxValue Value, OnnxType Type, OnnxDim[] Shape)> _outputs = [];
    private readonly List<(OnnxValue Value, OnnxTensor Tensor)> _initializers = [];
    private readonly List<NodeRecord> _nodes = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);

    private sealed record NodeRecord(string Name, string OpType, string Domain, OnnxValue[] Inputs, OnnxValue[] Outputs, OnnxAttributes? Attributes);

    /// <summary>Creates an empty graph.</summary>
    /// <param name="name">The graph name (ONNX <c>GraphProto.name</c>).</param>
    public OnnxGraphBuilder(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
    }

    /// <summary>The graph name.</summary>
    public string Name { get; }

    /// <summary>Number of nodes added so far.</summary>
    public int NodeCount => _nodes.Count;

    /// <summary>Declares a graph input.</summary>
    public OnnxValue Input(string name, OnnxType type, params OnnxDim[] shape)
    {
        var value = new OnnxValue(this, Claim(name), OnnxValueKind.Input);
        _inputs.Add((value, type, (OnnxDim[])shape.Clone()));
        return value;
    }

    /// <summary>Adds an initializer (a constant tensor stored in the graph). A null name is generated.</summary>
    public OnnxValue Initializer(string? name, OnnxTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var value = new OnnxValue(this, name is null ? Unique("init") : Claim(name), OnnxValueKind.Initializer);
        _initializers.Add((value, tensor));
        return value;
    }

    /// <summary>Adds a float initializer of the given shape.</summary>
    public OnnxValue Initializer(string? name, ReadOnlySpan<float> data, params long[] dims) =>
        Initializer(name, OnnxTensor.FromFloats(data, dims));

    /// <summary>Adds a float16 initializer of the given shape.</summary>
    public OnnxValue Initializer(string? name, ReadOnlySpan<Half> data, params long[] dims) =>
        Initializer(name, OnnxTensor.FromHalves(data, dims));

    /// <summary>Adds an int64 initializer of the given shape.</summary>
    public OnnxValue Initializer(string? name, ReadOnlySpan<long> data, params long[] dims) =>
        Initializer(name, OnnxTensor.FromInt64s(data, dims));

    /// <summary>Adds an int32 initializer of the given shape.</summary>
    public OnnxValue Initializer(string? name, ReadOnlySpan<int> data, params long[] dims) =>
        Initializer(name, OnnxTensor.FromInt32s(data, dims));

    /// <summary>Adds an int8 initializer of the given shape.</summary>
    public OnnxValue Initializer(string? name, ReadOnlySpan<sbyte> data, params long[] dims) =>
        Initializer(name, OnnxTensor.FromInt8s(data, dims));

    /// <summary>Adds a uint8 initializer of the given shape.</summary>
    public OnnxValue Initializer(string? name, ReadOnlySpan<byte> data, params long[] dims) =>
        Initializer(name, OnnxTensor.FromUInt8s(data, dims));

    /// <summary>A float scalar initializer (shape []).</summary>
    public OnnxValue Scalar(float value, string? name = null) => Initializer(name, [value]);

    /// <summary>An int64 scalar initializer (shape []).</summary>
    public OnnxValue Scalar(long value, string? name = null) => Initializer(name, [value]);

    /// <summary>A 1-D int64 initializer, e.g. a Reshape shape or the axes of Unsqueeze/ReduceSum.</summary>
    public OnnxValue Int64s(params long[] values) => Initializer(null, values.AsSpan(), values.Length);

    /// <summary>A 1-D float initializer.</summary>
    public OnnxValue Floats(params float[] values) => Initializer(null, values.AsSpan(), values.Length);

    /// <summary>Adds a node with one output and returns that output.</summary>
    /// <param name="opType">The operator, e.g. "MatMul".</param>
    /// <param name="inputs">Inputs in operator order; <see cref="OnnxValue.None"/> skips an optional input.</param>
    /// <param name="attributes">Attributes, or null.</param>
    /// <param name="name">Node name; generated when null.</param>
    /// <param name="domain">Operator domain; "" is the default ONNX domain.</param>
    public OnnxValue Node(string opType, ReadOnlySpan<OnnxValue> inputs, OnnxAttributes? attributes = null, string? name = null, string domain = "") =>
        NodeWithOutputs(opType, inputs, 1, attributes, name, domain)[0];

    /// <summary>Adds a node with several outputs (e.g. Split, DynamicQuantizeLinear) and returns them in order.</summary>
    public IReadOnlyList<OnnxValue> NodeWithOutputs(string opType, ReadOnlySpan<OnnxValue> inputs, int outputCount,
        OnnxAttributes? attributes = null, string? name = null, string domain = "")
    {
        ArgumentException.ThrowIfNullOrEmpty(opType);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputCount, 1);
        foreach (var input in inputs)
        {
            ArgumentNullException.ThrowIfNull(input, nameof(inputs));
            if (input.Kind != OnnxValueKind.None && !ReferenceEquals(input.Owner, this))
                throw new ArgumentException($"Value '{input.Name}' belongs to another graph builder.", nameof(inputs));
        }
        var nodeName = name is null ? Unique(opType) : Claim(name);
        var outputs = new OnnxValue[outputCount];
        for (int i = 0; i < outputCount; i++)
            outputs[i] = new OnnxValue(this, Unique(outputCount == 1 ? nodeName + "_out" : nodeName + "_out" + i), OnnxValueKind.NodeOutput);
        _nodes.Add(new NodeRecord(nodeName, opType, domain, inputs.ToArray(), outputs, attributes));
        return outputs;
    }

    /// <summary>
    /// Declares a graph output named <paramref name="name"/>. A node output is renamed in place; an input,
    /// initializer or already-named output is routed through an Identity node. An empty shape leaves the rank unknown.
    /// </summary>
    public OnnxValue Output(OnnxValue value, string name, OnnxType type, params OnnxDim[] shape)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!ReferenceEquals(value.Owner, this))
            throw new ArgumentException($"Value '{value.Name}' belongs to another graph builder.", nameof(value));
        if (value.Kind != OnnxValueKind.NodeOutput || value.NamedByOutput)
            value = Node("Identity", [value]);
        _names.Remove(value.Name);
        value.Name = Claim(name);
        value.NamedByOutput = true;
        _outputs.Add((value, type, (OnnxDim[])shape.Clone()));
        return value;
    }

    /// <summary>Serialises the graph as an ONNX ModelProto.</summary>
    /// <param name="opset">Version of the default ("ai.onnx") operator set; 17 or later gives LayerNormalization.</param>
    /// <param name="metadata">Optional key/value pairs stored as <c>metadata_props</c>.</param>
    /// <param name="extraOpsets">Other operator-set domains used by nodes, e.g. { "com.microsoft", 1 }.</param>
    /// <param name="producerName">Written as <c>producer_name</c>.</param>
    public byte[] ToModel(int opset = 17, IReadOnlyDictionary<string, string>? metadata = null,
        IReadOnlyDictionary<string, int>? extraOpsets = null, string producerName = "SemanticSearch.Onnx")
    {
        if (_outputs.Count == 0) throw new InvalidOperationException($"Graph '{Name}' has no outputs.");
        ArgumentOutOfRangeException.ThrowIfLessThan(opset, 7);

        var model = new ProtoMessage()
            .Varint(ModelField.IrVersion, IrVersionFor(opset))
            .Message(ModelField.OpsetImport, new ProtoMessage().String(OpsetField.Domain, "").Varint(OpsetField.Version, opset));
        if (extraOpsets is not null)
            foreach (var (domain, version) in extraOpsets)
                model.Message(ModelField.OpsetImport, new ProtoMessage().String(OpsetField.Domain, domain).Varint(OpsetField.Version, version));
        model.String(ModelField.ProducerName, producerName)
            .String(ModelField.ProducerVersion, typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "0")
            .Message(ModelField.Graph, BuildGraph());
        if (metadata is not null)
            foreach (var (key, val) in metadata)
                model.Message(ModelField.MetadataProps, new ProtoMessage().String(StringEntryField.Key, key).String(StringEntryField.Value, val));
        return model.ToArray();
    }

    /// <summary>The IR version that first shipped with the given opset (ONNX versioning table), so older runtimes still load it.</summary>
    internal static int IrVersionFor(int opset) => opset switch
    {
        <= 8 => 3,
        <= 10 => 5,
        <= 11 => 6,
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        21 => 10,
        _ => 10,
    };

    private ProtoMessage BuildGraph()
    {
        var graph = new ProtoMessage();
        foreach (var node in _nodes)
            graph.Message(GraphField.Node, BuildNode(node));
        graph.String(GraphField.Name, Name);
        foreach (var (value, tensor) in _initializers)
            graph.Message(GraphField.Initializer, BuildTensor(value.Name, tensor));
        foreach (var (value, type, shape) in _inputs)
            graph.Message(GraphField.Input, BuildValueInfo(value.Name, type, shape, knownRank: true));
        foreach (var (value, type, shape) in _outputs)
            graph.Message(GraphField.Output, BuildValueInfo(value.Name, type, shape, knownRank: shape.Length > 0));
        return graph;
    }

    private static ProtoMessage BuildNode(NodeRecord node)
    {
        var msg = new ProtoMessage();
        foreach (var input in node.Inputs) msg.String(NodeField.Input, input.Name);
        foreach (var output in node.Outputs) msg.String(NodeField.Output, output.Name);
        msg.String(NodeField.Name, node.Name).String(NodeField.OpType, node.OpType);
        if (node.Attributes is not null)
            foreach (var (name, value) in node.Attributes)
                msg.Message(NodeField.Attribute, BuildAttribute(name, value));
        if (node.Domain.Length > 0) msg.String(NodeField.Domain, node.Domain);
        return msg;
    }

    internal static ProtoMessage BuildAttribute(string name, object value)
    {
        var msg = new ProtoMessage().String(AttributeField.Name, name);
        switch (value)
        {
            case long i:
                msg.Varint(AttributeField.I, i).Varint(AttributeField.Type, AttributeField.TypeInt);
                break;
            case float f:
                msg.Float(AttributeField.F, f).Varint(AttributeField.Type, AttributeField.TypeFloat);
                break;
            case string s:
                msg.String(AttributeField.S, s).Varint(AttributeField.Type, AttributeField.TypeString);
                break;
            case long[] ints:
                foreach (var i in ints) msg.Varint(AttributeField.Ints, i);
                msg.Varint(AttributeField.Type, AttributeField.TypeInts);
                break;
            case float[] floats:
                foreach (var f in floats) msg.Float(AttributeField.Floats, f);
                msg.Varint(AttributeField.Type, AttributeField.TypeFloats);
                break;
            case string[] strings:
                foreach (var s in strings) msg.String(AttributeField.Strings, s);
                msg.Varint(AttributeField.Type, AttributeField.TypeStrings);
                break;
            case OnnxTensor t:
                msg.Message(AttributeField.T, BuildTensor(null, t)).Varint(AttributeField.Type, AttributeField.TypeTensor);
                break;
            default:
                throw new ArgumentException($"Attribute '{name}' has an unsupported value type {value.GetType().Name}.", nameof(value));
        }
        return msg;
    }

    internal static ProtoMessage BuildTensor(string? name, OnnxTensor tensor)
    {
        var msg = new ProtoMessage();
        foreach (var d in tensor.Dims) msg.Varint(TensorField.Dims, d);
        msg.Varint(TensorField.DataType, (int)tensor.Type);
        if (name is not null) msg.String(TensorField.Name, name);
        msg.Bytes(TensorField.RawData, tensor.Raw);
        return msg;
    }

    private static ProtoMessage BuildValueInfo(string name, OnnxType type, OnnxDim[] shape, bool knownRank)
    {
        var tensorType = new ProtoMessage().Varint(TensorTypeField.ElemType, (int)type);
        if (knownRank)
        {
            var shapeMsg = new ProtoMessage();
            foreach (var dim in shape)
            {
                var d = new ProtoMessage();
                if (dim.Param is not null) d.String(DimField.DimParam, dim.Param);
                else d.Varint(DimField.DimValue, dim.Value!.Value);
                shapeMsg.Message(ShapeField.Dim, d);
            }
            tensorType.Message(TensorTypeField.Shape, shapeMsg);
        }
        return new ProtoMessage()
            .String(ValueInfoField.Name, name)
            .Message(ValueInfoField.Type, new ProtoMessage().Message(TypeField.TensorType, tensorType));
    }

    private string Claim(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!_names.Add(name)) throw new ArgumentException($"The name '{name}' is already used in graph '{Name}'.", nameof(name));
        return name;
    }

    private string Unique(string prefix)
    {
        _counters.TryGetValue(prefix, out int n);
        string candidate;
        do candidate = prefix + "_" + (n++).ToString(CultureInfo.InvariantCulture);
        while (_names.Contains(candidate));
        _counters[prefix] = n;
        _names.Add(candidate);
        return candidate;
    }
}
