using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace SemanticSearch.VectorData;

/// <summary>
/// The abstraction's model builder with this provider's types: one vector property at most (an engine index has one
/// vector space per collection here), vectors as float memory, arrays or <see cref="Embedding{T}"/>, or a
/// <see cref="string"/> the collection's model embeds; data properties of the scalar types <see cref="RecordValues"/>
/// can store and filter, and lists of them.
/// </summary>
internal sealed class RecordModelBuilder() : CollectionModelBuilder(new CollectionModelBuildingOptions
{
    SupportsMultipleVectors = false,
    RequiresAtLeastOneVector = false,
    UsesExternalSerializer = false,
})
{
    internal static readonly Type[] VectorTypes = [typeof(ReadOnlyMemory<float>), typeof(ReadOnlyMemory<float>?), typeof(float[]), typeof(Embedding<float>), typeof(string)];

    protected override bool IsDataPropertyTypeValid(Type type, [NotNullWhen(false)] out string? supportedTypes)
    {
        supportedTypes = "string, bool, int, long, short, float, double, DateTime, DateTimeOffset, DateOnly, Guid (nullable or not), and arrays or List<T> of them";
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (RecordValues.IsScalar(t))
        {
            return true;
        }
        return RecordValues.ElementType(t) is { } element && RecordValues.IsScalar(Nullable.GetUnderlyingType(element) ?? element);
    }

    protected override bool IsVectorPropertyTypeValid(Type type, [NotNullWhen(false)] out string? supportedTypes)
    {
        supportedTypes = "ReadOnlyMemory<float>, float[], Embedding<float>, or string (embedded by the collection's model)";
        return VectorTypes.Contains(type);
    }

    protected override void ValidateKeyProperty(KeyPropertyModel keyProperty)
    {
        base.ValidateKeyProperty(keyProperty);
        var t = keyProperty.Type;
        if (t != typeof(Guid) && t != typeof(string) && t != typeof(int) && t != typeof(long))
        {
            throw new NotSupportedException($"Key property '{keyProperty.ModelName}' has type '{t.Name}'; this provider's keys are Guid, string, int or long.");
        }
    }
}
