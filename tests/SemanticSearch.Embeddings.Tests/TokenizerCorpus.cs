using System.Text;
using System.Text.Json;

namespace SemanticSearch.Embeddings.Tests;

/// <summary>Strings for the tokenizer comparison: SciFact text plus hand-picked and seeded-random edge cases.</summary>
internal static class TokenizerCorpus
{
    /// <summary>
    /// Edge cases by category. Left out on purpose: unassigned code points (the JS reference keeps them, Hugging Face's
    /// Rust tokenizer drops them as "other") and a word-final capital sigma (JS lowercases it to final 'ς' by context,
    /// Rust to 'σ') and supplementary-plane CJK ideographs such as U+20000 (the JS reference tests UTF-16 units, so it
    /// does not isolate them; Rust does). On these the two Hugging Face implementations disagree, and this tokenizer
    /// follows the Rust one; WordPieceTokenizerTests pins that behaviour by hand.
    /// </summary>
    public static readonly string[] EdgeCases =
    [
        "", " ", "   ", "\t\n\r", "a", "A", "Hello, World!", "HeLLo WoRLD", "iPhone", "McDonald's", "don't stop",
        // accents and compatibility characters
        "Café", "naïve", "Ångström", "résumé", "Ñandú", "Øresund", "Zürich", "façade", "crème brûlée", "e\u0301te\u0301",
        "İstanbul", "straße", "ﬁne ﬂow", "Ⅻ chapter", "½ cup", "x² + y³", "０１２３ ＡＢＣ", "Ǆemal", "ŉ", "Ḱ ḱ ẞ",
        // CJK, kana, hangul and other scripts
        "北京大学", "日本語のテキストです", "한국어 텍스트", "AI模型ABC训练", "中文，标点。", "カタカナ ｶﾀｶﾅ",
        "Привет, мир!", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีครับ", "Γειά σου κόσμε", "Ελλάδα", "ΑΘΗΝΑ",
        // emoji and symbols
        "🙂", "👍🏽 thumbs", "family 👨‍👩‍👧 emoji", "🚀rocket", "🇫🇷 flag", "I ❤️ NY", "★☆✓✗", "©®™", "∑∫∂√∞≈≠≤≥", "→ ← ↑ ↓",
        "€100 £50 ¥20 ₹5", "°C ±0.5", "µg/mL", "∼10%", "Gr-1+CD11b+", "CD4+ T cells", "α-helix β-sheet γδ", "5′-UTR 3′",
        // punctuation runs
        "!!!???", "...", "…", "--", "—–-", "(a)[b]{c}<d>", "«quoted» ‹x›", "¿Qué? ¡Sí!", "“smart quotes”", "‘single’",
        "a+b=c", "x^2", "$100", "50%", "#hashtag", "@user", "~tilde~", "`code`", "|pipe|", "back\\slash", "a/b/c", "a_b_c",
        "*bold* _it_", "::", ";;", "\"\"", "''", "&amp;", "1.2.3", "...and then", "end.", "?!", "·•", "§¶", "†‡",
        // control and invisible characters
        "\u0000", "a\u0000b", "\u0007bell", "\u001b[31mred\u001b[0m", "zero\u200bwidth", "join\u200dner", "\ufeffBOM",
        "soft\u00adhyphen", "rep\ufffdlace", "del\u007fete", "\u0085next line", "ltr\u200emark", "\u2060word joiner",
        "private\ue000use",
        // very long words
        new string('a', 99), new string('a', 100), new string('a', 101), string.Concat(Enumerable.Repeat("ab", 60)),
        string.Concat(Enumerable.Repeat("pneumonoultramicroscopicsilicovolcanoconiosis", 3)),
        string.Concat(Enumerable.Repeat("é", 101)), string.Concat(Enumerable.Repeat("🙂", 60)), string.Concat(Enumerable.Repeat("x", 300)) + " ok",
        // numbers
        "3.14159", "1,000,000", "1e-10", "-42", "+7", "0x1F", "2024-01-15", "12:30:45", "v1.2.3-beta", "10^6", "№ 5",
        // URLs, e-mail, code
        "https://example.com/path?q=1&r=2#frag", "user@example.org", "www.test.co.uk", "C:\\Program Files\\x",
        "foo(bar, baz) { return x[0]; }", "SELECT * FROM t WHERE id=1;", "<html><body>hi</body></html>",
        // whitespace variants
        "a\tb\nc\r\nd", "  leading", "trailing  ", "multiple   spaces", "\u00a0nbsp\u00a0", "\u3000ideographic\u3000space",
        "line\u2028separator", "para\u2029separator", "thin\u2009space", "\u1680ogham", "vertical\u000btab", "form\u000cfeed",
        // added (special) tokens in the text
        "[MASK]", "[CLS] x [SEP]", "[mask] lower", "a[UNK]b", "[PAD][PAD]", "[CLS", "[ SEP ]", "x [MASK]y",
    ];

    /// <summary>Seeded random mixtures of the edge cases and random code points from several blocks.</summary>
    public static IEnumerable<string> RandomMixtures(int count, int seed)
    {
        var random = new Random(seed);
        (int From, int To)[] blocks =
        [
            (0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x2000, 0x206F), (0x2190, 0x22FF),
            (0x3000, 0x30FF), (0x4E00, 0x4EFF), (0xAC00, 0xAC80), (0xFF00, 0xFF60), (0x1F300, 0x1F64F),
        ];
        for (var i = 0; i < count; i++)
        {
            var sb = new StringBuilder();
            var parts = random.Next(1, 8);
            for (var p = 0; p < parts; p++)
            {
                if (random.Next(3) == 0)
                {
                    sb.Append(EdgeCases[random.Next(EdgeCases.Length)]);
                }
                else
                {
                    var (from, to) = blocks[random.Next(blocks.Length)];
                    var length = random.Next(1, 12);
                    for (var k = 0; k < length; k++)
                    {
                        var cp = random.Next(from, to + 1);
                        if (System.Globalization.CharUnicodeInfo.GetUnicodeCategory(cp) != System.Globalization.UnicodeCategory.OtherNotAssigned)
                        {
                            sb.Append(char.ConvertFromUtf32(cp));
                        }
                    }
                }

                sb.Append(random.Next(4) == 0 ? "" : " ");
            }

            yield return sb.ToString();
        }
    }

    /// <summary>Every SciFact title, and the first <paramref name="abstracts"/> abstracts.</summary>
    public static (List<string> Titles, List<string> Abstracts) SciFact(int abstracts)
    {
        var titles = new List<string>();
        var texts = new List<string>();
        foreach (var line in File.ReadLines(TestPaths.SciFactCorpus))
        {
            using var doc = JsonDocument.Parse(line);
            titles.Add(doc.RootElement.GetProperty("title").GetString()!);
            if (texts.Count < abstracts)
            {
                texts.Add(doc.RootElement.GetProperty("text").GetString()!);
            }
        }

        return (titles, texts);
    }
}
