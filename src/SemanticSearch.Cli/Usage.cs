// A command line that is wrong — one the parser cannot read (an unknown option, a missing argument, a value of the
// wrong form) or one a command refuses before doing anything (an empty query, --mode psychic) — gets one line naming
// the problem and the usage of that command, never the whole help or a .NET type name, and exit code 64 (sysexits'
// EX_USAGE), so a script can tell "you called it wrong" from "it failed".
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using SemanticSearch.Core;

namespace SemanticSearch.Cli;

/// <summary>A value on the command line that a command refuses (exit code <see cref="ExitCodes.Usage"/>).</summary>
internal sealed class UsageException : SemanticSearchException
{
    /// <summary>A refusal of <paramref name="option"/> (an option such as <c>--mode</c>, or an argument such as <c>query</c>).</summary>
    public UsageException(string option, string message) : base($"{option}: {message}") => Option = option;

    /// <summary>The option or argument at fault.</summary>
    public string Option { get; }

    /// <summary>The engine's refusal of a field, said as a refusal of the command-line <paramref name="option"/> that set it.</summary>
    public static UsageException From(InvalidSettingException e, string option)
    {
        var prefix = e.Setting + ": ";
        return new UsageException(option, e.Message.StartsWith(prefix, StringComparison.Ordinal) ? e.Message[prefix.Length..] : e.Message);
    }
}

/// <summary>Turns parse errors and refused values into one line and the command's usage.</summary>
internal static class Usage
{
    /// <summary>Prints the first parse error of <paramref name="parse"/> and the usage of its command; returns <see cref="ExitCodes.Usage"/>.</summary>
    public static int ReportParseErrors(ParseResult parse)
    {
        Console.Error.WriteLine($"error: {Describe(parse)}");
        Console.Error.WriteLine($"usage: {Synopsis(parse.CommandResult)}");
        return ExitCodes.Usage;
    }

    /// <summary>The one line for a refused value, with where to read about the command.</summary>
    public static void ReportRefusal(ParseResult parse, UsageException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        Console.Error.WriteLine($"usage: {Synopsis(parse.CommandResult)}");
    }

    // The problem, in the words of the command line: the token the parser could not place, the value that is not of
    // its option's type (said as "a whole number", not as System.Int32), or the parser's own sentence for the rest
    // (a missing required option or argument), which names no type.
    private static string Describe(ParseResult parse)
    {
        // An unknown option before an argument is taken as that argument's value ("search --foo x": the query is
        // "--foo", and "x" is left over), so look for it among the argument tokens first.
        foreach (var token in parse.Tokens)
        {
            if (token.Type == TokenType.Argument && token.Value.Length > 1 && token.Value[0] == '-'
                && !double.TryParse(token.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                return $"unknown option '{token.Value}' for '{PathOf(parse.CommandResult)}'.";
            }
        }
        if (parse.UnmatchedTokens.Count > 0)
        {
            var token = parse.UnmatchedTokens[0];
            return token.StartsWith('-') && token.Length > 1
                ? $"unknown option '{token}' for '{PathOf(parse.CommandResult)}'."
                : $"unexpected argument '{token}' for '{PathOf(parse.CommandResult)}'.";
        }
        foreach (var error in parse.Errors)
        {
            if (BadValue(error.SymbolResult) is { } bad)
            {
                return bad;
            }
        }
        var command = parse.CommandResult.Command;
        foreach (var argument in command.Arguments)
        {
            if (argument.Arity.MinimumNumberOfValues > 0 && parse.GetResult(argument) is not { Tokens.Count: > 0 })
            {
                return $"<{argument.Name}> is missing.";
            }
        }
        foreach (var option in command.Options)
        {
            if (option.Required && parse.GetResult(option) is not { Implicit: false })
            {
                return $"{option.Name} is required.";
            }
        }
        if (command.Subcommands.Count > 0 && command.Action is null)
        {
            return $"name a command: {string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}.";
        }
        return parse.Errors[0].Message;
    }

    // A token of an option or argument that does not convert to the value's type.
    private static string? BadValue(SymbolResult? result)
    {
        var (name, type, tokens) = result switch
        {
            OptionResult o => (o.Option.Name, o.Option.ValueType, o.Tokens),
            ArgumentResult a when a.Parent is OptionResult o => (o.Option.Name, o.Option.ValueType, a.Tokens),
            ArgumentResult a => ($"<{a.Argument.Name}>", a.Argument.ValueType, a.Tokens),
            _ => (null, null, null),
        };
        if (name is null || type is null || tokens is null)
        {
            return null;
        }
        var element = type.IsArray ? type.GetElementType()! : type;
        element = Nullable.GetUnderlyingType(element) ?? element;
        var kind = KindOf(element);
        if (kind is null)
        {
            return null;
        }
        foreach (var token in tokens)
        {
            if (!Converts(token.Value, element))
            {
                return $"{name}: '{token.Value}' is not {kind}.";
            }
        }
        return null;
    }

    private static string? KindOf(Type t) =>
        t == typeof(int) || t == typeof(long) ? "a whole number"
        : t == typeof(double) || t == typeof(float) ? "a number"
        : t == typeof(bool) ? "true or false"
        : null;

    private static bool Converts(string value, Type t) =>
        t == typeof(int) ? int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
        : t == typeof(long) ? long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
        : t == typeof(double) || t == typeof(float) ? double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
        : t != typeof(bool) || bool.TryParse(value, out _);

    /// <summary>
    /// <c>semsearch search &lt;query&gt; --index &lt;index&gt; [options]</c>: the command's path, its arguments, its
    /// required options and, when it has others, <c>[options]</c>; a command of subcommands lists them.
    /// </summary>
    internal static string Synopsis(CommandResult result)
    {
        var command = result.Command;
        var parts = new List<string> { PathOf(result) };
        if (command.Subcommands.Count > 0)
        {
            parts.Add(string.Join('|', command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name)));
        }
        foreach (var argument in command.Arguments.Where(a => !a.Hidden))
        {
            var label = $"<{argument.Name}>" + (argument.Arity.MaximumNumberOfValues > 1 ? "..." : "");
            parts.Add(argument.Arity.MinimumNumberOfValues == 0 ? $"[{label}]" : label);
        }
        var options = command.Options.Where(o => !o.Hidden).ToList();
        foreach (var option in options.Where(o => o.Required))
        {
            parts.Add($"{option.Name} <{option.Name.TrimStart('-')}>");
        }
        if (options.Any(o => !o.Required))
        {
            parts.Add("[options]");
        }
        return $"{string.Join(' ', parts)}   (see '{PathOf(result)} --help')";
    }

    private static string PathOf(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is CommandResult c)
            {
                names.Add(c.Parent is null ? "semsearch" : c.Command.Name);
            }
        }
        names.Reverse();
        return string.Join(' ', names);
    }
}
