using SemanticSearch.Engine.Indexing;

namespace SemanticSearch.Tests.Indexing;

/// <summary>The gitignore syntax of .semsearchignore lines and --include/--exclude globs, as gitignore(5) defines it.</summary>
public sealed class IgnorePatternTests
{
    private static bool Matches(string pattern, string path, bool isDirectory = false) =>
        IgnorePattern.Parse(pattern)!.Matches(path, isDirectory);

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("# a comment")]
    public void Parse_BlankOrComment_IsNoPattern(string line) => Assert.Null(IgnorePattern.Parse(line));

    [Theory]
    [InlineData("*.log", "app.log", true)]
    [InlineData("*.log", "deep/down/app.log", true)]   // no slash: a name at any depth
    [InlineData("*.log", "app.log.txt", false)]
    [InlineData("?.md", "a.md", true)]
    [InlineData("?.md", "ab.md", false)]
    [InlineData("[ab]c.txt", "bc.txt", true)]
    [InlineData("[!ab]c.txt", "bc.txt", false)]
    [InlineData("[a-c]x", "cx", true)]
    [InlineData("\\#hash", "#hash", true)]
    [InlineData("/top.md", "top.md", true)]             // leading slash: anchored to the folder
    [InlineData("/top.md", "sub/top.md", false)]
    [InlineData("docs/*.md", "docs/a.md", true)]        // a middle slash anchors too
    [InlineData("docs/*.md", "x/docs/a.md", false)]
    [InlineData("docs/*.md", "docs/sub/a.md", false)]   // '*' never crosses '/'
    [InlineData("**/drafts", "a/b/drafts", true)]
    [InlineData("**/drafts", "drafts", true)]
    [InlineData("docs/**/*.md", "docs/a.md", true)]     // '/**/' is zero or more folders
    [InlineData("docs/**/*.md", "docs/x/y/a.md", true)]
    [InlineData("docs/**", "docs/x/y/a.md", true)]
    [InlineData("docs/**", "docs", false)]              // everything inside, not the folder itself
    [InlineData("a**b", "axxb", true)]                  // any other '**' is a '*'
    [InlineData("a**b", "ax/xb", false)]
    public void Matches_GitignoreSemantics(string pattern, string path, bool expected) =>
        Assert.Equal(expected, Matches(pattern, path));

    [Fact]
    public void Matches_TrailingSlash_MatchesDirectoriesOnly()
    {
        Assert.True(Matches("build/", "build", isDirectory: true));
        Assert.True(Matches("build/", "src/build", isDirectory: true));
        Assert.False(Matches("build/", "build", isDirectory: false));
    }

    [Fact]
    public void Parse_Negation_IsMarkedAndMatchesTheRest()
    {
        var p = IgnorePattern.Parse("!keep.log")!;
        Assert.True(p.IsNegation);
        Assert.True(p.Matches("keep.log", false));
        Assert.False(IgnorePattern.Parse("\\!bang")!.IsNegation);
        Assert.True(IgnorePattern.Parse("\\!bang")!.Matches("!bang", false));
    }

    [Fact]
    public void Parse_TrailingSpaces_AreDroppedUnlessEscaped()
    {
        Assert.True(Matches("notes.txt   ", "notes.txt"));
        Assert.True(Matches("odd\\ ", "odd "));
    }

    [Fact]
    public void Matches_ManyStars_StaysFast()
    {
        // a pattern that makes a naive backtracker exponential
        var pattern = string.Concat(Enumerable.Repeat("*a", 30)) + "*b";
        var path = new string('a', 200);
        Assert.False(Matches(pattern, path));
    }
}
