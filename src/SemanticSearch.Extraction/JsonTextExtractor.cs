using System.Text;
using System.Text.Json;

namespace SemanticSearch.Extraction;

/// <summary>
/// JSON as text: a valid document is flattened to one "path: value" line per string, number or boolean, so that
/// both keys and values are searchable without braces and quotes; invalid JSON is indexed as plain text.
/// A top-level "title" string becomes the title.
/// </summary>
public sealed class JsonTextExtractor : ITextExtractor
{
    private const int MaxDepth = 64;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".json"];

    /// <inheritdoc />
    public ExtractedText Extract(ReadOnlyMemory<byte> content, string fileName)
    {
        var text = TextDecoding.Decode(content.Span, out var encoding);
        var title = Titles.FromFileName(fileName);
        try
        {
            using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = MaxDepth, AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String
                && !string.IsNullOrWhiteSpace(t.GetString()))
            {
                title = Titles.Clip(t.GetString()!);
            }
            var sb = new StringBuilder();
            Flatten(doc.RootElement, string.Empty, sb);
            return new ExtractedText(title, sb.ToString()) { Encoding = encoding };
        }
        catch (JsonException)
        {
            return new ExtractedText(title, text) { Encoding = encoding };
        }
    }

    private static void Flatten(JsonElement e, string path, StringBuilder sb)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    Flatten(p.Value, path.Length == 0 ? p.Name : $"{path}.{p.Name}", sb);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in e.EnumerateArray())
                {
                    Flatten(item, path, sb);
                }
                break;
            case JsonValueKind.String:
            case JsonValueKind.Number:
            case JsonValueKind.True:
            case JsonValueKind.False:
                if (path.Length > 0)
                {
                    sb.Append(path).Append(": ");
                }
                sb.Append(e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText()).Append('\n');
                break;
        }
    }
}
