using SemanticSearch.Engine.Search;

namespace SemanticSearch.Tests.Search;

/// <summary>Snippet windows, and the way back from a snippet's characters to the text they were cut from.</summary>
public sealed class SnippetsTests
{
    // 60 filler words with irregular whitespace (tabs, newlines, double spaces), one "needle" far from the start
    private static string Text()
    {
        var words = Enumerable.Range(0, 60).Select(i => i == 41 ? "needle" : $"filler{i}").ToArray();
        var separators = new[] { " ", "\t", "\n\n", "  ", " \r\n " };
        return "  " + string.Concat(words.Select((w, i) => w + separators[i % separators.Length]));
    }

    [Fact]
    public void Window_LongText_CentresOnTheQueryWordAndMapsEveryWordBack()
    {
        var text = Text();
        var window = Snippets.Window(text, "needle", width: 80);
        Assert.StartsWith("…", window.Text);
        Assert.EndsWith("…", window.Text);
        Assert.Contains("needle", window.Text);
        Assert.True(window.Text.Length <= 80 + 2 + 12, window.Text);
        // every word of the snippet is found, through the map, at a place in the text holding that same word
        var at = 0;
        foreach (var word in window.Text.Trim('…').Split(' '))
        {
            at = window.Text.IndexOf(word, at, StringComparison.Ordinal);
            var inText = window.TextOffsetOf(at);
            Assert.Equal(word, text.Substring(inText, word.Length));
            // and a character inside the word maps inside it too
            Assert.Equal(word[1..], text.Substring(window.TextOffsetOf(at + 1), word.Length - 1));
            at += word.Length;
        }
        Assert.Equal(text.IndexOf("needle", StringComparison.Ordinal), window.TextOffsetOf(window.Text.IndexOf("needle", StringComparison.Ordinal)));
    }

    [Fact]
    public void Window_ShortText_IsTheWholeTextFlattened()
    {
        var window = Snippets.Window("\n  alpha\t\tbeta\n gamma ", "beta");
        Assert.Equal("alpha beta gamma", window.Text);
        Assert.Equal(3, window.TextOffsetOf(0));
        Assert.Equal("\n  alpha\t\t".Length, window.TextOffsetOf(6));
        Assert.Equal(Snippets.Build("\n  alpha\t\tbeta\n gamma ", "beta"), window.Text);
        Assert.Equal(0, Snippets.Window("   ", "x").TextOffsetOf(0));
    }
}
