// One line of a gitignore-syntax file, compiled. The rules are git's (gitignore(5)):
// - a blank line or one starting with '#' matches nothing ('\#' is a literal '#'); trailing spaces are dropped unless
//   escaped with a backslash;
// - a leading '!' negates the pattern: a path it matches is included again ('\!' is a literal '!');
// - a trailing '/' makes the pattern match directories only;
// - a pattern with a '/' at its start or in its middle is anchored: it matches the path relative to the folder of the
//   file that holds it; one without matches a name at any depth below that folder;
// - '*' matches anything but '/', '?' one character but '/', '[a-z]' / '[!a-z]' a character class, '\x' the
//   character x; a leading '**/' matches in every folder, a trailing '/**' everything inside, '/**/' zero or more
//   folders; any other '**' is an ordinary '*'.
// The matcher backtracks over a compiled token list with a memo of (token, position) pairs, so it is polynomial in
// the pattern and path lengths whatever the pattern.
using System.Text;

namespace SemanticSearch.Engine.Indexing;

/// <summary>A gitignore-syntax pattern (one line of a <c>.semsearchignore</c>, or an <c>--include</c>/<c>--exclude</c> glob).</summary>
public sealed class IgnorePattern
{
    private enum Kind
    {
        Literal,
        Any,          // '?'
        Star,         // '*'
        Class,        // '[...]'
        AnyFolders,   // '**/': zero or more whole folders
        Rest,         // '/**' at the end: one or more characters of anything
    }

    private readonly record struct Token(Kind Kind, char Char = '\0', string? Set = null, bool Negated = false);

    private readonly Token[] _tokens;
    private readonly string? _literal; // the whole pattern when it has no wildcard: matched by equality

    private IgnorePattern(string text, Token[] tokens, bool negated, bool directoryOnly, bool anchored)
    {
        Text = text;
        _tokens = tokens;
        _literal = tokens.All(t => t.Kind == Kind.Literal) ? new string([.. tokens.Select(t => t.Char)]) : null;
        IsNegation = negated;
        DirectoryOnly = directoryOnly;
        IsAnchored = anchored;
    }

    /// <summary>The line as written (trailing spaces dropped).</summary>
    public string Text { get; }

    /// <summary>True for a '!' line: a path it matches is included again.</summary>
    public bool IsNegation { get; }

    /// <summary>True for a pattern that ends with '/': it matches directories only.</summary>
    public bool DirectoryOnly { get; }

    /// <summary>True when the pattern holds a '/' (other than a trailing one): it matches whole relative paths, not names.</summary>
    public bool IsAnchored { get; }

    /// <summary>The pattern of one line, or null for a blank line or a comment.</summary>
    public static IgnorePattern? Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var text = TrimTrailingSpaces(line.TrimEnd('\r'));
        if (text.Length == 0 || text[0] == '#')
        {
            return null;
        }
        var body = text;
        var negated = false;
        if (body[0] == '!')
        {
            negated = true;
            body = body[1..];
        }
        else if (body.StartsWith("\\!", StringComparison.Ordinal) || body.StartsWith("\\#", StringComparison.Ordinal))
        {
            body = body[1..];
        }
        var directoryOnly = false;
        if (body.EndsWith('/') && !body.EndsWith("\\/", StringComparison.Ordinal))
        {
            directoryOnly = true;
            body = body.TrimEnd('/');
        }
        if (body.Length == 0)
        {
            return null; // "/" or "!" alone: nothing to match
        }
        var anchored = body.Contains('/');
        if (body[0] == '/')
        {
            body = body[1..];
        }
        return new IgnorePattern(text, Compile(body), negated, directoryOnly, anchored);
    }

    /// <summary>
    /// Whether the pattern matches <paramref name="relativePath"/> ('/'-separated, relative to the folder of the file
    /// that holds the pattern); <paramref name="isDirectory"/> says whether the path names a directory.
    /// </summary>
    public bool Matches(string relativePath, bool isDirectory)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        if (DirectoryOnly && !isDirectory)
        {
            return false;
        }
        var subject = IsAnchored ? relativePath : relativePath[(relativePath.LastIndexOf('/') + 1)..];
        if (_literal is not null)
        {
            return string.Equals(subject, _literal, StringComparison.Ordinal);
        }
        var memo = new bool?[_tokens.Length + 1, subject.Length + 1];
        return Match(0, 0, subject, memo);
    }

    /// <inheritdoc />
    public override string ToString() => Text;

    private bool Match(int t, int s, string subject, bool?[,] memo)
    {
        if (memo[t, s] is { } known)
        {
            return known;
        }
        bool result;
        if (t == _tokens.Length)
        {
            result = s == subject.Length;
        }
        else
        {
            var token = _tokens[t];
            switch (token.Kind)
            {
                case Kind.Literal:
                    result = s < subject.Length && subject[s] == token.Char && Match(t + 1, s + 1, subject, memo);
                    break;
                case Kind.Any:
                    result = s < subject.Length && subject[s] != '/' && Match(t + 1, s + 1, subject, memo);
                    break;
                case Kind.Class:
                    result = s < subject.Length && subject[s] != '/' && InClass(token, subject[s]) && Match(t + 1, s + 1, subject, memo);
                    break;
                case Kind.Star:
                    result = false;
                    for (var k = s; ; k++)
                    {
                        if (Match(t + 1, k, subject, memo))
                        {
                            result = true;
                            break;
                        }
                        if (k == subject.Length || subject[k] == '/')
                        {
                            break;
                        }
                    }
                    break;
                case Kind.AnyFolders:
                    result = Match(t + 1, s, subject, memo);
                    for (var k = s; !result && k < subject.Length; k++)
                    {
                        if (subject[k] == '/')
                        {
                            result = Match(t + 1, k + 1, subject, memo);
                        }
                    }
                    break;
                default: // Rest
                    result = s < subject.Length;
                    break;
            }
        }
        memo[t, s] = result;
        return result;
    }

    private static bool InClass(Token token, char c)
    {
        var set = token.Set!;
        var found = false;
        for (var i = 0; i < set.Length && !found; i++)
        {
            if (i + 2 < set.Length && set[i + 1] == '-')
            {
                found = c >= set[i] && c <= set[i + 2];
                i += 2;
            }
            else
            {
                found = c == set[i];
            }
        }
        return found != token.Negated;
    }

    private static Token[] Compile(string body)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < body.Length)
        {
            var c = body[i];
            if (c == '\\' && i + 1 < body.Length)
            {
                tokens.Add(new Token(Kind.Literal, body[i + 1]));
                i += 2;
            }
            else if (c == '*' && i + 1 < body.Length && body[i + 1] == '*')
            {
                var atStart = i == 0 || body[i - 1] == '/';
                var end = i + 2;
                if (atStart && end < body.Length && body[end] == '/')
                {
                    tokens.Add(new Token(Kind.AnyFolders)); // "**/" at the start or after a '/'
                    i = end + 1;
                }
                else if (atStart && end == body.Length && i > 0)
                {
                    // "/**" at the end: the '/' before it is already a literal; anything inside follows
                    tokens.Add(new Token(Kind.Rest));
                    i = end;
                }
                else if (atStart && end == body.Length)
                {
                    tokens.Add(new Token(Kind.Rest)); // "**" alone: everything
                    i = end;
                }
                else
                {
                    tokens.Add(new Token(Kind.Star));
                    while (i < body.Length && body[i] == '*')
                    {
                        i++;
                    }
                }
            }
            else if (c == '*')
            {
                tokens.Add(new Token(Kind.Star));
                i++;
            }
            else if (c == '?')
            {
                tokens.Add(new Token(Kind.Any));
                i++;
            }
            else if (c == '[' && body.IndexOf(']', i + 2) is var close and > 0)
            {
                var negated = body[i + 1] is '!' or '^';
                var from = negated ? i + 2 : i + 1;
                if (negated && body.IndexOf(']', from + 1) is var negClose and > 0)
                {
                    close = negClose;
                }
                tokens.Add(new Token(Kind.Class, Set: body[from..close], Negated: negated));
                i = close + 1;
            }
            else
            {
                tokens.Add(new Token(Kind.Literal, c));
                i++;
            }
        }
        return [.. tokens];
    }

    private static string TrimTrailingSpaces(string line)
    {
        var end = line.Length;
        while (end > 0 && line[end - 1] == ' ' && !(end >= 2 && line[end - 2] == '\\'))
        {
            end--;
        }
        var trimmed = line[..end];
        return trimmed.EndsWith("\\ ", StringComparison.Ordinal) ? new StringBuilder(trimmed).Remove(trimmed.Length - 2, 1).ToString() : trimmed;
    }
}
