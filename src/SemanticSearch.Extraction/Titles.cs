// Titles found in the text of a file. Plain text (and reStructuredText, which Debian and Python docs ship as .txt)
// follows reST's rules for what is *not* a title: explicit markup blocks — directives (`.. note::`), hyperlink
// targets and labels (`.. _pkgs:`), substitution definitions and comments (`..` followed by anything), each with its
// indented continuation lines — are skipped. A section title is a line of text underlined (and optionally overlined)
// with a run of one punctuation character (= - ~ ` : ' " ^ _ * + # < > .), as reST adorns it. Only when no adorned
// title leads the text does the older rule apply: a short first line followed by a blank line.
namespace SemanticSearch.Extraction;

internal static class Titles
{
    // reST's adornment characters (any non-alphanumeric printable ASCII is allowed; these are the ones in use).
    private const string Adornments = "=-~`:'\"^_*+#<>.!$%&,/;?@\\|";

    // How far into an .rst file the first section title is looked for.
    private const int RstTitleSearchLines = 200;

    public static string FromFileName(string fileName) => Path.GetFileNameWithoutExtension(fileName);

    public static string? FirstMarkdownHeading(string text)
    {
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            var line = raw.Trim();
            if (line.Length > 1 && line[0] == '#')
            {
                var title = line.TrimStart('#').Trim();
                if (title.Length > 0)
                {
                    return Clip(title.ToString());
                }
            }
        }
        return null;
    }

    /// <summary>
    /// The title of a plain-text or reST file: the adorned section title that leads it (after explicit markup and
    /// blank lines), for an .rst file the first adorned title anywhere near the start, else a short first line
    /// followed by a blank line; never a directive, label or comment.
    /// </summary>
    public static string? PlainTextTitle(string text, bool restructuredText)
    {
        var lines = text.Split('\n', RstTitleSearchLines + 2);
        var count = Math.Min(lines.Length, RstTitleSearchLines + 1);
        var i = SkipMarkupAndBlanks(lines, 0, count);
        if (AdornedTitleAt(lines, i, count) is { } leading)
        {
            return leading;
        }
        if (restructuredText)
        {
            for (var j = i + 1; j < count; j++)
            {
                j = SkipMarkupAndBlanks(lines, j, count);
                if (AdornedTitleAt(lines, j, count) is { } title)
                {
                    return title;
                }
            }
            return null;
        }
        // The older plain-text rule, past any explicit markup: a short line followed by a blank line.
        if (i + 1 < count && !IsAdornment(lines[i]) && lines[i].Trim().Length is > 0 and <= 120 && lines[i + 1].Trim().Length == 0)
        {
            return Clip(lines[i].Trim());
        }
        return null;
    }

    public static string Clip(string title)
    {
        var t = string.Join(' ', title.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return t.Length <= 300 ? t : t[..300];
    }

    // Skips blank lines and explicit markup blocks ("..", then indented or blank continuation lines).
    private static int SkipMarkupAndBlanks(string[] lines, int i, int count)
    {
        while (i < count)
        {
            var line = lines[i].TrimEnd();
            if (line.Length == 0)
            {
                i++;
                continue;
            }
            if (!IsExplicitMarkup(line))
            {
                return i;
            }
            i++;
            while (i < count && (lines[i].Trim().Length == 0 || char.IsWhiteSpace(lines[i][0])))
            {
                i++;
            }
        }
        return i;
    }

    // ".." alone or followed by whitespace starts an explicit markup block (directive, target, substitution, comment).
    private static bool IsExplicitMarkup(string line) =>
        line.StartsWith("..", StringComparison.Ordinal) && (line.Length == 2 || char.IsWhiteSpace(line[2]));

    // The title at line i: text over an underline (optionally under an overline of the same character).
    private static string? AdornedTitleAt(string[] lines, int i, int count)
    {
        if (i >= count)
        {
            return null;
        }
        var first = lines[i].TrimEnd();
        if (IsAdornment(first) && i + 2 < count)
        {
            var text = lines[i + 1].Trim();
            var under = lines[i + 2].TrimEnd();
            if (text.Length > 0 && !IsAdornment(text) && under == first)
            {
                return Clip(text);
            }
            return null;
        }
        if (first.Length == 0 || char.IsWhiteSpace(first[0]) || IsAdornment(first) || IsExplicitMarkup(first) || i + 1 >= count)
        {
            return null;
        }
        var underline = lines[i + 1].TrimEnd();
        // reST wants the underline at least as long as the title; a slightly short one is still meant as one
        return IsAdornment(underline) && underline.Length >= Math.Min(first.Trim().Length, 3) && first.Trim().Length <= 200
            ? Clip(first.Trim())
            : null;
    }

    // A line of three or more of the same adornment character, nothing else.
    private static bool IsAdornment(string line)
    {
        line = line.TrimEnd();
        if (line.Length < 3 || !Adornments.Contains(line[0], StringComparison.Ordinal))
        {
            return false;
        }
        foreach (var c in line)
        {
            if (c != line[0])
            {
                return false;
            }
        }
        return true;
    }
}
