// The query language: a field-free simple syntax in the spirit of Elasticsearch's simple_query_string, small enough
// that no input can be a syntax error.
//
//   word              a plain term: scored by BM25 as today (one SHOULD clause per distinct term, boosted by its count)
//   "some phrase"     a required phrase: every hit holds these words in this order (positions, after analysis)
//   +word             a required term (a word the analyzer splits, +wi-fi, is a required phrase "wi fi")
//   -word, -"phrase"  excluded: no hit holds the term or the phrase
//
// Operators count only at the start of a word (after whitespace or at the start): "covid-19" and "c++" are plain text.
// Anything else is plain text, never an error: an unbalanced quote, a lone or doubled operator ("-", "--x"), a quote
// inside a word, OR, |, parentheses and * (the analyzer drops the punctuation, "or" is a stop word). What was read as
// text is listed in Notes, so no syntax is silently ignored. A query with no operator is exactly the plain query
// (IsPlain), so its BM25 ranking and its embedded text are those of the text as typed.
//
// Invariant: every clause's Start is the offset of its Text in the raw query, so a correction of a word found by
// analysing a clause can be spliced back into the raw query (WithReplacements).
using System.Text;

namespace SemanticSearch.Lexical;

/// <summary>One clause of a parsed query: its text as typed and where that text starts in the raw query.</summary>
/// <param name="Text">The words of the clause, without quotes or operator.</param>
/// <param name="Start">Offset of <paramref name="Text"/> in the raw query.</param>
/// <param name="Quoted">Typed as a quoted phrase.</param>
public sealed record QueryClause(string Text, int Start, bool Quoted);

/// <summary>A word of the raw query to replace: the span [<paramref name="Start"/>, Start + Length) by <paramref name="Word"/>.</summary>
public readonly record struct QueryReplacement(int Start, int Length, string Word);

/// <summary>A query in the lexical query language: plain text, required phrases and terms, exclusions (see the file header).</summary>
public sealed class LexicalQuery
{
    private readonly bool _parsed;

    private LexicalQuery(string text, bool parsed, IReadOnlyList<QueryClause> free, IReadOnlyList<QueryClause> required, IReadOnlyList<QueryClause> excluded, IReadOnlyList<string> notes)
    {
        Text = text;
        _parsed = parsed;
        Free = free;
        Required = required;
        Excluded = excluded;
        Notes = notes;
    }

    /// <summary>The raw query.</summary>
    public string Text { get; }

    /// <summary>The plain-text parts, in order (the whole text when <see cref="IsPlain"/>).</summary>
    public IReadOnlyList<QueryClause> Free { get; }

    /// <summary>Phrases and <c>+terms</c> every hit must hold.</summary>
    public IReadOnlyList<QueryClause> Required { get; }

    /// <summary>Terms and phrases no hit may hold.</summary>
    public IReadOnlyList<QueryClause> Excluded { get; }

    /// <summary>What the parser read as plain text or ignored, one line each (an unbalanced quote, a lone operator, an empty phrase).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>No phrase, required term or exclusion: the bag-of-words query of <see cref="Text"/>.</summary>
    public bool IsPlain => Required.Count == 0 && Excluded.Count == 0;

    /// <summary>
    /// The text a dense retriever embeds: <see cref="Text"/> as typed for a plain query; otherwise the plain parts and
    /// the required phrases and terms in their order, without quotes and operators, excluded parts dropped.
    /// </summary>
    public string EmbeddingText
    {
        get
        {
            if (IsPlain)
            {
                return Text;
            }
            var parts = Free.Concat(Required).OrderBy(c => c.Start).Select(c => c.Text.Trim());
            return string.Join(' ', parts.Where(p => p.Length > 0));
        }
    }

    /// <summary>The query as bag-of-words text, no operator parsed (what evaluation runs use: BEIR queries hold quotes and dashes as text).</summary>
    public static LexicalQuery Plain(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new LexicalQuery(text, false, [new QueryClause(text, 0, false)], [], [], []);
    }

    /// <summary>Parses <paramref name="text"/> in the query language; never throws on any input.</summary>
    public static LexicalQuery Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var free = new List<QueryClause>();
        var required = new List<QueryClause>();
        var excluded = new List<QueryClause>();
        var notes = new List<string>();
        var i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                i++;
                continue;
            }
            var c = text[i];
            var op = c is '-' or '+' ? c : '\0';
            var open = op == '\0' ? i : i + 1; // where a quote would open the phrase
            if (open < text.Length && text[open] == '"')
            {
                var close = text.IndexOf('"', open + 1);
                if (close < 0)
                {
                    notes.Add($"unbalanced quote at character {open + 1}: read as text");
                    i = AddWord(text, i, free, notes, quoteNoted: true);
                    continue;
                }
                var phrase = text[(open + 1)..close];
                if (string.IsNullOrWhiteSpace(phrase))
                {
                    notes.Add($"empty phrase {Shown(text[i..(close + 1)])}: ignored");
                }
                else
                {
                    (op == '-' ? excluded : required).Add(new QueryClause(phrase, open + 1, true));
                }
                i = close + 1;
                continue;
            }
            if (op != '\0' && open < text.Length && !char.IsWhiteSpace(text[open]) && text[open] is not ('-' or '+'))
            {
                var end = WordEnd(text, open);
                (op == '-' ? excluded : required).Add(new QueryClause(text[open..end], open, false));
                i = end;
                continue;
            }
            if (op != '\0')
            {
                var end = WordEnd(text, i);
                notes.Add(end == i + 1 ? $"lone '{op}' at character {i + 1}: read as text" : $"'{op}' before {Shown(text[(i + 1)..end])}: read as text");
            }
            i = AddWord(text, i, free, notes, quoteNoted: false);
        }
        if (required.Count == 0 && excluded.Count == 0)
        {
            // nothing parsed as an operator: exactly the plain query, whatever was noted
            return new LexicalQuery(text, true, [new QueryClause(text, 0, false)], [], [], notes);
        }
        return new LexicalQuery(text, true, free, required, excluded, notes);
    }

    /// <summary>
    /// The query with the given spans of <see cref="Text"/> replaced (a spelling correction), read the same way as this
    /// one was (parsed, or plain).
    /// </summary>
    public LexicalQuery WithReplacements(IEnumerable<QueryReplacement> replacements)
    {
        ArgumentNullException.ThrowIfNull(replacements);
        var sb = new StringBuilder(Text.Length);
        var at = 0;
        foreach (var r in replacements.OrderBy(r => r.Start))
        {
            if (r.Start < at || r.Start + r.Length > Text.Length)
            {
                continue; // overlapping or outside the text: keep what is there
            }
            sb.Append(Text, at, r.Start - at).Append(r.Word);
            at = r.Start + r.Length;
        }
        sb.Append(Text, at, Text.Length - at);
        var text = sb.ToString();
        return _parsed ? Parse(text) : Plain(text);
    }

    /// <summary>A clause as it is shown: a phrase in quotes, a term bare.</summary>
    public static string Shown(QueryClause clause)
    {
        ArgumentNullException.ThrowIfNull(clause);
        return clause.Quoted ? "\"" + clause.Text + "\"" : clause.Text;
    }

    private static string Shown(string s) => "'" + s + "'";

    private static int WordEnd(string text, int from)
    {
        var end = from;
        while (end < text.Length && !char.IsWhiteSpace(text[end]))
        {
            end++;
        }
        return end;
    }

    // A plain word up to the next whitespace; a quote inside it opens nothing (phrases start at a word's start).
    private static int AddWord(string text, int from, List<QueryClause> free, List<string> notes, bool quoteNoted)
    {
        var end = WordEnd(text, from);
        var word = text[from..end];
        if (!quoteNoted && word.IndexOf('"', 1) >= 0)
        {
            notes.Add($"quote inside {Shown(word)}: read as text");
        }
        free.Add(new QueryClause(word, from, false));
        return end;
    }
}
