// A canonical hash of one stored record, for the metadata store's content checksum.
//
// The hash must be the same for a record as it is written and as LiteDB reads it back, so it walks BSON values in a
// canonical form: document keys in ordinal order, numbers widened to 64 bits, dates at LiteDB's millisecond
// precision in UTC, strings as UTF-8. Each value is prefixed with its type so that "1" and 1 differ.
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using LiteDB;

namespace SemanticSearch.Metadata;

internal static class RecordHash
{
    public static ulong Of(BsonDocument record)
    {
        var hash = new XxHash64();
        Append(hash, record);
        return hash.GetCurrentHashAsUInt64();
    }

    private static void Append(XxHash64 hash, BsonValue value)
    {
        Span<byte> buffer = stackalloc byte[9];
        buffer[0] = (byte)value.Type;
        switch (value.Type)
        {
            case BsonType.Document:
                hash.Append(buffer[..1]);
                var doc = value.AsDocument;
                var keys = new List<string>(doc.Keys);
                keys.Sort(StringComparer.Ordinal);
                foreach (var k in keys)
                {
                    AppendString(hash, k);
                    Append(hash, doc[k]);
                }
                hash.Append("}"u8);
                break;
            case BsonType.Array:
                hash.Append(buffer[..1]);
                foreach (var item in value.AsArray)
                {
                    Append(hash, item);
                }
                hash.Append("]"u8);
                break;
            case BsonType.String:
                hash.Append(buffer[..1]);
                AppendString(hash, value.AsString);
                break;
            case BsonType.Int32:
            case BsonType.Int64:
                buffer[0] = (byte)BsonType.Int64;
                BinaryPrimitives.WriteInt64LittleEndian(buffer[1..], value.AsInt64);
                hash.Append(buffer);
                break;
            case BsonType.DateTime:
                BinaryPrimitives.WriteInt64LittleEndian(buffer[1..], value.AsDateTime.ToUniversalTime().Ticks / TimeSpan.TicksPerMillisecond);
                hash.Append(buffer);
                break;
            case BsonType.Double:
                BinaryPrimitives.WriteDoubleLittleEndian(buffer[1..], value.AsDouble);
                hash.Append(buffer);
                break;
            case BsonType.Boolean:
                buffer[1] = value.AsBoolean ? (byte)1 : (byte)0;
                hash.Append(buffer[..2]);
                break;
            default:
                hash.Append(buffer[..1]);
                AppendString(hash, value.ToString());
                break;
        }
    }

    private static void AppendString(XxHash64 hash, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        hash.Append(length);
        hash.Append(bytes);
    }
}
