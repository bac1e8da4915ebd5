namespace SemanticSearch.Core.Text;

/// <summary>Edit distances between short strings (query words, field names).</summary>
public static class EditDistance
{
    /// <summary>
    /// The optimal string alignment distance: Levenshtein (insert, delete, substitute) plus the transposition of two
    /// adjacent characters, each costing one, no substring edited twice. Lucene's fuzzy automaton counts edits this
    /// way, so a word it finds within n edits is within n here. Ordinal, case-sensitive.
    /// </summary>
    public static int OptimalStringAlignment(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
