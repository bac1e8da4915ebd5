using SemanticSearch.Core.Text;

namespace SemanticSearch.Tests.Text;

/// <summary>Optimal string alignment distances worked out by hand.</summary>
public sealed class EditDistanceTests
{
    [Theory]
    [InlineData("", "", 0)]
    [InlineData("", "abc", 3)]
    [InlineData("abc", "abc", 0)]
    [InlineData("kitten", "sitting", 3)] // k→s, e→i, +g
    [InlineData("ca", "ac", 1)] // one adjacent transposition
    [InlineData("anemnoes", "anemones", 1)] // "no" ↔ "on"
    [InlineData("ca", "abc", 3)] // no substring edited twice: 3, where unrestricted Damerau–Levenshtein gives 2
    [InlineData("Query", "query", 1)] // ordinal, case-sensitive
    public void OptimalStringAlignment_KnownPairs_TheirDistance(string a, string b, int expected)
    {
        Assert.Equal(expected, EditDistance.OptimalStringAlignment(a, b));
        Assert.Equal(expected, EditDistance.OptimalStringAlignment(b, a));
    }
}
