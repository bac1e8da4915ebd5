// One line of the import format: {"id", "title"?, "text", "metadata"?: {string: string}, "vector"?: [numbers]}.
using System.Text.Json;

namespace ScaleBench;

internal sealed record ImportLine(string Id, string Title, string Text, Dictionary<string, string> Metadata, float[]? Vector)
{
    public static ImportLine Parse(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in m.EnumerateObject())
            {
                metadata[p.Name] = p.Value.ToString();
            }
        }
        return new ImportLine(
            root.GetProperty("id").GetString()!,
            root.TryGetProperty("title", out var t) ? t.GetString() ?? string.Empty : string.Empty,
            root.TryGetProperty("text", out var x) ? x.GetString() ?? string.Empty : string.Empty,
            metadata,
            root.TryGetProperty("vector", out var v) ? ReadVector(v) : null);
    }

    private static float[] ReadVector(JsonElement array)
    {
        var vector = new float[array.GetArrayLength()];
        var i = 0;
        foreach (var x in array.EnumerateArray())
        {
            vector[i++] = x.GetSingle();
        }
        return vector;
    }

    /// <summary>The non-empty lines of <paramref name="path"/>, parsed in parallel blocks, in file order.</summary>
    public static IEnumerable<ImportLine> ReadAll(string path)
    {
        const int Block = 4096;
        var block = new List<string>(Block);
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0)
            {
                continue;
            }
            block.Add(line);
            if (block.Count == Block)
            {
                foreach (var parsed in ParseBlock(block))
                {
                    yield return parsed;
                }
                block.Clear();
            }
        }
        foreach (var parsed in ParseBlock(block))
        {
            yield return parsed;
        }
    }

    private static ImportLine[] ParseBlock(List<string> lines)
    {
        var parsed = new ImportLine[lines.Count];
        Parallel.For(0, lines.Count, i => parsed[i] = Parse(lines[i]));
        return parsed;
    }
}
