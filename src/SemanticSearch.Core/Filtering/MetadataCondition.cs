// A boolean condition over a document's metadata (its string key → string value pairs), as the lexical index tests
// it: an equality is one exact term, a range compares terms in ordinal (UTF-8 byte) order, so a caller that wants
// numeric or date ranges stores its values in an order-preserving encoding (fixed-width, sign-flipped hex).
namespace SemanticSearch.Core.Filtering;

/// <summary>
/// A condition on document metadata: <see cref="Equal"/>, <see cref="Range"/>, and their combinations
/// <see cref="All"/>, <see cref="Any"/> and <see cref="Not"/>. A document without the key fails an equality or a
/// range (and so passes its negation).
/// </summary>
public abstract record MetadataCondition
{
    private protected MetadataCondition()
    {
    }

    /// <summary>The value of <paramref name="Key"/> is exactly <paramref name="Value"/>.</summary>
    public sealed record Equal(string Key, string Value) : MetadataCondition;

    /// <summary>
    /// The value of <paramref name="Key"/> lies between <paramref name="Lower"/> and <paramref name="Upper"/> in ordinal
    /// order (null: unbounded on that side), each bound included when its flag says so.
    /// </summary>
    public sealed record Range(string Key, string? Lower, string? Upper, bool IncludeLower, bool IncludeUpper) : MetadataCondition;

    /// <summary>Every one of <paramref name="Conditions"/> holds (none: always true).</summary>
    public sealed record All(IReadOnlyList<MetadataCondition> Conditions) : MetadataCondition;

    /// <summary>At least one of <paramref name="Conditions"/> holds (none: never true).</summary>
    public sealed record Any(IReadOnlyList<MetadataCondition> Conditions) : MetadataCondition;

    /// <summary><paramref name="Condition"/> does not hold.</summary>
    public sealed record Not(MetadataCondition Condition) : MetadataCondition;
}
