// What a folder job indexes. Every entry is decided by the rules that apply to it, in this order, the last match
// winning (as in git): the default exclusions (as if they were the first lines of the root's .semsearchignore), then
// each .semsearchignore from the root down to the entry's own folder (its patterns relative to the folder that holds
// it), then the job's --exclude globs (relative to the root). A '!' line includes again what an earlier rule
// excluded — `!node_modules/` in a .semsearchignore indexes node_modules after all. A folder that is excluded is not
// walked, so nothing under it can be included again (git's rule too); it is reported once, as a folder. When the job
// has --include globs, a file must also match one of them.
namespace SemanticSearch.Engine.Indexing;

/// <summary>Include and exclude globs of a folder job (gitignore syntax, relative to the folder indexed).</summary>
/// <param name="Include">When not empty, only files matching one of these are indexed.</param>
/// <param name="Exclude">Excluded on top of the defaults and the .semsearchignore files; they win over both.</param>
public sealed record FolderFilter(IReadOnlyList<string> Include, IReadOnlyList<string> Exclude)
{
    /// <summary>The name of the ignore files read in every folder of a job.</summary>
    public const string IgnoreFileName = ".semsearchignore";

    /// <summary>No globs: the defaults and the .semsearchignore files only.</summary>
    public static FolderFilter None { get; } = new([], []);

    /// <summary>
    /// The default exclusions, each with what it is: hidden entries (a name starting with '.'), version-control
    /// folders, dependency folders, and common build outputs and caches.
    /// </summary>
    public static IReadOnlyList<(string Pattern, string What)> DefaultExclusions { get; } =
    [
        (".*", "hidden"),
        (".git/", "version control"), (".hg/", "version control"), (".svn/", "version control"), (".bzr/", "version control"),
        ("_darcs/", "version control"), ("CVS/", "version control"), (".jj/", "version control"),
        ("node_modules/", "dependencies"), ("bower_components/", "dependencies"), ("jspm_packages/", "dependencies"),
        ("vendor/bundle/", "dependencies"), (".venv/", "dependencies"), ("venv/", "dependencies"), ("site-packages/", "dependencies"),
        ("__pycache__/", "build output"), ("bin/", "build output"), ("obj/", "build output"), ("target/", "build output"),
        ("dist/", "build output"), ("build/", "build output"), ("_build/", "build output"), ("out/", "build output"),
        (".next/", "build output"), (".nuxt/", "build output"), (".gradle/", "build output"), (".tox/", "build output"),
        (".cache/", "build output"), ("coverage/", "build output"),
    ];

    internal static readonly IReadOnlyList<Rule> DefaultRules =
        [.. DefaultExclusions.Select(d => new Rule(IgnorePattern.Parse(d.Pattern)!, string.Empty, IgnoredEntry.DefaultExclusion, $"{d.Pattern} ({d.What})"))];

    /// <summary>Checks every glob: an empty or comment-only glob names the option at fault.</summary>
    /// <exception cref="Core.InvalidSettingException">A glob that matches nothing.</exception>
    public void Validate()
    {
        foreach (var (option, globs) in new[] { ("--include", Include), ("--exclude", Exclude) })
        {
            foreach (var g in globs)
            {
                if (IgnorePattern.Parse(g) is null || g.StartsWith('!'))
                {
                    throw new Core.InvalidSettingException(option, $"'{g}' is not a glob (blank, a comment, or a '!' negation; put negations in a {IgnoreFileName} file).");
                }
            }
        }
    }

    internal IReadOnlyList<Rule> ExcludeRules() =>
        [.. Exclude.Select(g => new Rule(IgnorePattern.Parse(g)!, string.Empty, IgnoredEntry.ByPattern, $"--exclude {g}"))];

    internal IReadOnlyList<IgnorePattern> IncludePatterns() => [.. Include.Select(g => IgnorePattern.Parse(g)!)];

    /// <summary>One pattern, the folder it is relative to ('' for the root) and what to say when it excludes.</summary>
    internal sealed record Rule(IgnorePattern Pattern, string Base, string Reason, string Source)
    {
        // Whether the pattern matches the path (relative to the root) below the rule's folder.
        public bool Matches(string relativePath, bool isDirectory)
        {
            if (Base.Length == 0)
            {
                return Pattern.Matches(relativePath, isDirectory);
            }
            return relativePath.StartsWith(Base + "/", StringComparison.Ordinal) && Pattern.Matches(relativePath[(Base.Length + 1)..], isDirectory);
        }
    }

    /// <summary>The rules in force in one folder: those of the folders above it, then its own ignore file's.</summary>
    internal sealed class Rules
    {
        private readonly IReadOnlyList<Rule> _inherited; // defaults and ignore files, root first
        private readonly IReadOnlyList<Rule> _last;      // --exclude, over everything

        public Rules(IReadOnlyList<Rule> inherited, IReadOnlyList<Rule> last)
        {
            _inherited = inherited;
            _last = last;
        }

        /// <summary>These rules with the lines of an ignore file of folder <paramref name="folder"/> added.</summary>
        public Rules With(string folder, string fileShown, IEnumerable<string> lines)
        {
            var own = new List<Rule>(_inherited);
            var n = 0;
            foreach (var line in lines)
            {
                n++;
                if (IgnorePattern.Parse(line) is { } p)
                {
                    own.Add(new Rule(p, folder, IgnoredEntry.ByPattern, $"{fileShown}:{n}: {p.Text}"));
                }
            }
            return new Rules(own, _last);
        }

        /// <summary>The rule that excludes the entry, or null when it is included (no match, or a '!' match last).</summary>
        public Rule? Excluding(string relativePath, bool isDirectory)
        {
            Rule? last = null;
            foreach (var rule in _inherited)
            {
                if (rule.Matches(relativePath, isDirectory))
                {
                    last = rule;
                }
            }
            foreach (var rule in _last)
            {
                if (rule.Matches(relativePath, isDirectory))
                {
                    last = rule;
                }
            }
            return last is null || last.Pattern.IsNegation ? null : last;
        }
    }
}

/// <summary>An entry of the folder that the job left out on purpose (not a failure: it never affects the exit code).</summary>
/// <param name="Path">The entry, relative to the folder ('/'-separated); a folder's ends with '/'.</param>
/// <param name="Reason">One of <see cref="ByPattern"/>, <see cref="DefaultExclusion"/>, <see cref="NotIncluded"/>, <see cref="SymbolicLink"/>, <see cref="UnsupportedType"/>.</param>
/// <param name="Detail">Which rule or what kind: the pattern and the file and line that hold it, the link's target, the extension.</param>
public sealed record IgnoredEntry(string Path, string Reason, string Detail)
{
    /// <summary>Excluded by a .semsearchignore line or an --exclude glob.</summary>
    public const string ByPattern = "ignored by pattern";

    /// <summary>Excluded by one of <see cref="FolderFilter.DefaultExclusions"/>.</summary>
    public const string DefaultExclusion = "default exclusion";

    /// <summary>A file that matches none of the job's --include globs.</summary>
    public const string NotIncluded = "not included";

    /// <summary>A symbolic link (to a file or a folder): never followed.</summary>
    public const string SymbolicLink = "symbolic link";

    /// <summary>A file of a type the extractors do not read.</summary>
    public const string UnsupportedType = "unsupported type";
}
