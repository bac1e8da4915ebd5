// Boundary-preferring chunker.
//
// The text is cut into units at three levels — paragraphs (blank lines), sentences (terminal punctuation followed by
// whitespace, or a line break), and, only for a sentence that alone exceeds the budget, words and finally character
// runs. Units are packed greedily into chunks of at most MaxTokens tokens. A chunk ends early at a paragraph start when
// it is already half full and the whole paragraph would not fit, so chunks tend to hold whole paragraphs.
//
// Invariants the tests check: every chunk is an exact substring of the source (Start/Length), chunks appear in
// source order, every non-whitespace character of the source is covered by some chunk, no chunk's token count (as
// measured by the counter on the chunk text itself) exceeds MaxTokens, and consecutive chunks overlap by whole units
// totalling at most OverlapTokens.
using SemanticSearch.Core;

namespace SemanticSearch.Core.Chunking;

/// <summary>Cuts text at paragraph, sentence, then word boundaries into chunks that fit a token budget.</summary>
public sealed class TextChunker : IChunker
{
    private readonly ITokenCounter _counter;
    private readonly ChunkingOptions _options;

    /// <summary>Creates a chunker that counts with <paramref name="counter"/>.</summary>
    public TextChunker(ITokenCounter counter, ChunkingOptions options)
    {
        ArgumentNullException.ThrowIfNull(counter);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _counter = counter;
        _options = options;
    }

    /// <summary>The options this chunker applies.</summary>
    public ChunkingOptions Options => _options;

    /// <inheritdoc />
    public IReadOnlyList<TextChunk> Chunk(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var units = Segment(text);
        var chunks = new List<TextChunk>();
        if (units.Count == 0)
        {
            return chunks;
        }

        var budget = _options.MaxTokens;
        var paragraphTokens = ParagraphRemainders(units);
        var i = 0;
        while (i < units.Count)
        {
            var s = i;
            var tokens = 0;
            var j = s;
            while (j < units.Count && tokens + units[j].Tokens <= budget)
            {
                if (j > s && units[j].StartsParagraph && tokens >= budget / 2 && tokens + paragraphTokens[j] > budget)
                {
                    break;
                }
                tokens += units[j].Tokens;
                j++;
            }
            if (j == s)
            {
                j = s + 1; // a unit is never larger than the budget after splitting; guard against a counter that disagrees
            }

            // Counters are additive at whitespace in theory; measure the real chunk and shrink if one is not.
            var (start, length, count) = Measure(text, units, s, j);
            while (count > budget && j - s > 1)
            {
                j--;
                (start, length, count) = Measure(text, units, s, j);
            }
            chunks.Add(new TextChunk(chunks.Count, start, length, text.Substring(start, length), count));
            if (j >= units.Count)
            {
                break;
            }

            var k = j;
            var overlap = 0;
            while (k - 1 > s && overlap + units[k - 1].Tokens <= _options.OverlapTokens)
            {
                k--;
                overlap += units[k].Tokens;
            }
            i = k;
        }
        return chunks;
    }

    private (int Start, int Length, int Tokens) Measure(string text, List<Unit> units, int from, int to)
    {
        var start = units[from].Start;
        var length = units[to - 1].End - start;
        return (start, length, _counter.CountTokens(text.Substring(start, length)));
    }

    // For each unit that starts a paragraph: tokens of the whole paragraph from that unit on.
    private static int[] ParagraphRemainders(List<Unit> units)
    {
        var result = new int[units.Count];
        var sum = 0;
        for (var i = units.Count - 1; i >= 0; i--)
        {
            sum += units[i].Tokens;
            result[i] = sum;
            if (units[i].StartsParagraph)
            {
                sum = 0;
            }
        }
        return result;
    }

    private List<Unit> Segment(string text)
    {
        var units = new List<Unit>();
        foreach (var (pStart, pEnd) in Paragraphs(text))
        {
            var first = true;
            foreach (var (sStart, sEnd) in Sentences(text, pStart, pEnd))
            {
                var piece = text.Substring(sStart, sEnd - sStart);
                var tokens = _counter.CountTokens(piece);
                if (tokens == 0)
                {
                    continue;
                }
                if (tokens <= _options.MaxTokens)
                {
                    units.Add(new Unit(sStart, sEnd, tokens, first));
                    first = false;
                    continue;
                }
                foreach (var (wStart, wEnd) in Words(text, sStart, sEnd))
                {
                    var wordTokens = _counter.CountTokens(text.Substring(wStart, wEnd - wStart));
                    if (wordTokens == 0)
                    {
                        continue;
                    }
                    if (wordTokens <= _options.MaxTokens)
                    {
                        units.Add(new Unit(wStart, wEnd, wordTokens, first));
                        first = false;
                        continue;
                    }
                    foreach (var run in CharacterRuns(text, wStart, wEnd))
                    {
                        units.Add(run with { StartsParagraph = first });
                        first = false;
                    }
                }
            }
        }
        return units;
    }

    // Splits one over-long word into runs of characters that each fit the budget (binary search on the run length).
    private IEnumerable<Unit> CharacterRuns(string text, int start, int end)
    {
        var pos = start;
        while (pos < end)
        {
            int lo = 1, hi = end - pos, best = 1;
            while (lo <= hi)
            {
                var mid = lo + ((hi - lo) / 2);
                if (_counter.CountTokens(text.Substring(pos, mid)) <= _options.MaxTokens)
                {
                    best = mid;
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }
            if (best < end - pos && char.IsHighSurrogate(text[pos + best - 1]) && best > 1)
            {
                best--; // never cut a surrogate pair in half
            }
            var tokens = _counter.CountTokens(text.Substring(pos, best));
            yield return new Unit(pos, pos + best, Math.Max(tokens, 1), false);
            pos += best;
        }
    }

    private static IEnumerable<(int Start, int End)> Paragraphs(string text)
    {
        var start = 0;
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '\n')
            {
                // a blank line: newline, optional horizontal whitespace, newline
                var j = i + 1;
                while (j < text.Length && text[j] != '\n' && char.IsWhiteSpace(text[j]))
                {
                    j++;
                }
                if (j < text.Length && text[j] == '\n')
                {
                    if (Trim(text, start, i) is { } p)
                    {
                        yield return p;
                    }
                    while (j < text.Length && char.IsWhiteSpace(text[j]))
                    {
                        j++;
                    }
                    start = j;
                    i = j;
                    continue;
                }
            }
            i++;
        }
        if (Trim(text, start, text.Length) is { } last)
        {
            yield return last;
        }
    }

    private static IEnumerable<(int Start, int End)> Sentences(string text, int start, int end)
    {
        var s = start;
        for (var i = start; i < end; i++)
        {
            var c = text[i];
            var boundary = false;
            var cut = i + 1;
            if (c == '\n')
            {
                boundary = true;
                cut = i;
            }
            else if (c is '.' or '!' or '?' or '。' or '！' or '？')
            {
                var j = i + 1;
                while (j < end && text[j] is '"' or '\'' or ')' or ']' or '”' or '’')
                {
                    j++;
                }
                if (j >= end || char.IsWhiteSpace(text[j]))
                {
                    boundary = true;
                    cut = j;
                    i = j - 1;
                }
            }
            if (boundary)
            {
                if (Trim(text, s, cut) is { } sentence)
                {
                    yield return sentence;
                }
                s = cut;
            }
        }
        if (Trim(text, s, end) is { } rest)
        {
            yield return rest;
        }
    }

    private static IEnumerable<(int Start, int End)> Words(string text, int start, int end)
    {
        var i = start;
        while (i < end)
        {
            while (i < end && char.IsWhiteSpace(text[i]))
            {
                i++;
            }
            var w = i;
            while (i < end && !char.IsWhiteSpace(text[i]))
            {
                i++;
            }
            if (i > w)
            {
                yield return (w, i);
            }
        }
    }

    private static (int Start, int End)? Trim(string text, int start, int end)
    {
        while (start < end && char.IsWhiteSpace(text[start]))
        {
            start++;
        }
        while (end > start && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }
        return end > start ? (start, end) : null;
    }

    private readonly record struct Unit(int Start, int End, int Tokens, bool StartsParagraph);
}
