using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using SemanticSearch.Core.Text;

namespace SemanticSearch.Extraction;

/// <summary>
/// HTML: the visible text of the body, block elements separated by line breaks. Dropped: scripts, styles, templates,
/// and a page's boilerplate — &lt;nav&gt;, &lt;header&gt;, &lt;footer&gt;, &lt;aside&gt; and any element whose ARIA role is
/// navigation, banner, contentinfo or complementary — except that a &lt;header&gt; inside an &lt;article&gt; or
/// &lt;main&gt; is that content's own (its title, its byline) and is kept. The walk is iterative, so a deeply nested page cannot overflow the stack. Title: &lt;title&gt;, else the
/// first &lt;h1&gt;, else the file name. A page whose tags nest deeper than <see cref="MaxTreeDepth"/> (the tree builder
/// is quadratic in the depth) or longer than <see cref="MaxTreeChars"/> (its DOM costs about 20 bytes per input byte)
/// is not given to the tree builder but read by a linear tag scanner that keeps the same text (it sees element names
/// only, so there the boilerplate is recognised by element, not by role, and the page has no outline). The outline
/// is the kept h1–h6 headings, each with the fragment that opens the page at it (its id, an id or named anchor inside it, or the id of the section it leads).
/// </summary>
public sealed class HtmlTextExtractor : ITextExtractor
{
    /// <summary>Deepest nesting handed to the HTML5 tree builder; deeper pages are read by a linear scan instead.</summary>
    public const int MaxTreeDepth = 1024;

    /// <summary>Longest page (in characters) handed to the tree builder; longer pages are read by a linear scan instead.</summary>
    public const int MaxTreeChars = 8 * 1024 * 1024;

    private static readonly HashSet<string> Skipped = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "noscript", "template", "head", "svg", "canvas", "iframe", "object",
        "nav", "header", "footer", "aside",
    };

    // Landmark roles of boilerplate (WAI-ARIA): site navigation, the site banner, the page footer, side content.
    private static readonly HashSet<string> BoilerplateRoles = new(StringComparer.OrdinalIgnoreCase)
    {
        "navigation", "banner", "contentinfo", "complementary",
    };

    // Skipped elements that are kept inside content (an article's own header), and what counts as content.
    private static readonly HashSet<string> KeptInContent = new(StringComparer.OrdinalIgnoreCase) { "header" };
    private static readonly HashSet<string> Content = new(StringComparer.OrdinalIgnoreCase) { "article", "main" };

    private static readonly HashSet<string> Blocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "div", "section", "article", "header", "footer", "main", "aside", "li", "ul", "ol", "table", "tr",
        "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "br", "hr", "dd", "dt", "dl", "figure", "figcaption",
        "td", "th", "form", "address", "details", "summary",
    };

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".html", ".htm", ".xhtml"];

    /// <inheritdoc />
    public ExtractedText Extract(ReadOnlyMemory<byte> content, string fileName)
    {
        var html = TextDecoding.Decode(content.Span, out var encoding);
        if (html.Length > MaxTreeChars || LinearHtmlText.NestingDepth(html) > MaxTreeDepth)
        {
            var (scanned, scannedTitle) = LinearHtmlText.Extract(html, Skipped, Blocks, KeptInContent, Content);
            return new ExtractedText(Titles.Clip(scannedTitle ?? Titles.FromFileName(fileName)), scanned) { Encoding = encoding };
        }
        var parser = new HtmlParser(new HtmlParserOptions { IsScripting = false });
        using var doc = parser.ParseDocument(html);

        var title = doc.Title?.Trim();
        if (string.IsNullOrEmpty(title))
        {
            title = doc.QuerySelector("h1")?.TextContent.Trim();
        }
        if (string.IsNullOrEmpty(title))
        {
            title = Titles.FromFileName(fileName);
        }

        var root = (INode?)doc.Body ?? doc.DocumentElement;
        var headings = new List<SectionHeading>();
        var text = root is null ? string.Empty : VisibleText(root, headings);
        return new ExtractedText(Titles.Clip(title), text) { Encoding = encoding, Outline = new DocumentOutline([], headings) };
    }

    // Dropped with its content: a skipped element (an article's or main's own header excepted) or a boilerplate landmark.
    private static bool IsDropped(IElement element)
    {
        var name = element.LocalName;
        if (Skipped.Contains(name))
        {
            return !KeptInContent.Contains(name) || !InContent(element);
        }
        var role = element.GetAttribute("role");
        if (role is null)
        {
            return false;
        }
        foreach (var r in role.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            // the first role a browser recognises is the element's role; a banner inside content is its header
            if (BoilerplateRoles.Contains(r))
            {
                return !(r.Equals("banner", StringComparison.OrdinalIgnoreCase) && InContent(element));
            }
        }
        return false;
    }

    private static bool InContent(IElement element)
    {
        for (var p = element.ParentElement; p is not null; p = p.ParentElement)
        {
            if (Content.Contains(p.LocalName) || p.GetAttribute("role") is "main" or "article")
            {
                return true;
            }
        }
        return false;
    }

    // The visible text; the headings (h1–h6) kept in it are added to `headings` with their offsets and anchors.
    private static string VisibleText(INode root, List<SectionHeading> headings)
    {
        var sb = new StringBuilder();
        var stack = new Stack<(INode Node, bool Closing)>();
        var openHeadings = new Stack<int>(); // where each open heading's text began
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            var (node, closing) = stack.Pop();
            if (node is IElement element)
            {
                var name = element.LocalName;
                if (closing)
                {
                    if (HeadingLevel(name) is { } closed && openHeadings.TryPop(out var begun))
                    {
                        AddHeading(headings, sb, begun, closed, element);
                    }
                    if (Blocks.Contains(name))
                    {
                        BreakLine(sb, name is "p" or "div" or "section" or "article" or "table" or "pre" or "blockquote" || name.StartsWith('h'));
                    }
                    continue;
                }
                if (IsDropped(element))
                {
                    continue;
                }
                if (Blocks.Contains(name))
                {
                    BreakLine(sb, false);
                }
                if (HeadingLevel(name) is not null)
                {
                    openHeadings.Push(sb.Length);
                }
                stack.Push((node, true));
                for (var child = node.LastChild; child is not null; child = child.PreviousSibling)
                {
                    stack.Push((child, false));
                }
            }
            else if (node is IText t)
            {
                AppendCollapsed(sb, t.Data);
            }
            else if (!closing && node.HasChildNodes)
            {
                for (var child = node.LastChild; child is not null; child = child.PreviousSibling)
                {
                    stack.Push((child, false));
                }
            }
        }
        var text = sb.ToString().TrimEnd();
        // the trailing trim can only have cut after the last heading's text; keep every offset inside the text
        for (var i = 0; i < headings.Count; i++)
        {
            if (headings[i].Offset > text.Length)
            {
                headings[i] = headings[i] with { Offset = text.Length };
            }
        }
        return text;
    }

    private static int? HeadingLevel(string name) =>
        name.Length == 2 && (name[0] is 'h' or 'H') && name[1] is >= '1' and <= '6' ? name[1] - '0' : null;

    private static void AddHeading(List<SectionHeading> headings, StringBuilder sb, int begun, int level, IElement element)
    {
        var shown = sb.ToString(begun, sb.Length - begun).Trim();
        if (shown.Length == 0)
        {
            return;
        }
        while (headings.Count > 0 && headings[^1].Offset >= begun)
        {
            headings.RemoveAt(headings.Count - 1); // a heading nested inside this one: the outer one stands for both
        }
        headings.Add(new SectionHeading(begun, level, Titles.Clip(shown.ReplaceLineEndings(" ")), AnchorOf(element)));
    }

    // The fragment that opens the page at a heading: its id, else the id (or <a name>) of an element inside it, else
    // the id of the section it leads (a parent whose first element is the heading, as DocBook and Sphinx write it).
    private static string? AnchorOf(IElement heading)
    {
        if (NonEmpty(heading.Id) is { } own)
        {
            return own;
        }
        foreach (var inner in heading.Descendants<IElement>())
        {
            if ((NonEmpty(inner.Id) ?? (inner.LocalName == "a" ? NonEmpty(inner.GetAttribute("name")) : null)) is { } id)
            {
                return id;
            }
        }
        return heading.ParentElement is { } parent && parent.FirstElementChild == heading && parent.LocalName is not ("body" or "html")
            ? NonEmpty(parent.Id)
            : null;

        static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
    }

    // Appends text with every run of whitespace collapsed to one space (none at the start of the text or of a line).
    // Shared with the linear scanner so both paths give the same words.
    internal static void AppendCollapsed(StringBuilder sb, ReadOnlySpan<char> data)
    {
        foreach (var c in data)
        {
            if (char.IsWhiteSpace(c))
            {
                if (sb.Length > 0 && !char.IsWhiteSpace(sb[^1]))
                {
                    sb.Append(' ');
                }
            }
            else
            {
                sb.Append(c);
            }
        }
    }

    // Ends the current line (trailing spaces dropped), with a blank line after it for a paragraph.
    internal static void BreakLine(StringBuilder sb, bool paragraph)
    {
        while (sb.Length > 0 && sb[^1] == ' ')
        {
            sb.Length--;
        }
        if (sb.Length == 0)
        {
            return;
        }
        if (sb[^1] != '\n')
        {
            sb.Append('\n');
        }
        if (paragraph && (sb.Length < 2 || sb[^2] != '\n'))
        {
            sb.Append('\n');
        }
    }
}
