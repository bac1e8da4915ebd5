using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;

namespace SemanticSearch.Tests.Chunking;

public sealed class TextChunkerTests
{
    private static readonly string[] Words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"];

    private static string RandomText(int seed, int paragraphs)
    {
        var rng = new Random(seed);
        var sb = new System.Text.StringBuilder();
        for (var p = 0; p < paragraphs; p++)
        {
            var sentences = rng.Next(1, 8);
            for (var s = 0; s < sentences; s++)
            {
                var n = rng.Next(1, 40);
                for (var w = 0; w < n; w++)
                {
                    sb.Append(Words[rng.Next(Words.Length)]);
                    sb.Append(w == n - 1 ? ". " : " ");
                }
            }
            sb.Append(rng.Next(3) == 0 ? "\n" : "\n\n");
        }
        return sb.ToString();
    }

    [Theory]
    [InlineData(1, 16, 0)]
    [InlineData(2, 32, 4)]
    [InlineData(3, 64, 16)]
    [InlineData(4, 10, 2)]
    public void Chunk_RandomText_ChunksAreExactSubstringsWithinBudgetCoveringEveryWord(int seed, int maxTokens, int overlap)
    {
        var text = RandomText(seed, 20);
        var chunker = new TextChunker(WhitespaceTokenCounter.Instance, new ChunkingOptions(maxTokens, overlap));
        var chunks = chunker.Chunk(text);

        Assert.NotEmpty(chunks);
        var covered = new bool[text.Length];
        var previousStart = -1;
        for (var i = 0; i < chunks.Count; i++)
        {
            var c = chunks[i];
            Assert.Equal(i, c.Ordinal);
            Assert.Equal(text.Substring(c.Start, c.Length), c.Text);
            Assert.True(c.Start > previousStart, "chunks advance through the text");
            previousStart = c.Start;
            var words = c.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
            Assert.Equal(words, c.TokenCount);
            Assert.True(words <= maxTokens, $"chunk {i} has {words} words, budget {maxTokens}");
            for (var k = c.Start; k < c.End; k++)
            {
                covered[k] = true;
            }
        }
        for (var k = 0; k < text.Length; k++)
        {
            Assert.True(covered[k] || char.IsWhiteSpace(text[k]), $"character {k} ('{text[k]}') is in no chunk");
        }
    }

    [Fact]
    public void Chunk_WithOverlap_ConsecutiveChunksShareTextWithinOverlapBudget()
    {
        var text = RandomText(7, 30);
        var chunks = new TextChunker(WhitespaceTokenCounter.Instance, new ChunkingOptions(40, 12)).Chunk(text);
        Assert.True(chunks.Count > 3);
        var overlapping = 0;
        for (var i = 1; i < chunks.Count; i++)
        {
            var shared = Math.Max(0, chunks[i - 1].End - chunks[i].Start);
            if (shared > 0)
            {
                overlapping++;
                var sharedWords = text.Substring(chunks[i].Start, shared).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
                Assert.True(sharedWords <= 12, $"overlap of {sharedWords} words exceeds 12");
            }
        }
        Assert.True(overlapping > 0, "with overlap configured, some consecutive chunks share text");
    }

    [Fact]
    public void Chunk_ShortParagraphs_EndsChunksAtParagraphBoundaries()
    {
        // three paragraphs of 6 words each; a budget of 10 cannot hold two, so each paragraph is its own chunk
        var text = "one two three four five six.\n\nseven eight nine ten eleven twelve.\n\nthirteen fourteen fifteen sixteen seventeen eighteen.";
        var chunks = new TextChunker(WhitespaceTokenCounter.Instance, new ChunkingOptions(10, 0)).Chunk(text);
        Assert.Equal(["one two three four five six.", "seven eight nine ten eleven twelve.", "thirteen fourteen fifteen sixteen seventeen eighteen."], chunks.Select(c => c.Text));
    }

    [Fact]
    public void Chunk_SentencesFitTogether_PacksWholeSentences()
    {
        var text = "A b c. D e f. G h i. J k l.";
        var chunks = new TextChunker(WhitespaceTokenCounter.Instance, new ChunkingOptions(8, 0)).Chunk(text);
        Assert.Equal(["A b c. D e f.", "G h i. J k l."], chunks.Select(c => c.Text));
    }

    [Fact]
    public void Chunk_EmptyOrWhitespace_ReturnsNoChunks()
    {
        var chunker = new TextChunker(WhitespaceTokenCounter.Instance, new ChunkingOptions(16, 0));
        Assert.Empty(chunker.Chunk(string.Empty));
        Assert.Empty(chunker.Chunk(" \n\t\n  "));
    }

    [Fact]
    public void Chunk_WordLongerThanBudget_IsSplitIntoRunsThatEachFit()
    {
        // a counter that counts characters exposes the character-run fallback: a 100-char word, budget 30
        var counter = new CharCounter();
        var text = "short " + new string('x', 100) + " tail";
        var chunks = new TextChunker(counter, new ChunkingOptions(30, 0)).Chunk(text);
        Assert.All(chunks, c => Assert.True(counter.CountTokens(c.Text) <= 30));
        Assert.Equal(100, chunks.Sum(c => c.Text.Count(ch => ch == 'x')));
        Assert.All(chunks, c => Assert.Equal(text.Substring(c.Start, c.Length), c.Text));
    }

    [Theory]
    [InlineData(4, 0)]
    [InlineData(64, 40)]
    [InlineData(64, -1)]
    public void Constructor_BadOptions_ThrowsNamingTheSetting(int max, int overlap)
    {
        var e = Assert.Throws<InvalidSettingException>(() => new TextChunker(WhitespaceTokenCounter.Instance, new ChunkingOptions(max, overlap)));
        Assert.StartsWith("chunking.", e.Setting);
    }

    [Fact]
    public void WhitespaceTokenCounter_CountsWordsAcrossAnyWhitespace()
    {
        Assert.Equal(0, WhitespaceTokenCounter.Instance.CountTokens("  \n "));
        Assert.Equal(4, WhitespaceTokenCounter.Instance.CountTokens(" a\tbb\n\nccc  d"));
    }

    private sealed class CharCounter : ITokenCounter
    {
        public int CountTokens(string text) => text.Count(c => !char.IsWhiteSpace(c));
    }
}
