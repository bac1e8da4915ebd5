// PDF text, with running headers and footers removed. A page's words are grouped into lines by their baseline; the two
// top-most and two bottom-most lines of every page are candidates. A candidate is a running line when the
// same line — compared with digits folded (so "Page 7 of 90" matches "Page 8 of 90", and a bare page number matches
// every other), case and spacing ignored — stands at the same edge of at least 40% of the pages (alternating
// odd/even headers each reach half), in a document of at least three pages. Running lines are peeled from each edge
// inward: the outermost line goes when it is running, the next one only when the outermost went too (a header over a
// rule and a subtitle, a footer over a page number); the rest of the page keeps its words in PdfPig's reading order.
using System.Text;
using SemanticSearch.Core.Text;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Exceptions;

namespace SemanticSearch.Extraction;

/// <summary>
/// PDF via PdfPig: page text in reading order, pages separated by blank lines, running headers and footers (a line
/// repeated at the top or bottom of most pages, page numbers included) removed; title from the info dictionary; the
/// outline holds where each page with text begins. A file whose compressed streams would inflate past
/// <see cref="MaxInflatedBytes"/> is refused as a likely decompression bomb before PdfPig reads it.
/// </summary>
public sealed class PdfTextExtractor : ITextExtractor
{
    /// <summary>Most bytes the streams that text extraction decodes may inflate to (256 MiB).</summary>
    public const long MaxInflatedBytes = 256L * 1024 * 1024;

    /// <summary>Fewest pages on which running headers and footers are looked for.</summary>
    public const int MinPagesForRunningLines = 3;

    // Lines at each edge of a page that may be a running header or footer.
    private const int EdgeLines = 2;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".pdf"];

    /// <inheritdoc />
    public ExtractedText Extract(ReadOnlyMemory<byte> content, string fileName)
    {
        if (PdfInflateBudget.InflatedBytes(content.Span, MaxInflatedBytes) > MaxInflatedBytes)
        {
            throw new ExtractionException($"PDF streams would inflate to more than {MaxInflatedBytes:N0} bytes from {content.Length:N0} (likely a decompression bomb); refused");
        }
        try
        {
            using var pdf = PdfDocument.Open(content.ToArray(), new ParsingOptions { UseLenientParsing = false });
            var pages = new List<PageLines>();
            foreach (var page in pdf.GetPages())
            {
                pages.Add(PageLines.Of([.. page.GetWords()]));
            }
            var running = RunningLines(pages);
            var sb = new StringBuilder();
            var starts = new List<PageStart>();
            for (var p = 0; p < pages.Count; p++)
            {
                var pageText = pages[p].TextWithout(running);
                if (pageText.Length > 0)
                {
                    if (sb.Length > 0)
                    {
                        sb.Append("\n\n");
                    }
                    starts.Add(new PageStart(sb.Length, p + 1));
                    sb.Append(pageText);
                }
            }
            var title = pdf.Information.Title;
            return new ExtractedText(string.IsNullOrWhiteSpace(title) ? Titles.FromFileName(fileName) : Titles.Clip(title), sb.ToString())
            {
                Outline = new DocumentOutline(starts, []),
            };
        }
        catch (PdfDocumentEncryptedException e)
        {
            throw new ExtractionException("encrypted PDF (no password given)", e);
        }
        catch (Exception e) when (e is not ExtractionException and not OutOfMemoryException)
        {
            throw new ExtractionException($"corrupt PDF: {e.Message}", e);
        }
    }

    // The edge keys ("top:…", "bottom:…") that stand on enough pages to be running lines.
    private static HashSet<string> RunningLines(List<PageLines> pages)
    {
        var withText = pages.Count(p => p.Lines.Count > 0);
        var running = new HashSet<string>(StringComparer.Ordinal);
        if (withText < MinPagesForRunningLines)
        {
            return running;
        }
        var pagesWith = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var page in pages)
        {
            foreach (var key in page.EdgeKeys().Distinct(StringComparer.Ordinal))
            {
                pagesWith[key] = pagesWith.GetValueOrDefault(key) + 1;
            }
        }
        foreach (var (key, count) in pagesWith)
        {
            if (count >= 2 && count * 5 >= withText * 2)
            {
                running.Add(key);
            }
        }
        return running;
    }

    /// <summary>A line's text compared across pages: digits folded to '#', letters lower-cased, spacing ignored.</summary>
    internal static string Fold(string line)
    {
        var sb = new StringBuilder(line.Length);
        foreach (var c in line)
        {
            if (char.IsDigit(c))
            {
                if (sb.Length == 0 || sb[^1] != '#')
                {
                    sb.Append('#');
                }
            }
            else if (!char.IsWhiteSpace(c))
            {
                sb.Append(char.ToLowerInvariant(c));
            }
        }
        return sb.ToString();
    }

    // A page's words and the line (by baseline, 0 = top-most) each stands on.
    private sealed class PageLines
    {
        private readonly IReadOnlyList<Word> _words;
        private readonly int[] _lineOfWord;

        private PageLines(IReadOnlyList<Word> words, int[] lineOfWord, List<string> lines)
        {
            _words = words;
            _lineOfWord = lineOfWord;
            Lines = lines;
        }

        // The text of each line, top to bottom, its words left to right.
        public List<string> Lines { get; }

        public static PageLines Of(IReadOnlyList<Word> words)
        {
            // Baselines top to bottom; words whose baselines lie within half a typical word height share a line.
            var order = Enumerable.Range(0, words.Count).OrderByDescending(i => words[i].BoundingBox.Bottom).ToArray();
            var heights = words.Select(w => w.BoundingBox.Height).Where(h => h > 0).Order().ToList();
            var tolerance = heights.Count > 0 ? heights[heights.Count / 2] / 2 : 1.0;
            var lineOfWord = new int[words.Count];
            var members = new List<List<int>>();
            double? lineBottom = null;
            foreach (var i in order)
            {
                var bottom = words[i].BoundingBox.Bottom;
                if (lineBottom is not { } b || b - bottom > tolerance)
                {
                    members.Add([]);
                    lineBottom = bottom;
                }
                members[^1].Add(i);
                lineOfWord[i] = members.Count - 1;
            }
            var lines = members.Select(m => string.Join(' ', m.OrderBy(i => words[i].BoundingBox.Left).Select(i => words[i].Text))).ToList();
            return new PageLines(words, lineOfWord, lines);
        }

        // The candidates at each edge: the top-most and bottom-most lines, folded, with their edge.
        public IEnumerable<string> EdgeKeys()
        {
            for (var k = 0; k < Math.Min(EdgeLines, Lines.Count); k++)
            {
                yield return Key(k, top: true);
            }
            for (var k = Math.Max(0, Lines.Count - EdgeLines); k < Lines.Count; k++)
            {
                yield return Key(k, top: false);
            }
        }

        // The page's words in reading order, less the words of lines at an edge whose key is running.
        public string TextWithout(HashSet<string> running)
        {
            var dropped = new bool[Lines.Count];
            for (var k = 0; k < Math.Min(EdgeLines, Lines.Count) && running.Contains(Key(k, top: true)); k++)
            {
                dropped[k] = true;
            }
            for (var k = Lines.Count - 1; k >= Math.Max(0, Lines.Count - EdgeLines) && running.Contains(Key(k, top: false)); k--)
            {
                dropped[k] = true;
            }
            var sb = new StringBuilder();
            for (var i = 0; i < _words.Count; i++)
            {
                if (dropped[_lineOfWord[i]])
                {
                    continue;
                }
                if (sb.Length > 0)
                {
                    sb.Append(' ');
                }
                sb.Append(_words[i].Text);
            }
            return sb.ToString();
        }

        private string Key(int line, bool top) => (top ? "top:" : "bottom:") + Fold(Lines[line]);
    }
}
