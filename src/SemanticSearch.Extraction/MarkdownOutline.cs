using System.Globalization;
using System.Text;
using SemanticSearch.Core.Text;

namespace SemanticSearch.Extraction;

/// <summary>
/// The headings of a Markdown file, as CommonMark reads them: ATX headings (<c># Title</c>, up to three spaces of
/// indent, closing hashes dropped) and setext headings (a paragraph underlined with <c>===</c> or <c>---</c>), never
/// inside fenced or indented code or a leading YAML front matter block. Each heading's anchor is an explicit
/// <c>{#id}</c> at its end when it has one (Pandoc, kramdown), else the slug GitHub and GitLab give it: the shown
/// text lower-cased, characters other than letters, digits, marks, spaces, '-' and '_' removed, each space turned into
/// '-', and a repeated slug suffixed <c>-1</c>, <c>-2</c>…
/// </summary>
public static class MarkdownOutline
{
    /// <summary>The headings of <paramref name="text"/>, with offsets into it.</summary>
    public static IReadOnlyList<SectionHeading> Headings(string text)
    {
        var headings = new List<SectionHeading>();
        var slugs = new Dictionary<string, int>(StringComparer.Ordinal);
        var lines = Lines(text);
        var i = SkipFrontMatter(text, lines);
        (char Marker, int Length)? fence = null;
        var paragraphStart = -1; // the line the current paragraph began on, or -1 outside a paragraph
        for (; i < lines.Count; i++)
        {
            var (start, length) = lines[i];
            var line = text.AsSpan(start, length);
            var indent = Indent(line);
            var body = line.Trim();
            if (fence is { } open)
            {
                if (indent <= 3 && IsFence(body, out var marker, out var run) && marker == open.Marker && run >= open.Length && body.TrimStart(marker).IsWhiteSpace())
                {
                    fence = null;
                }
                continue;
            }
            if (body.IsEmpty)
            {
                paragraphStart = -1;
                continue;
            }
            if (indent <= 3 && IsFence(body, out var m, out var n))
            {
                fence = (m, n);
                paragraphStart = -1;
                continue;
            }
            if (indent >= 4 && paragraphStart < 0)
            {
                continue; // indented code
            }
            if (indent <= 3 && AtxLevel(body) is { } level)
            {
                Add(headings, slugs, start + (line.Length - line.TrimStart().Length), level, AtxText(body, level));
                paragraphStart = -1;
                continue;
            }
            if (indent <= 3 && paragraphStart >= 0 && SetextLevel(body) is { } underline)
            {
                var first = lines[paragraphStart];
                var last = lines[i - 1];
                var content = text.AsSpan(first.Start, last.Start + last.Length - first.Start).Trim().ToString();
                Add(headings, slugs, first.Start + Indent(text.AsSpan(first.Start, first.Length)), underline, content.ReplaceLineEndings(" "));
                paragraphStart = -1;
                continue;
            }
            if (paragraphStart < 0 && !body.StartsWith("- ") && !body.StartsWith("* ") && !body.StartsWith("+ ") && !body.StartsWith(">") && !IsThematicBreak(body))
            {
                paragraphStart = i;
            }
            else if (IsThematicBreak(body))
            {
                paragraphStart = -1;
            }
        }
        return headings;
    }

    /// <summary>The anchor GitHub gives a heading of this shown text (before duplicates are numbered).</summary>
    public static string Slug(string shown)
    {
        var sb = new StringBuilder(shown.Length);
        foreach (var rune in shown.ToLowerInvariant().EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (rune.Value == ' ')
            {
                sb.Append('-');
            }
            else if (rune.Value is '-' or '_' || Rune.IsLetterOrDigit(rune)
                     || category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                     || category is UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber)
            {
                sb.Append(rune.ToString());
            }
        }
        return sb.ToString();
    }

    private static void Add(List<SectionHeading> headings, Dictionary<string, int> slugs, int offset, int level, string raw)
    {
        var (shown, explicitId) = SplitExplicitId(raw);
        shown = Shown(shown);
        if (shown.Length == 0)
        {
            return;
        }
        string anchor;
        if (explicitId is not null)
        {
            anchor = explicitId;
        }
        else
        {
            var slug = Slug(shown);
            if (slugs.TryGetValue(slug, out var seen))
            {
                // numbered until free: "a", "a-1", and a later heading literally "a-1" becomes "a-1-1"
                var n = seen;
                string candidate;
                do
                {
                    candidate = $"{slug}-{n++}";
                }
                while (slugs.ContainsKey(candidate));
                slugs[slug] = n;
                slug = candidate;
            }
            slugs[slug] = 1;
            anchor = slug;
        }
        if (headings.Count > 0 && headings[^1].Offset > offset)
        {
            return; // cannot happen for lines read in order; keep the outline ascending regardless
        }
        headings.Add(new SectionHeading(offset, level, Titles.Clip(shown), anchor));
    }

    // "Title {#id}" → ("Title", "id"); other attribute blocks ({.class}) are dropped.
    private static (string Text, string? Id) SplitExplicitId(string raw)
    {
        var t = raw.TrimEnd();
        if (t.EndsWith('}') && t.LastIndexOf('{') is var open and >= 0)
        {
            var attrs = t[(open + 1)..^1].Trim();
            var text = t[..open].TrimEnd();
            foreach (var part in attrs.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (part.Length > 1 && part[0] == '#')
                {
                    return (text, part[1..]);
                }
            }
            if (attrs.StartsWith('.') || attrs.StartsWith('#'))
            {
                return (text, null);
            }
        }
        return (t, null);
    }

    // The text a heading shows: links as their text, images as their alt text, emphasis and code markers dropped.
    private static string Shown(string raw)
    {
        var sb = new StringBuilder(raw.Length);
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (c == '!' && i + 1 < raw.Length && raw[i + 1] == '[')
            {
                continue;
            }
            if (c == '[' && raw.IndexOf("](", i, StringComparison.Ordinal) is var mid and > 0 && raw.IndexOf(')', mid) is var close and > 0)
            {
                sb.Append(raw, i + 1, mid - i - 1);
                i = close;
                continue;
            }
            if (c is '*' or '`')
            {
                continue;
            }
            sb.Append(c);
        }
        return string.Join(' ', sb.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    private static int? AtxLevel(ReadOnlySpan<char> body)
    {
        var level = 0;
        while (level < body.Length && body[level] == '#')
        {
            level++;
        }
        return level is >= 1 and <= 6 && (level == body.Length || body[level] is ' ' or '\t') ? level : null;
    }

    // The heading text after the opening hashes, with a closing run of hashes (preceded by a space) removed.
    private static string AtxText(ReadOnlySpan<char> body, int level)
    {
        var rest = body[level..].Trim();
        var closing = rest.TrimEnd('#');
        if (closing.Length == 0)
        {
            return string.Empty;
        }
        if (closing.Length < rest.Length && closing[^1] is ' ' or '\t')
        {
            rest = closing;
        }
        return rest.Trim().ToString();
    }

    private static int? SetextLevel(ReadOnlySpan<char> body)
    {
        if (body.Length == 0 || body[0] is not ('=' or '-'))
        {
            return null;
        }
        var c = body[0];
        return body.TrimEnd().TrimStart(c).IsEmpty ? (c == '=' ? 1 : 2) : null;
    }

    private static bool IsThematicBreak(ReadOnlySpan<char> body)
    {
        if (body.Length < 3 || body[0] is not ('-' or '*' or '_'))
        {
            return false;
        }
        var c = body[0];
        var count = 0;
        foreach (var ch in body)
        {
            if (ch == c)
            {
                count++;
            }
            else if (ch is not (' ' or '\t'))
            {
                return false;
            }
        }
        return count >= 3;
    }

    private static bool IsFence(ReadOnlySpan<char> body, out char marker, out int run)
    {
        marker = body.Length > 0 ? body[0] : '\0';
        run = 0;
        if (marker is not ('`' or '~'))
        {
            return false;
        }
        while (run < body.Length && body[run] == marker)
        {
            run++;
        }
        // a backtick fence's info string may not hold a backtick
        return run >= 3 && (marker == '~' || !body[run..].Contains('`'));
    }

    private static int Indent(ReadOnlySpan<char> line)
    {
        var n = 0;
        foreach (var c in line)
        {
            if (c == ' ')
            {
                n++;
            }
            else if (c == '\t')
            {
                n += 4 - (n % 4);
            }
            else
            {
                break;
            }
        }
        return n;
    }

    // Start and length of each line (without its line break).
    private static List<(int Start, int Length)> Lines(string text)
    {
        var lines = new List<(int, int)>();
        var start = 0;
        for (var i = 0; i <= text.Length; i++)
        {
            if (i == text.Length || text[i] == '\n')
            {
                var end = i > start && text[i - 1] == '\r' ? i - 1 : i;
                if (i < text.Length || start < text.Length)
                {
                    lines.Add((start, end - start));
                }
                start = i + 1;
            }
        }
        return lines;
    }

    // The first line after a YAML front matter block ("---" on the first line, closed by "---" or "..."), else 0.
    private static int SkipFrontMatter(string text, List<(int Start, int Length)> lines)
    {
        if (lines.Count == 0 || !text.AsSpan(lines[0].Start, lines[0].Length).TrimEnd().SequenceEqual("---"))
        {
            return 0;
        }
        for (var i = 1; i < lines.Count; i++)
        {
            var l = text.AsSpan(lines[i].Start, lines[i].Length).TrimEnd();
            if (l.SequenceEqual("---") || l.SequenceEqual("..."))
            {
                return i + 1;
            }
        }
        return 0; // never closed: not front matter
    }
}
