using SemanticSearch.Lexical;


namespace SemanticSearch.Tests.Lexical;

/// <summary>Highlights as BM25 matches: stems mark their variants, stop words and prefixes mark nothing, exclusions are not marked.</summary>
public sealed class HighlightTests
{
    private static List<string> Marked(string text, string query)
    {
        using var dir = new TempDir();
        using var index = LexicalIndex.OpenWritable(dir.Path, new LexicalOptions());
        return index.Highlights(text, LexicalQuery.Parse(query)).Select(s => text.Substring(s.Start, s.Length)).ToList();
    }

    [Fact]
    public void Highlights_StopWordAndPrefix_MarkNothing_StemsMarkTheirVariants()
    {
        // "How" is the word "how" (a term of BM25's English analyzer), "However" only starts with it; "the" is a stop
        // word; "volcanoes" and "volcano", "eruption" and "erupted" share their stems
        Assert.Equal(["How", "volcano", "erupted", "volcanoes", "eruptions"],
            Marked("How the volcano erupted. However, the volcanoes' eruptions were small.", "how do the volcanoes erupt"));
    }

    [Fact]
    public void Highlights_PhraseAndRequiredWordsMarked_ExcludedWordsNot()
    {
        Assert.Equal(["Tide", "pools", "crabs"], Marked("Tide pools hold crabs and anemones.", "\"tide pools\" +crabs -anemones"));
    }

    [Fact]
    public void Highlights_QueryOfStopWordsOnly_MarksNothing() => Assert.Empty(Marked("It is the one that was there.", "it is the that was"));
}
