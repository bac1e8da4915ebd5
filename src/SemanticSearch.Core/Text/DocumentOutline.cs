namespace SemanticSearch.Core.Text;

/// <summary>
/// Where a document's pages and sections begin in its extracted text, so that a hit can say where in the document it
/// is: the page of a PDF, the heading (and its anchor) of an HTML or Markdown file. Offsets are UTF-16 characters in
/// the extracted text, both lists in ascending offset order.
/// </summary>
public sealed record DocumentOutline
{
    /// <summary>An outline with no pages and no headings (a format that has neither, or a document sent over the API).</summary>
    public static DocumentOutline Empty { get; } = new([], []);

    /// <summary>An outline of <paramref name="pages"/> and <paramref name="headings"/>.</summary>
    /// <exception cref="ArgumentException">An offset is negative, offsets go backwards, page numbers do not ascend, or a heading level is outside 1–6.</exception>
    public DocumentOutline(IReadOnlyList<PageStart> pages, IReadOnlyList<SectionHeading> headings)
    {
        for (var i = 0; i < pages.Count; i++)
        {
            if (pages[i].Offset < 0 || pages[i].Number < 1 || (i > 0 && (pages[i].Offset < pages[i - 1].Offset || pages[i].Number <= pages[i - 1].Number)))
            {
                throw new ArgumentException($"pages[{i}]: offsets must ascend from 0 and page numbers from 1", nameof(pages));
            }
        }
        for (var i = 0; i < headings.Count; i++)
        {
            if (headings[i].Offset < 0 || headings[i].Level is < 1 or > 6 || (i > 0 && headings[i].Offset < headings[i - 1].Offset))
            {
                throw new ArgumentException($"headings[{i}]: offsets must ascend from 0 and levels lie in 1-6", nameof(headings));
            }
        }
        Pages = pages;
        Headings = headings;
    }

    /// <summary>The first offset of each page that has text, with its page number (from 1, counting pages without text).</summary>
    public IReadOnlyList<PageStart> Pages { get; }

    /// <summary>The headings, in document order.</summary>
    public IReadOnlyList<SectionHeading> Headings { get; }

    /// <summary>Whether the outline has neither pages nor headings.</summary>
    public bool IsEmpty => Pages.Count == 0 && Headings.Count == 0;

    /// <summary>
    /// The page and the sections that <paramref name="offset"/> lies in: the page that starts last at or before it,
    /// and the heading that does with the headings it is nested under (each of a lower level than the next).
    /// </summary>
    public TextLocation Locate(int offset)
    {
        int? page = null;
        var p = LastAtOrBefore(Pages.Count, i => Pages[i].Offset, offset);
        if (p >= 0)
        {
            page = Pages[p].Number;
        }
        else if (Pages.Count > 0)
        {
            page = Pages[0].Number; // before the first page's text (cannot happen for extracted text; be total anyway)
        }
        var trail = new List<SectionHeading>();
        var h = LastAtOrBefore(Headings.Count, i => Headings[i].Offset, offset);
        if (h >= 0)
        {
            trail.Add(Headings[h]);
            var level = Headings[h].Level;
            for (var i = h - 1; i >= 0 && level > 1; i--)
            {
                if (Headings[i].Level < level)
                {
                    trail.Add(Headings[i]);
                    level = Headings[i].Level;
                }
            }
            trail.Reverse();
        }
        return new TextLocation(page, trail);
    }

    // The index of the last item whose offset is at or before `offset`, or -1 (the offsets ascend).
    private static int LastAtOrBefore(int count, Func<int, int> offsetOf, int offset)
    {
        int lo = 0, hi = count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (offsetOf(mid) <= offset)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return found;
    }
}

/// <summary>Where a page's text begins.</summary>
/// <param name="Offset">Its first character in the extracted text.</param>
/// <param name="Number">Its page number in the file, from 1 (the number a viewer's <c>#page=</c> takes).</param>
public readonly record struct PageStart(int Offset, int Number);

/// <summary>A heading of the document.</summary>
/// <param name="Offset">Its first character in the extracted text.</param>
/// <param name="Level">1 for a top-level heading (h1, #) to 6.</param>
/// <param name="Text">Its text, as shown.</param>
/// <param name="Anchor">The fragment that opens the file at it (an HTML id, a Markdown heading slug), or null when it has none.</param>
public sealed record SectionHeading(int Offset, int Level, string Text, string? Anchor);

/// <summary>Where an offset lies in a document.</summary>
/// <param name="Page">Its page number, or null for a document without pages.</param>
/// <param name="Sections">The headings it lies under, outermost first (empty when it precedes every heading).</param>
public sealed record TextLocation(int? Page, IReadOnlyList<SectionHeading> Sections)
{
    /// <summary>The innermost heading's anchor, else the nearest enclosing heading's that has one, else null.</summary>
    public string? Anchor
    {
        get
        {
            for (var i = Sections.Count - 1; i >= 0; i--)
            {
                if (Sections[i].Anchor is { } a)
                {
                    return a;
                }
            }
            return null;
        }
    }
}
