// Request bodies refuse fields the API does not define, so a typo ("lexicalWieght") is a 400 naming it rather than a
// setting silently ignored. The check walks the parsed body beside the serializer's own contract for the body type
// (JsonTypeInfo: the same names, naming policy and nesting that deserialisation uses), so it needs no knowledge of
// the serializer's error messages.
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using SemanticSearch.Core;

namespace SemanticSearch.Server;

internal static class UnknownFields
{
    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first member of <paramref name="body"/> that <paramref name="type"/> does not define.</summary>
    public static void Check(JsonElement body, Type type, JsonSerializerOptions options) =>
        Check(body, options.GetTypeInfo(type), options, path: string.Empty);

    private static void Check(JsonElement value, JsonTypeInfo info, JsonSerializerOptions options, string path)
    {
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object when value.ValueKind == JsonValueKind.Object:
                foreach (var member in value.EnumerateObject())
                {
                    var field = path.Length == 0 ? member.Name : $"{path}.{member.Name}";
                    var property = Find(info, member.Name, options)
                        ?? throw new InvalidSettingException(field, Nearest(info, member.Name) is { } near
                            ? $"unknown field; did you mean '{near}'?"
                            : $"unknown field (this object takes {string.Join(", ", info.Properties.Select(p => p.Name))}).");
                    Check(member.Value, options.GetTypeInfo(property.PropertyType), options, field);
                }
                break;
            case JsonTypeInfoKind.Enumerable when value.ValueKind == JsonValueKind.Array && info.ElementType is { } element:
                var elementInfo = options.GetTypeInfo(element);
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    Check(item, elementInfo, options, $"{path}[{i++}]");
                }
                break;
            default:
                // scalars, dictionaries (free-form keys, e.g. metadata) and type mismatches (the serializer names those)
                break;
        }
    }

    // The known field a misspelling most likely meant: the only one it begins ("q" → "query"), else the closest by
    // optimal string alignment distance (a swap of two letters is one edit), when at most a third of its letters differ.
    internal static string? Nearest(JsonTypeInfo info, string name)
    {
        var starting = info.Properties.Where(p => name.Length > 0 && p.Name.StartsWith(name, StringComparison.OrdinalIgnoreCase)).ToList();
        if (starting.Count == 1)
        {
            return starting[0].Name;
        }
        string? best = null;
        var bestDistance = Math.Max(1, name.Length / 3) + 1;
        foreach (var p in info.Properties)
        {
            var d = Core.Text.EditDistance.OptimalStringAlignment(name.ToLowerInvariant(), p.Name.ToLowerInvariant());
            if (d < bestDistance)
            {
                (best, bestDistance) = (p.Name, d);
            }
        }
        return best;
    }


    private static JsonPropertyInfo? Find(JsonTypeInfo info, string name, JsonSerializerOptions options)
    {
        foreach (var p in info.Properties)
        {
            if (string.Equals(p.Name, name, options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
            {
                return p;
            }
        }
        return null;
    }
}
