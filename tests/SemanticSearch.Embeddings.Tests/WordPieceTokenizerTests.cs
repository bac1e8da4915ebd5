using SemanticSearch.Embeddings.Tokenization;
using Xunit;

namespace SemanticSearch.Embeddings.Tests;

public sealed class WordPieceTokenizerTests
{
    private static readonly Lazy<WordPieceTokenizer> FromJson = new(() => WordPieceTokenizer.FromTokenizerJson(TestPaths.TokenizerJson));
    private static readonly Lazy<WordPieceTokenizer> FromVocab = new(() => WordPieceTokenizer.FromVocabFile(TestPaths.VocabTxt));

    [Fact]
    public void Encode_EverySciFactTitle_MatchesHuggingFaceReference()
    {
        var (titles, _) = TokenizerCorpus.SciFact(0);
        Assert.True(titles.Count > 5000, $"expected the full SciFact corpus, found {titles.Count} titles");
        AssertMatchesReference(titles);
    }

    [Fact]
    public void Encode_SciFactAbstracts_MatchesHuggingFaceReference()
    {
        var (_, abstracts) = TokenizerCorpus.SciFact(400);
        AssertMatchesReference(abstracts);
    }

    [Fact]
    public void Encode_EdgeCasesAndRandomMixtures_MatchesHuggingFaceReference()
    {
        var texts = TokenizerCorpus.EdgeCases.Concat(TokenizerCorpus.RandomMixtures(400, seed: 20261123)).ToList();
        Assert.True(texts.Count > 500);
        AssertMatchesReference(texts);
    }

    [Fact]
    public void Encode_HandWorkedExample_GivesKnownIds()
    {
        // Ids from bert-base-uncased vocab.txt (line number - 1): hello=7592 ','=1010 world=2088 '!'=999; "café" → "cafe"=7668.
        Assert.Equal([101, 7592, 1010, 2088, 999, 7668, 102], FromVocab.Value.Encode("Hello, World! Café", 512));
        Assert.Equal([101, 102], FromVocab.Value.Encode("", 512));
    }

    [Fact]
    public void Encode_SupplementaryPlaneIdeographs_EachIsolatedAsInRustTokenizers()
    {
        // Hugging Face's Rust BertNormalizer pads every CJK code point, U+20000.. included, so two adjacent rare
        // ideographs are two words, each [UNK] (100); "x"=1060.
        Assert.Equal([101, 100, 100, 1060, 102], FromJson.Value.Encode("\U00020000\U00020001x", 512));
    }

    [Fact]
    public void Encode_LongerThanBudget_KeepsHeadAndSeparator()
    {
        var (_, abstracts) = TokenizerCorpus.SciFact(1);
        var reference = ReferenceTokenizer.Encode(TestPaths.TokenizerJson, abstracts)[0];
        Assert.True(reference.Length > 40);
        int[] expected = [.. reference[..15], 102];
        Assert.Equal(expected, FromJson.Value.Encode(abstracts[0], 16));
        Assert.Equal(reference, FromJson.Value.Encode(abstracts[0], reference.Length));
    }

    [Fact]
    public void CountTokens_SciFactAbstract_EqualsReferenceLengthWithoutSpecials()
    {
        var (_, abstracts) = TokenizerCorpus.SciFact(20);
        var reference = ReferenceTokenizer.Encode(TestPaths.TokenizerJson, abstracts);
        for (var i = 0; i < abstracts.Count; i++)
        {
            Assert.Equal(reference[i].Length - 2, FromJson.Value.CountTokens(abstracts[i]));
        }
    }

    [Fact]
    public void CountTokens_WordsJoinedBySpace_IsAdditive()
    {
        var tokenizer = FromJson.Value;
        var words = TokenizerCorpus.EdgeCases.Where(w => w.Length > 0).ToArray();
        var random = new Random(7);
        for (var i = 0; i < 300; i++)
        {
            var a = words[random.Next(words.Length)];
            var b = words[random.Next(words.Length)];
            Assert.Equal(tokenizer.CountTokens(a) + tokenizer.CountTokens(b), tokenizer.CountTokens(a + " " + b));
        }
    }

    [Fact]
    public void FromTokenizerJson_UnsupportedModel_NamesTheField()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "tokenizer.json");
        File.WriteAllText(path, """{"model":{"type":"BPE","vocab":{}}}""");
        var e = Assert.Throws<SemanticSearch.Core.InvalidSettingException>(() => WordPieceTokenizer.FromTokenizerJson(path));
        Assert.Contains("model.type", e.Message);
    }

    [Fact]
    public void FromDirectory_OnlyVocabTxt_Works()
    {
        using var dir = new TempDirectory();
        File.Copy(TestPaths.VocabTxt, Path.Combine(dir.Path, "vocab.txt"));
        Assert.Equal(FromJson.Value.Encode("Directory with vocab only.", 512), WordPieceTokenizer.FromDirectory(dir.Path).Encode("Directory with vocab only.", 512));
    }

    private static void AssertMatchesReference(IReadOnlyList<string> texts)
    {
        var reference = ReferenceTokenizer.Encode(TestPaths.TokenizerJson, texts);
        Assert.Equal(texts.Count, reference.Length);
        foreach (var (name, tokenizer) in new[] { ("tokenizer.json", FromJson.Value), ("vocab.txt", FromVocab.Value) })
        {
            var mismatches = new List<string>();
            for (var i = 0; i < texts.Count; i++)
            {
                var ours = tokenizer.Encode(texts[i], int.MaxValue);
                if (!ours.AsSpan().SequenceEqual(reference[i]))
                {
                    mismatches.Add($"{System.Text.Json.JsonSerializer.Serialize(texts[i])}: ours [{string.Join(",", ours)}] reference [{string.Join(",", reference[i])}]");
                }
            }

            Assert.True(mismatches.Count == 0, $"{name}: {mismatches.Count} of {texts.Count} differ from @huggingface/tokenizers:\n{string.Join("\n", mismatches.Take(10))}");
        }
    }
}
