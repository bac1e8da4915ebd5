namespace SemanticSearch.Engine.Search;

/// <summary>
/// Picks the window of a chunk that best shows why it matched: the window of about <c>width</c> characters that holds
/// the most distinct query words (case-insensitive prefix match, so "index" finds "indexing"), cut at word boundaries.
/// </summary>
public static class Snippets
{
    /// <summary>A display snippet of <paramref name="text"/> for <paramref name="query"/>.</summary>
    public static string Build(string text, string query, int width = 240) => Window(text, query, width).Text;

    /// <summary>
    /// The display snippet of <paramref name="text"/> for <paramref name="query"/> (whitespace runs shown as one space),
    /// able to say where each of its characters is in <paramref name="text"/>.
    /// </summary>
    public static SnippetWindow Window(string text, string query, int width = 240)
    {
        // each word of the text with where it starts there and in the flat text, which joins them with single spaces
        var inText = new List<int>();
        var inFlat = new List<int>();
        var flat = new System.Text.StringBuilder(text.Length);
        for (var i = 0; i < text.Length;)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }
            var begin = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]))
            {
                i++;
            }
            if (i > begin)
            {
                if (flat.Length > 0)
                {
                    flat.Append(' ');
                }
                inText.Add(begin);
                inFlat.Add(flat.Length);
                flat.Append(text, begin, i - begin);
            }
        }
        var whole = flat.ToString();
        if (whole.Length <= width)
        {
            return new SnippetWindow(whole, [.. inText], [.. inFlat], 0, 0);
        }
        var snippet = Cut(whole, query, width, out var flatStart);
        return new SnippetWindow(snippet, [.. inText], [.. inFlat], flatStart, snippet.StartsWith('…') ? 1 : 0);
    }

    private static string Cut(string flat, string query, int width, out int flatStart)
    {
        var queryWords = query.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(w => new string(w.Where(char.IsLetterOrDigit).ToArray()).ToLowerInvariant())
            .Where(w => w.Length >= 3)
            .Distinct()
            .ToArray();
        var lower = flat.ToLowerInvariant();
        var positions = new List<(int Pos, int Word)>();
        for (var w = 0; w < queryWords.Length; w++)
        {
            var at = 0;
            while ((at = lower.IndexOf(queryWords[w], at, StringComparison.Ordinal)) >= 0)
            {
                positions.Add((at, w));
                at += queryWords[w].Length;
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
        flatStart = start;
        return (start > 0 ? "…" : string.Empty) + flat[start..end].Trim() + (end < flat.Length ? "…" : string.Empty);
    }
}

/// <summary>A snippet and where its characters come from in the text it was cut from.</summary>
/// <param name="Text">The snippet, with "…" where it was cut.</param>
/// <param name="WordStartsInText">Where each word of the source text starts in it.</param>
/// <param name="WordStartsInFlat">Where the same words start in the source text with its whitespace runs made single spaces.</param>
/// <param name="FlatStart">Where the snippet's first word starts in that flat text.</param>
/// <param name="PrefixLength">1 when the snippet starts with "…", else 0.</param>
public sealed record SnippetWindow(string Text, int[] WordStartsInText, int[] WordStartsInFlat, int FlatStart, int PrefixLength)
{
    /// <summary>The offset in the source text of the snippet's character at <paramref name="index"/> (its first word for the leading "…").</summary>
    public int TextOffsetOf(int index)
    {
        if (WordStartsInText.Length == 0)
        {
            return 0;
        }
        var flat = FlatStart + Math.Max(0, index - PrefixLength);
        var w = Array.BinarySearch(WordStartsInFlat, flat);
        if (w < 0)
        {
            w = Math.Max(0, ~w - 1); // inside the word that starts before it
        }
        return WordStartsInText[w] + Math.Max(0, flat - WordStartsInFlat[w]);
    }
}
