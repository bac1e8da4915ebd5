namespace SemanticSearch.Engine.Search;

/// <summary>
/// Picks the window of a chunk that best shows why it matched: the window of about <c>width</c> characters that holds
/// the most distinct query words (case-insensitive prefix match, so "index" finds "indexing"), cut at word boundaries.
/// </summary>
public static class Snippets
{
    /// <summary>A display snippet of <paramref name="text"/> for <paramref name="query"/>.</summary>
    public static string Build(string text, string query, int width = 240)
    {
        var flat = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (flat.Length <= width)
        {
            return flat;
        }
        var words = query.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(w => new string(w.Where(char.IsLetterOrDigit).ToArray()).ToLowerInvariant())
            .Where(w => w.Length >= 3)
            .Distinct()
            .ToArray();
        var lower = flat.ToLowerInvariant();
        var positions = new List<(int Pos, int Word)>();
        for (var w = 0; w < words.Length; w++)
        {
            var at = 0;
            while ((at = lower.IndexOf(words[w], at, StringComparison.Ordinal)) >= 0)
            {
                positions.Add((at, w));
                at += words[w].Length;
            }
        }
        var start = 0;
        if (positions.Count > 0)
        {
            positions.Sort();
            var best = -1;
            foreach (var (pos, _) in positions)
            {
                var distinct = positions.Where(p => p.Pos >= pos && p.Pos < pos + width).Select(p => p.Word).Distinct().Count();
                if (distinct > best)
                {
                    best = distinct;
                    start = Math.Max(0, pos - (width / 6));
                }
            }
        }
        start = Math.Min(start, flat.Length - width);
        while (start > 0 && flat[start - 1] != ' ')
        {
            start--;
        }
        var end = Math.Min(flat.Length, start + width);
        while (end < flat.Length && flat[end] != ' ')
        {
            end++;
        }
        return (start > 0 ? "…" : string.Empty) + flat[start..end].Trim() + (end < flat.Length ? "…" : string.Empty);
    }
}
