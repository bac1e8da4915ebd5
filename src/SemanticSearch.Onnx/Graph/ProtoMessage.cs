// A minimal protocol-buffers message writer, used to emit the subset of onnx.proto that the graph writer needs.
//
// Why hand-written field numbers instead of protoc codegen: we write (never read) about ten ONNX message types and
// a handful of fields each. Generated code for onnx.proto would add ~8,000 lines and a build-time protoc step for
// that. Instead each message is a list of (field number, value) pairs whose sizes are computed once and cached, and
// the whole model is written with Google.Protobuf's CodedOutputStream into one exactly-sized buffer — so large
// initializers (raw_data) are copied exactly once. Field numbers are taken from onnx/onnx.proto (IR version 8-10)
// and named as constants in OnnxProtoFields.cs.
using Google.Protobuf;

namespace SemanticSearch.Onnx.Graph;

/// <summary>One protobuf message under construction: fields in the order they are added.</summary>
internal sealed class ProtoMessage
{
    private enum Kind : byte { Varint, Fixed32, Bytes, Message }

    private readonly record struct Field(int Number, Kind Kind, long Varint, ReadOnlyMemory<byte> Bytes, ProtoMessage? Message);

    private readonly List<Field> _fields = [];
    private int _size = -1;

    public ProtoMessage Varint(int number, long value) => Add(new Field(number, Kind.Varint, value, default, null));

    public ProtoMessage Float(int number, float value) =>
        Add(new Field(number, Kind.Fixed32, BitConverter.SingleToInt32Bits(value), default, null));

    public ProtoMessage String(int number, string value) =>
        Add(new Field(number, Kind.Bytes, 0, System.Text.Encoding.UTF8.GetBytes(value), null));

    public ProtoMessage Bytes(int number, ReadOnlyMemory<byte> value) => Add(new Field(number, Kind.Bytes, 0, value, null));

    public ProtoMessage Message(int number, ProtoMessage value) => Add(new Field(number, Kind.Message, 0, default, value));

    private ProtoMessage Add(Field field)
    {
        _fields.Add(field);
        _size = -1;
        return this;
    }

    /// <summary>Encoded size in bytes (without this message's own tag and length). Cached until the next field is added.</summary>
    public int Size
    {
        get
        {
            if (_size >= 0) return _size;
            long size = 0;
            foreach (var f in _fields)
            {
                size += CodedOutputStream.ComputeTagSize(f.Number);
                size += f.Kind switch
                {
                    Kind.Varint => CodedOutputStream.ComputeInt64Size(f.Varint),
                    Kind.Fixed32 => 4,
                    Kind.Bytes => CodedOutputStream.ComputeLengthSize(f.Bytes.Length) + f.Bytes.Length,
                    _ => CodedOutputStream.ComputeLengthSize(f.Message!.Size) + (long)f.Message!.Size,
                };
                if (size > int.MaxValue)
                    throw new InvalidOperationException("The ONNX model exceeds the 2 GiB protobuf limit; external data is not supported.");
            }
            _size = (int)size;
            return _size;
        }
    }

    public void WriteTo(CodedOutputStream output)
    {
        foreach (var f in _fields)
        {
            switch (f.Kind)
            {
                case Kind.Varint:
                    output.WriteTag(f.Number, WireFormat.WireType.Varint);
                    output.WriteInt64(f.Varint);
                    break;
                case Kind.Fixed32:
                    output.WriteTag(f.Number, WireFormat.WireType.Fixed32);
                    output.WriteFixed32(unchecked((uint)f.Varint));
                    break;
                case Kind.Bytes:
                    output.WriteTag(f.Number, WireFormat.WireType.LengthDelimited);
                    output.WriteBytes(UnsafeByteOperations.UnsafeWrap(f.Bytes));
                    break;
                default:
                    output.WriteTag(f.Number, WireFormat.WireType.LengthDelimited);
                    output.WriteLength(f.Message!.Size);
                    f.Message.WriteTo(output);
                    break;
            }
        }
    }

    public byte[] ToArray()
    {
        var buffer = new byte[Size];
        var output = new CodedOutputStream(buffer);
        WriteTo(output);
        output.CheckNoSpaceLeft();
        return buffer;
    }
}
