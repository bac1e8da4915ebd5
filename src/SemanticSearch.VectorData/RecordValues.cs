// How record values become engine metadata. A filterable value is one term of its property's field, written so that
// ordinal (byte) order of the terms is the order of the values: integers as the 16 hex digits of the value with its
// sign bit flipped, floating point as the IEEE bits flipped the same way (negatives inverted whole), dates as UTC ticks.
// A list value is one field per element ("<field>[<term>]" = "1"), which is what Contains tests.
using System.Collections;
using System.Globalization;
using System.Text.Json;

namespace SemanticSearch.VectorData;

internal static class RecordValues
{
    private static readonly Type[] Scalars =
    [
        typeof(string), typeof(bool), typeof(int), typeof(long), typeof(short), typeof(float), typeof(double),
        typeof(DateTime), typeof(DateTimeOffset), typeof(DateOnly), typeof(Guid),
    ];

    /// <summary>The longest term a filterable value may be, in UTF-8 bytes (Lucene's limit is 32,766).</summary>
    public const int MaxTermBytes = 16_000;

    public static bool IsScalar(Type t) => Scalars.Contains(t);

    /// <summary>The element type of an array or List&lt;T&gt;, else null (a string is not a list).</summary>
    public static Type? ElementType(Type t)
    {
        if (t == typeof(string))
        {
            return null;
        }
        if (t.IsArray)
        {
            return t.GetElementType();
        }
        return t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>) ? t.GetGenericArguments()[0] : null;
    }

    /// <summary>The order-preserving term of a scalar value.</summary>
    public static string Term(object value) => value switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        int i => Sortable(i),
        long l => Sortable(l),
        short s => Sortable(s),
        float f => Sortable((double)f),
        double d => Sortable(d),
        DateTime dt => Sortable((dt.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(dt, DateTimeKind.Utc) : dt.ToUniversalTime()).Ticks),
        DateTimeOffset dto => Sortable(dto.UtcTicks),
        DateOnly d => Sortable((long)d.DayNumber),
        Guid g => g.ToString("D"),
        JsonElement e => Term(FromJson(e)),
        _ => throw new NotSupportedException($"values of type {value.GetType().Name} cannot be filtered on"),
    };

    /// <summary>The elements of a list value, or null when <paramref name="value"/> is not a list.</summary>
    public static IEnumerable<object>? Elements(object value) =>
        value is string ? null : value is IEnumerable items ? items.Cast<object?>().Where(x => x is not null).Cast<object>() : null;

    /// <summary>The metadata key of one element of a list property.</summary>
    public static string ElementKey(string field, string term) => field + "[" + term + "]";

    private static string Sortable(long v) => ((ulong)v ^ 0x8000_0000_0000_0000UL).ToString("x16", CultureInfo.InvariantCulture);

    private static string Sortable(double d)
    {
        if (double.IsNaN(d))
        {
            throw new NotSupportedException("NaN cannot be filtered on (it has no order)");
        }
        if (d == 0)
        {
            d = 0; // -0 and +0 are one value
        }
        var bits = (ulong)BitConverter.DoubleToInt64Bits(d);
        bits = (bits & 0x8000_0000_0000_0000UL) != 0 ? ~bits : bits | 0x8000_0000_0000_0000UL;
        return bits.ToString("x16", CultureInfo.InvariantCulture);
    }

    // A dynamic record's value read back from JSON without its declared type (only for terms).
    private static object FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number when e.TryGetInt64(out var l) => l,
        JsonValueKind.Number => e.GetDouble(),
        _ => throw new NotSupportedException($"JSON {e.ValueKind} values cannot be filtered on"),
    };
}
