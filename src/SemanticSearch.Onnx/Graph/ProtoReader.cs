// A minimal protocol-buffers reader, the counterpart of ProtoMessage: a message is read as its list of fields (number,
// wire type, and the varint or the length-delimited payload), which is all a graph rewrite needs — the fields it does
// not touch are copied back byte for byte. Payloads are slices of the input, never copies.
using Google.Protobuf;
using SemanticSearch.Core;

namespace SemanticSearch.Onnx.Graph;

/// <summary>One field of an encoded message.</summary>
/// <param name="Number">Field number.</param>
/// <param name="Wire">Wire type.</param>
/// <param name="Varint">The value of a varint or fixed-width field (fixed32/64 bits as read).</param>
/// <param name="Payload">The bytes of a length-delimited field.</param>
internal readonly record struct ProtoField(int Number, WireFormat.WireType Wire, ulong Varint, ReadOnlyMemory<byte> Payload)
{
    public string AsString() => System.Text.Encoding.UTF8.GetString(Payload.Span);
}

internal static class ProtoReader
{
    /// <summary>The fields of the message encoded in <paramref name="message"/>, in order.</summary>
    /// <exception cref="CorruptDataException">The bytes are not a well-formed message.</exception>
    public static List<ProtoField> Fields(ReadOnlyMemory<byte> message, string source)
    {
        var fields = new List<ProtoField>();
        var span = message.Span;
        var at = 0;
        while (at < span.Length)
        {
            var tag = ReadVarint(span, ref at, source);
            var number = (int)(tag >> 3);
            var wire = (WireFormat.WireType)(tag & 7);
            if (number <= 0)
            {
                throw new CorruptDataException(source, $"protobuf field number {number} at byte {at}");
            }
            switch (wire)
            {
                case WireFormat.WireType.Varint:
                    fields.Add(new ProtoField(number, wire, ReadVarint(span, ref at, source), default));
                    break;
                case WireFormat.WireType.Fixed32:
                    Need(span, at, 4, source);
                    fields.Add(new ProtoField(number, wire, System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(span[at..]), default));
                    at += 4;
                    break;
                case WireFormat.WireType.Fixed64:
                    Need(span, at, 8, source);
                    fields.Add(new ProtoField(number, wire, System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(span[at..]), default));
                    at += 8;
                    break;
                case WireFormat.WireType.LengthDelimited:
                    var length = ReadVarint(span, ref at, source);
                    if (length > (ulong)(span.Length - at))
                    {
                        throw new CorruptDataException(source, $"protobuf field {number} claims {length} bytes, {span.Length - at} are left");
                    }
                    fields.Add(new ProtoField(number, wire, 0, message.Slice(at, (int)length)));
                    at += (int)length;
                    break;
                default:
                    throw new CorruptDataException(source, $"protobuf wire type {(int)wire} (field {number}) is not supported");
            }
        }
        return fields;
    }

    /// <summary>The values of a repeated integer field, packed or not.</summary>
    public static List<long> Int64s(IEnumerable<ProtoField> fields, int number, string source)
    {
        var values = new List<long>();
        foreach (var f in fields)
        {
            if (f.Number != number)
            {
                continue;
            }
            if (f.Wire == WireFormat.WireType.Varint)
            {
                values.Add((long)f.Varint);
                continue;
            }
            var span = f.Payload.Span;
            var at = 0;
            while (at < span.Length)
            {
                values.Add((long)ReadVarint(span, ref at, source));
            }
        }
        return values;
    }

    /// <summary>Copies a field back unchanged.</summary>
    public static void CopyTo(ProtoMessage target, ProtoField field)
    {
        switch (field.Wire)
        {
            case WireFormat.WireType.Varint:
                target.Varint(field.Number, (long)field.Varint);
                break;
            case WireFormat.WireType.Fixed32:
                target.Float(field.Number, BitConverter.Int32BitsToSingle(unchecked((int)(uint)field.Varint)));
                break;
            case WireFormat.WireType.LengthDelimited:
                target.Bytes(field.Number, field.Payload);
                break;
            default:
                throw new NotSupportedException($"copying wire type {field.Wire} is not supported");
        }
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int at, string source)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            Need(span, at, 1, source);
            var b = span[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
        throw new CorruptDataException(source, "a protobuf varint is longer than 10 bytes");
    }

    private static void Need(ReadOnlySpan<byte> span, int at, int count, string source)
    {
        if (span.Length - at < count)
        {
            throw new CorruptDataException(source, "the protobuf message is truncated");
        }
    }
}
