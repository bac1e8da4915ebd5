using System.Text.Json;
using System.Text.Json.Nodes;
using SemanticSearch.Core;

namespace SemanticSearch.Models;

/// <summary>Field readers for profile files: each error names the file and the field's path.</summary>
internal static class ProfileJson
{
    public static void AddIf(JsonObject node, string name, string? value)
    {
        if (value is not null)
        {
            node[name] = value;
        }
    }

    public static string RequiredString(JsonElement e, string name, string origin, string path = "") =>
        OptionalString(e, name, origin, path) ?? throw new InvalidSettingException($"{origin}: {path}{name}", "is required");

    public static string? OptionalString(JsonElement e, string name, string origin, string path = "")
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw new InvalidSettingException($"{origin}: {path}{name}", "must be a string");
    }

    public static int? OptionalInt(JsonElement e, string name, string origin)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw new InvalidSettingException($"{origin}: {name}", "must be an integer");
    }
}
