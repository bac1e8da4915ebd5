// A single-pass HTML tag scanner, linear in the input whatever its shape. The HTML5 tree builder is quadratic on deep
// nesting (every start tag checks "has a p element in button scope", every end tag walks the stack of open elements),
// so 100,000 nested <div>s take AngleSharp about a minute. Browsers cap the tree depth for the same reason (Blink
// stops nesting at 512). This scanner measures the nesting a page would reach, and for pages past the cap it stands
// in for the tree builder: text outside script/style/navigation, a line break at block boundaries, entities decoded.
using System.Net;
using System.Text;

namespace SemanticSearch.Extraction;

internal static class LinearHtmlText
{
    // Elements that never have content, and those whose end tag may be left out (the parser closes them implicitly,
    // so they do not deepen the tree however many are left open).
    private static readonly HashSet<string> NoDepth = new(StringComparer.OrdinalIgnoreCase)
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
        "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "rb", "rp", "rt", "rtc",
        "colgroup", "caption", "html", "head", "body",
    };

    // Elements whose content is raw text: no tags inside until the matching end tag.
    private static readonly HashSet<string> RawText = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
    };

    private static readonly HashSet<string> NoElements = [];

    /// <summary>The deepest element nesting the page's tags imply (an upper bound on the parsed tree's depth).</summary>
    public static int NestingDepth(string html)
    {
        int depth = 0, max = 0;
        Scan(html, (name, isEnd, _) =>
        {
            if (NoDepth.Contains(name))
            {
                return;
            }
            if (isEnd)
            {
                depth = Math.Max(0, depth - 1);
            }
            else if (++depth > max)
            {
                max = depth;
            }
        }, null);
        return max;
    }

    /// <summary>
    /// The visible text of <paramref name="html"/> without building a tree, and the content of its &lt;title&gt;.
    /// <paramref name="skipped"/> are elements whose content is dropped, except those of <paramref name="keptInContent"/>
    /// inside an open element of <paramref name="content"/> (an article's own header); <paramref name="blocks"/> end a line.
    /// </summary>
    public static (string Text, string? Title) Extract(string html, IReadOnlySet<string> skipped, IReadOnlySet<string> blocks,
        IReadOnlySet<string>? keptInContent = null, IReadOnlySet<string>? content = null)
    {
        keptInContent ??= NoElements;
        content ??= NoElements;
        var sb = new StringBuilder(Math.Min(html.Length, 1 << 20));
        string? title = null;
        var skipDepth = 0;
        var contentDepth = 0;
        var keptOpen = 0; // kept elements open inside content: their end tags must not end a skip
        Scan(html, (name, isEnd, selfClosing) =>
        {
            if (skipDepth == 0 && content.Contains(name) && !selfClosing)
            {
                contentDepth = Math.Max(0, contentDepth + (isEnd ? -1 : 1));
            }
            if (skipDepth == 0 && keptInContent.Contains(name) && !selfClosing && (isEnd ? keptOpen > 0 : contentDepth > 0))
            {
                keptOpen += isEnd ? -1 : 1;
                if (blocks.Contains(name))
                {
                    HtmlTextExtractor.BreakLine(sb, paragraph: false);
                }
                return;
            }
            // <head> is left to its parts (title, script and style are raw text; meta and link are void): its end tag
            // is optional, and a page that leaves it out would otherwise lose its whole body.
            if (skipped.Contains(name) && !selfClosing && !RawText.Contains(name) && !name.Equals("head", StringComparison.OrdinalIgnoreCase))
            {
                skipDepth = Math.Max(0, skipDepth + (isEnd ? -1 : 1));
                return;
            }
            if (skipDepth == 0 && blocks.Contains(name))
            {
                HtmlTextExtractor.BreakLine(sb, paragraph: false);
            }
        }, (text, rawElement) =>
        {
            if (rawElement is not null)
            {
                if (rawElement.Equals("title", StringComparison.OrdinalIgnoreCase))
                {
                    title ??= Collapse(WebUtility.HtmlDecode(text.ToString()));
                }
                else if (rawElement.Equals("textarea", StringComparison.OrdinalIgnoreCase) && skipDepth == 0)
                {
                    HtmlTextExtractor.AppendCollapsed(sb, WebUtility.HtmlDecode(text.ToString()));
                }
                return;
            }
            if (skipDepth == 0)
            {
                HtmlTextExtractor.AppendCollapsed(sb, text.Contains('&') ? WebUtility.HtmlDecode(text.ToString()) : text);
            }
        });
        return (sb.ToString().Trim(), string.IsNullOrWhiteSpace(title) ? null : title);
    }

    private delegate void TagHandler(string name, bool isEnd, bool selfClosing);

    private delegate void TextHandler(ReadOnlySpan<char> text, string? rawElement);

    // One pass over the input: every character is looked at a bounded number of times.
    private static void Scan(string html, TagHandler onTag, TextHandler? onText)
    {
        var s = html.AsSpan();
        var i = 0;
        var textStart = 0;
        while (i < s.Length)
        {
            if (s[i] != '<' || i + 1 >= s.Length)
            {
                i++;
                continue;
            }
            var next = s[i + 1];
            if (next == '!' || next == '?')
            {
                onText?.Invoke(s[textStart..i], null);
                var end = s[i..].StartsWith("<!--") ? IndexFrom(s, i + 4, "-->", 3) : IndexFrom(s, i + 2, ">", 1);
                i = textStart = end;
                continue;
            }
            var isEnd = next == '/';
            var nameStart = isEnd ? i + 2 : i + 1;
            if (nameStart >= s.Length || !char.IsAsciiLetter(s[nameStart]))
            {
                i++; // a literal '<'
                continue;
            }
            onText?.Invoke(s[textStart..i], null);
            var nameEnd = nameStart;
            while (nameEnd < s.Length && (char.IsAsciiLetterOrDigit(s[nameEnd]) || s[nameEnd] is '-' or ':' or '_'))
            {
                nameEnd++;
            }
            var name = s[nameStart..nameEnd].ToString();
            // Attributes: skip to the closing '>' outside quotes.
            var j = nameEnd;
            char quote = '\0';
            while (j < s.Length && (quote != '\0' || s[j] != '>'))
            {
                if (quote == '\0' && s[j] is '"' or '\'')
                {
                    quote = s[j];
                }
                else if (quote != '\0' && s[j] == quote)
                {
                    quote = '\0';
                }
                j++;
            }
            var selfClosing = j > nameEnd && j - 1 < s.Length && s[j - 1] == '/';
            i = textStart = Math.Min(j + 1, s.Length);
            onTag(name, isEnd, selfClosing);
            if (!isEnd && !selfClosing && RawText.Contains(name))
            {
                // Raw text runs to the matching end tag (or the end of the input).
                var close = IndexOfEndTag(s, i, name);
                onText?.Invoke(s[i..close], name);
                i = textStart = close;
            }
        }
        onText?.Invoke(s[textStart..], null);
    }

    // Position just past the next `marker` at or after `from`, or the end of the input.
    private static int IndexFrom(ReadOnlySpan<char> s, int from, string marker, int length)
    {
        if (from >= s.Length)
        {
            return s.Length;
        }
        var k = s[from..].IndexOf(marker, StringComparison.Ordinal);
        return k < 0 ? s.Length : from + k + length;
    }

    private static int IndexOfEndTag(ReadOnlySpan<char> s, int from, string name)
    {
        var pos = from;
        while (pos < s.Length)
        {
            var k = s[pos..].IndexOf("</", StringComparison.Ordinal);
            if (k < 0)
            {
                return s.Length;
            }
            var at = pos + k;
            if (at + 2 + name.Length <= s.Length && s.Slice(at + 2, name.Length).Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return at;
            }
            pos = at + 2;
        }
        return s.Length;
    }

    private static string Collapse(string s) => string.Join(' ', s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
