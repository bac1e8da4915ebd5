namespace SemanticSearch.Extraction;

internal static class Titles
{
    public static string FromFileName(string fileName) => Path.GetFileNameWithoutExtension(fileName);

    public static string? FirstMarkdownHeading(string text)
    {
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            var line = raw.Trim();
            if (line.Length > 1 && line[0] == '#')
            {
                var title = line.TrimStart('#').Trim();
                if (title.Length > 0)
                {
                    return Clip(title.ToString());
                }
            }
        }
        return null;
    }

    public static string? HeadingLine(string text)
    {
        var lines = text.TrimStart().Split('\n', 3);
        if (lines.Length >= 2 && lines[0].Trim().Length is > 0 and <= 120 && lines[1].Trim().Length == 0)
        {
            return Clip(lines[0].Trim());
        }
        return null;
    }

    public static string Clip(string title)
    {
        var t = string.Join(' ', title.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return t.Length <= 300 ? t : t[..300];
    }
}
