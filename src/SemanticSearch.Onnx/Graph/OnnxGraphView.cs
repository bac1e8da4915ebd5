// A mutable view of an ONNX GraphProto for rewrites that replace nodes: nodes are parsed into op, domain, inputs and
// outputs (attributes stay as their fields), everything else in the graph is kept as read and written back byte for
// byte. Producers and consumers are indexed on demand and re-indexed after a change. Invariant: Write emits the nodes
// in the view's order, which the rewrites keep topological (a replacement takes the place of the node it replaces).
using System.Buffers.Binary;
using Google.Protobuf;

namespace SemanticSearch.Onnx.Graph;

/// <summary>One node of an <see cref="OnnxGraphView"/>.</summary>
internal sealed class OnnxNode
{
    private readonly List<ProtoField>? _read;
    private readonly ProtoMessage? _built;
    private readonly List<(string Name, List<ProtoField> Fields)> _attributes;

    private OnnxNode(string opType, string domain, List<string> inputs, List<string> outputs, List<ProtoField>? read, ProtoMessage? built,
        List<(string, List<ProtoField>)> attributes)
    {
        OpType = opType;
        Domain = domain;
        Inputs = inputs;
        Outputs = outputs;
        _read = read;
        _built = built;
        _attributes = attributes;
    }

    public string OpType { get; }

    public string Domain { get; }

    public IReadOnlyList<string> Inputs { get; }

    public IReadOnlyList<string> Outputs { get; }

    /// <summary>Whether this is the standard-domain operator <paramref name="op"/>.</summary>
    public bool Is(string op) => OpType == op && Domain is "" or "ai.onnx";

    /// <summary>An integer attribute, or <paramref name="fallback"/> when the node has none of that name.</summary>
    public long Int(string name, long fallback) =>
        Attribute(name) is { } a && a.FirstOrDefault(f => f.Number == AttributeField.I) is { Wire: WireFormat.WireType.Varint } i ? (long)i.Varint : fallback;

    /// <summary>An integer-list attribute, empty when the node has none of that name.</summary>
    public long[] Ints(string name) => Attribute(name) is { } a ? [.. ProtoReader.Int64s(a, AttributeField.Ints, OpType)] : [];

    /// <summary>The tensor of a tensor attribute (a Constant's value), or null.</summary>
    public List<ProtoField>? Tensor(string name, string source) =>
        Attribute(name) is { } a && a.FirstOrDefault(f => f.Number == AttributeField.T) is { Wire: WireFormat.WireType.LengthDelimited } t
            ? ProtoReader.Fields(t.Payload, source)
            : null;

    public static OnnxNode Read(List<ProtoField> fields, string source)
    {
        string Text(int number) => fields.FirstOrDefault(x => x.Number == number) is { Wire: WireFormat.WireType.LengthDelimited } f ? f.AsString() : "";
        var attributes = fields.Where(x => x.Number == NodeField.Attribute)
            .Select(x => ProtoReader.Fields(x.Payload, source))
            .Select(a => (a.FirstOrDefault(x => x.Number == AttributeField.Name).AsString(), a))
            .ToList();
        return new OnnxNode(Text(NodeField.OpType), Text(NodeField.Domain),
            [.. fields.Where(x => x.Number == NodeField.Input).Select(x => x.AsString())],
            [.. fields.Where(x => x.Number == NodeField.Output).Select(x => x.AsString())],
            fields, null, attributes);
    }

    /// <summary>A new node; <paramref name="attributes"/> are AttributeProto messages.</summary>
    public static OnnxNode Create(string name, string opType, string domain, string[] inputs, string[] outputs, params ProtoMessage[] attributes)
    {
        var msg = new ProtoMessage();
        foreach (var i in inputs) msg.String(NodeField.Input, i);
        foreach (var o in outputs) msg.String(NodeField.Output, o);
        msg.String(NodeField.Name, name).String(NodeField.OpType, opType);
        foreach (var a in attributes) msg.Message(NodeField.Attribute, a);
        if (domain.Length > 0) msg.String(NodeField.Domain, domain);
        return new OnnxNode(opType, domain, [.. inputs], [.. outputs], null, msg, []);
    }

    /// <summary>A copy of this node with input <paramref name="index"/> renamed to <paramref name="name"/>.</summary>
    public OnnxNode WithInput(int index, string name)
    {
        var inputs = Inputs.ToArray();
        inputs[index] = name;
        return WithInputs(inputs);
    }

    /// <summary>A copy of this node with every input named <paramref name="from"/> renamed to <paramref name="to"/>.</summary>
    public OnnxNode WithInputs(string from, string to) => WithInputs([.. Inputs.Select(i => i == from ? to : i)]);

    /// <summary>
    /// A copy of this node with <paramref name="inputs"/> (at most as many as it has: fewer drop its trailing inputs;
    /// an empty name leaves an optional input out in place).
    /// </summary>
    public OnnxNode WithInputs(string[] inputs)
    {
        if (_read is null)
        {
            throw new InvalidOperationException("only nodes read from a graph are re-wired");
        }
        if (inputs.Length > Inputs.Count)
        {
            throw new ArgumentException($"{OpType} has {Inputs.Count} inputs, {inputs.Length} given", nameof(inputs));
        }
        var fields = new List<ProtoField>();
        var next = 0;
        foreach (var f in _read)
        {
            if (f.Number == NodeField.Input)
            {
                if (next < inputs.Length)
                {
                    fields.Add(f with { Payload = System.Text.Encoding.UTF8.GetBytes(inputs[next]) });
                }
                next++;
            }
            else
            {
                fields.Add(f);
            }
        }
        return new OnnxNode(OpType, Domain, [.. inputs], [.. Outputs], fields, null, _attributes);
    }

    public void WriteTo(ProtoMessage graph)
    {
        if (_built is not null)
        {
            graph.Message(GraphField.Node, _built);
            return;
        }
        var copy = new ProtoMessage();
        foreach (var f in _read!)
        {
            ProtoReader.CopyTo(copy, f);
        }
        graph.Message(GraphField.Node, copy);
    }

    private List<ProtoField>? Attribute(string name) => _attributes.FirstOrDefault(a => a.Name == name).Fields;
}

/// <summary>A graph's nodes as a list that can be edited, with its other fields kept as read.</summary>
internal sealed class OnnxGraphView
{
    private const int FloatType = 1, Int64Type = 7;
    private const int FloatDataField = 4, Int64DataField = 7;

    private readonly List<ProtoField> _fields;
    private readonly string _source;
    private readonly List<OnnxNode> _nodes;
    private readonly Dictionary<string, List<ProtoField>> _initializers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _inputs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _outputs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly List<ProtoMessage> _addedInitializers = [];
    private Dictionary<string, OnnxNode>? _producers;
    private Dictionary<string, List<OnnxNode>>? _consumers;
    private int _fresh;

    private OnnxGraphView(List<ProtoField> fields, string source)
    {
        _fields = fields;
        _source = source;
        _nodes = [];
        foreach (var f in fields)
        {
            switch (f.Number)
            {
                case GraphField.Node:
                    var node = OnnxNode.Read(ProtoReader.Fields(f.Payload, source), source);
                    _nodes.Add(node);
                    _names.UnionWith(node.Outputs);
                    break;
                case GraphField.Initializer:
                    var t = ProtoReader.Fields(f.Payload, source);
                    var name = t.FirstOrDefault(x => x.Number == TensorField.Name).AsString();
                    _initializers[name] = t;
                    _names.Add(name);
                    break;
                case GraphField.Input:
                    _inputs.Add(ValueName(f));
                    break;
                case GraphField.Output:
                    _outputs.Add(ValueName(f));
                    break;
            }
        }
        _names.UnionWith(_inputs);
    }

    public IReadOnlyList<OnnxNode> Nodes => _nodes;

    public static OnnxGraphView Read(ReadOnlyMemory<byte> graph, string source) => new(ProtoReader.Fields(graph, source), source);

    /// <summary>The fields of a ModelProto and a view of its graph.</summary>
    /// <exception cref="Core.CorruptDataException">The bytes are not an ONNX model.</exception>
    public static (List<ProtoField> Model, OnnxGraphView Graph) ReadModel(ReadOnlyMemory<byte> model, string source)
    {
        var top = ProtoReader.Fields(model, source);
        var graph = top.FindIndex(f => f.Number == ModelField.Graph);
        if (graph < 0)
        {
            throw new Core.CorruptDataException(source, "the ONNX model has no graph");
        }
        return (top, Read(top[graph].Payload, source));
    }

    /// <summary>
    /// The model <paramref name="model"/> (as read by <see cref="ReadModel"/>) with this view as its graph, every other
    /// field as read; imports operator domain <paramref name="domain"/> (version 1) when given and not yet imported.
    /// </summary>
    public byte[] WriteModel(List<ProtoField> model, string? domain = null)
    {
        var output = new ProtoMessage();
        var imported = domain is null;
        foreach (var f in model)
        {
            if (f.Number == ModelField.Graph)
            {
                output.Message(ModelField.Graph, Write());
                continue;
            }
            if (!imported && f.Number == ModelField.OpsetImport
                && (ProtoReader.Fields(f.Payload, _source).FirstOrDefault(x => x.Number == OpsetField.Domain) is { Payload.Length: > 0 } d ? d.AsString() : "") == domain)
            {
                imported = true;
            }
            ProtoReader.CopyTo(output, f);
        }
        if (!imported)
        {
            output.Message(ModelField.OpsetImport, new ProtoMessage().String(OpsetField.Domain, domain!).Varint(OpsetField.Version, 1));
        }
        return output.ToArray();
    }

    /// <summary>A graph input that is not an initializer (a value the caller feeds).</summary>
    public bool IsGraphInput(string name) => _inputs.Contains(name) && !_initializers.ContainsKey(name);

    public bool IsInitializer(string name) => _initializers.ContainsKey(name);

    /// <summary>Adds a one-element int64 initializer under a fresh name from <paramref name="stem"/>; returns the name.</summary>
    public string AddInt64s(string stem, long value)
    {
        var name = FreshName(stem);
        var tensor = OnnxGraphBuilder.BuildTensor(name, OnnxTensor.FromInt64s([value], 1));
        _addedInitializers.Add(tensor);
        _initializers[name] = ProtoReader.Fields(tensor.ToArray(), _source);
        return name;
    }

    public OnnxNode? Producer(string name)
    {
        Index();
        return _producers!.GetValueOrDefault(name);
    }

    public IReadOnlyList<OnnxNode> Consumers(string name)
    {
        Index();
        return _consumers!.TryGetValue(name, out var list) ? list : [];
    }

    /// <summary>The value of a one-element float constant (initializer or Constant node), or null.</summary>
    public float? ScalarFloat(string name)
    {
        if (Constant(name) is not { } t || (int)t.FirstOrDefault(x => x.Number == TensorField.DataType).Varint != FloatType)
        {
            return null;
        }
        var raw = t.FirstOrDefault(x => x.Number == TensorField.RawData);
        if (raw.Wire == WireFormat.WireType.LengthDelimited)
        {
            return raw.Payload.Length == 4 ? BinaryPrimitives.ReadSingleLittleEndian(raw.Payload.Span) : null;
        }
        var data = t.Where(x => x.Number == FloatDataField).ToList();
        return data switch
        {
            [{ Wire: WireFormat.WireType.Fixed32 } one] => BitConverter.Int32BitsToSingle(unchecked((int)(uint)one.Varint)),
            [{ Wire: WireFormat.WireType.LengthDelimited, Payload.Length: 4 } packed] => BinaryPrimitives.ReadSingleLittleEndian(packed.Payload.Span),
            _ => null,
        };
    }

    /// <summary>The values of an int64 constant (initializer or Constant node), or null.</summary>
    public long[]? ConstantInt64s(string name)
    {
        if (Constant(name) is not { } t || (int)t.FirstOrDefault(x => x.Number == TensorField.DataType).Varint != Int64Type)
        {
            return null;
        }
        var raw = t.FirstOrDefault(x => x.Number == TensorField.RawData);
        if (raw.Wire == WireFormat.WireType.LengthDelimited)
        {
            if (raw.Payload.Length % 8 != 0)
            {
                return null;
            }
            var values = new long[raw.Payload.Length / 8];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadInt64LittleEndian(raw.Payload.Span[(i * 8)..]);
            }
            return values;
        }
        return [.. ProtoReader.Int64s(t, Int64DataField, _source)];
    }

    /// <summary>A value name not used anywhere in the graph, from <paramref name="stem"/>.</summary>
    public string FreshName(string stem)
    {
        var name = stem;
        while (!_names.Add(name))
        {
            name = $"{stem}_{++_fresh}";
        }
        return name;
    }

    /// <summary>Puts <paramref name="node"/> just before <paramref name="before"/>.</summary>
    public void InsertBefore(OnnxNode before, OnnxNode node)
    {
        _nodes.Insert(_nodes.IndexOf(before), node);
        Changed();
    }

    public void InsertFirst(OnnxNode node)
    {
        _nodes.Insert(0, node);
        Changed();
    }

    /// <summary>Puts <paramref name="replacement"/> where <paramref name="node"/> is.</summary>
    public void Replace(OnnxNode node, OnnxNode replacement)
    {
        _nodes[_nodes.IndexOf(node)] = replacement;
        Changed();
    }

    /// <summary>Drops nodes none of whose outputs reach a graph output; returns how many.</summary>
    public int RemoveDeadNodes()
    {
        var live = new HashSet<string>(_outputs, StringComparer.Ordinal);
        var keep = new bool[_nodes.Count];
        for (var i = _nodes.Count - 1; i >= 0; i--)
        {
            if (_nodes[i].Outputs.Any(live.Contains))
            {
                keep[i] = true;
                live.UnionWith(_nodes[i].Inputs.Where(x => x.Length > 0));
            }
        }
        var removed = 0;
        for (var i = _nodes.Count - 1; i >= 0; i--)
        {
            if (!keep[i])
            {
                _nodes.RemoveAt(i);
                removed++;
            }
        }
        Changed();
        return removed;
    }

    /// <summary>The graph with the view's nodes, its other fields as read; value_info of values no longer produced is dropped.</summary>
    public ProtoMessage Write()
    {
        var produced = new HashSet<string>(_nodes.SelectMany(n => n.Outputs), StringComparer.Ordinal);
        var graph = new ProtoMessage();
        var nodesWritten = false;
        foreach (var f in _fields)
        {
            if (f.Number == GraphField.Node)
            {
                if (!nodesWritten)
                {
                    foreach (var n in _nodes)
                    {
                        n.WriteTo(graph);
                    }
                    nodesWritten = true;
                }
                continue;
            }
            if (f.Number == GraphField.ValueInfo && !produced.Contains(ValueName(f)))
            {
                continue;
            }
            ProtoReader.CopyTo(graph, f);
        }
        if (!nodesWritten)
        {
            foreach (var n in _nodes)
            {
                n.WriteTo(graph);
            }
        }
        foreach (var t in _addedInitializers)
        {
            graph.Message(GraphField.Initializer, t);
        }
        return graph;
    }

    private List<ProtoField>? Constant(string name)
    {
        if (_initializers.TryGetValue(name, out var t))
        {
            return t;
        }
        return Producer(name) is { } node && node.Is("Constant") ? node.Tensor("value", _source) : null;
    }

    private string ValueName(ProtoField valueInfo) =>
        ProtoReader.Fields(valueInfo.Payload, _source).FirstOrDefault(x => x.Number == ValueInfoField.Name).AsString();

    private void Index()
    {
        if (_producers is not null)
        {
            return;
        }
        _producers = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        _consumers = new Dictionary<string, List<OnnxNode>>(StringComparer.Ordinal);
        foreach (var n in _nodes)
        {
            foreach (var o in n.Outputs)
            {
                _producers[o] = n;
            }
            foreach (var i in n.Inputs)
            {
                if (!_consumers.TryGetValue(i, out var list))
                {
                    _consumers[i] = list = [];
                }
                if (!list.Contains(n))
                {
                    list.Add(n);
                }
            }
        }
    }

    private void Changed()
    {
        _producers = null;
        _consumers = null;
    }
}
