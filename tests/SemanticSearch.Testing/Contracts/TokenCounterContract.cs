// The behaviour every ITokenCounter promises (Core/Chunking/ITokenCounter.cs) as CsCheck properties, run against
// each implementation by a subclass in its test project. The chunker sizes chunks by these counts and splits only at
// whitespace, so the property it leans on is additivity across whitespace; each property names the fault it catches.
using CsCheck;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Embeddings.Tokenization;
using SemanticSearch.Models;

namespace SemanticSearch.Testing;

/// <summary>Properties of a token counter: non-negative, deterministic, zero for whitespace, additive across whitespace.</summary>
public abstract class TokenCounterContract
{
    /// <summary>The counter under test.</summary>
    protected abstract ITokenCounter Counter { get; }

    /// <summary>
    /// True where whitespace only separates tokens (WordPiece, the whitespace counter). False where whitespace is
    /// itself tokenised, as use-lite's SentencePiece does after its TF.js reference: every space becomes a U+2581
    /// symbol and other whitespace unknown pieces; there additivity holds for one space between words only.
    /// </summary>
    protected virtual bool WhitespaceOnlySeparates => true;

    private const string Whitespace = " \t\n\r";

    /// <summary>Visible text: Latin, accents, digits, punctuation, Cyrillic, Greek, CJK (BMP only, so no pair is split).</summary>
    private const string Visible = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;!?'\"-()[]/@#%&*+=_" +
        "éèüöñçåøßÉÜ" + "приветмир" + "αβγδ" + "漢字日本語中文";

    /// <summary>Words of visible characters separated by runs of whitespace (either end may be whitespace).</summary>
    protected static readonly Gen<string> Text = Gen.String[Gen.Frequency((4, Gen.Char[Visible]), (1, Gen.Char[Whitespace])), 0, 60];

    /// <summary>One to six words of visible characters joined by single spaces, nothing before or after.</summary>
    protected static readonly Gen<string> Words = Gen.String[Gen.Char[Visible], 1, 10].Array[1, 6].Select(words => string.Join(' ', words));

    /// <summary>Any UTF-16 string: controls, lone surrogates, U+FFFD, every plane.</summary>
    protected static readonly Gen<string> AnyString = Gen.OneOf(Gen.String[0, 80], Gen.String[Gen.Char, 0, 20], Text);

    /// <summary>Fails when some input throws or counts below zero (the chunker would loop or mis-size a chunk).</summary>
    [Fact]
    public void CountTokens_AnyString_IsNonNegativeAndTheSameEveryCall()
    {
        AnyString.Sample(text =>
        {
            var first = Counter.CountTokens(text);
            Assert.True(first >= 0, $"{first} tokens");
            // a counter that caches or shares buffers wrongly answers differently the second time
            Assert.Equal(first, Counter.CountTokens(text));
        });
    }

    /// <summary>
    /// Fails when whitespace alone produces a token where whitespace only separates (a chunk of blank lines would
    /// cost budget), or, where whitespace is tokenised, when it is not counted or counted beyond one token per
    /// character plus the leading word-boundary symbol.
    /// </summary>
    [Fact]
    public void CountTokens_WhitespaceOnly_IsZeroUnlessWhitespaceIsTokenised()
    {
        Assert.Equal(0, Counter.CountTokens(""));
        if (!WhitespaceOnlySeparates)
        {
            // whitespace is tokenised: it must be counted (the model sees it), at most one token per character and the
            // leading U+2581 SentencePiece puts before every text
            Gen.String[Gen.Char[Whitespace], 1, 40].Sample(text => Assert.InRange(Counter.CountTokens(text), 1, text.Length + 1));
            return;
        }
        Gen.String[Gen.Char[Whitespace], 0, 40].Sample(text => Assert.Equal(0, Counter.CountTokens(text)));
    }

    /// <summary>
    /// How many tokens a join may save where whitespace is tokenised: use-lite's SentencePiece, like its TF.js
    /// reference, writes a run of unknown pieces as one, so an unknown character ending <c>a</c> and an unknown
    /// start of <c>" " + b</c> count once. Pieces never cross a word boundary (no vocabulary piece holds U+2581 after
    /// its first character), so nothing else can change at the join.
    /// </summary>
    protected virtual int JoinSlack => 0;

    /// <summary>
    /// Whether a join may also segment the first word of <c>b</c> anew. use-lite's reference runtime counts the seven
    /// null-scored pieces (all holding ':') as 0, and its Viterbi treats a best score of exactly 0 as unset, so what
    /// precedes a word can change how that word is cut (seed ed0VfMY45303: ":)" after a space is one piece, at the
    /// start of a text two). The join then saves up to that word's own count less one, besides <see cref="JoinSlack"/>.
    /// </summary>
    protected virtual bool FirstWordResegments => false;

    /// <summary>
    /// Fails when tokens merge or leak across a space: count(a + " " + b) must equal count(a) + count(b) for any texts
    /// (true of WordPiece, which splits on whitespace before anything else); where whitespace is tokenised, for words
    /// joined by one space, it may fall short of the sum by at most <see cref="JoinSlack"/> (and, where
    /// <see cref="FirstWordResegments"/>, by what cutting b's first word anew saves) and never exceed it. The
    /// chunker relies on it to size a chunk from its words.
    /// </summary>
    [Fact]
    public void CountTokens_TwoTextsJoinedByASpace_IsTheSumOfTheirCounts()
    {
        var texts = WhitespaceOnlySeparates ? Text : Words;
        Gen.Select(texts, texts).Sample((a, b) =>
        {
            var sum = Counter.CountTokens(a) + Counter.CountTokens(b);
            var first = b.Split(' ', 2)[0];
            var resegment = FirstWordResegments && first.Length > 0 ? Counter.CountTokens(first) - 1 : 0;
            Assert.InRange(Counter.CountTokens(a + " " + b), sum - JoinSlack - resegment, sum);
        }, iter: 500);
    }

    /// <summary>
    /// Fails when a visible word is dropped: every whitespace-separated word of visible characters is at least one
    /// token (counted here independently, by splitting on whitespace).
    /// </summary>
    [Fact]
    public void CountTokens_VisibleText_AtLeastOneTokenPerWord()
    {
        Text.Sample(text =>
        {
            var words = text.Split(Whitespace.ToCharArray(), StringSplitOptions.RemoveEmptyEntries).Length;
            Assert.True(Counter.CountTokens(text) >= words, $"'{text}': {Counter.CountTokens(text)} tokens for {words} words");
        });
    }
}

/// <summary>
/// A model tokenizer is a token counter whose count is what the model sees: the length of its encoding less the
/// special tokens, and truncation keeps to the budget.
/// </summary>
public abstract class ModelTokenizerContract : TokenCounterContract
{
    /// <summary>The tokenizer under test.</summary>
    protected abstract IModelTokenizer Tokenizer { get; }

    /// <inheritdoc />
    protected sealed override ITokenCounter Counter => Tokenizer;

    /// <summary>
    /// Fails when counting and encoding diverge (a count path that skips normalisation or splitting would size chunks
    /// the model then truncates): CountTokens(text) = Encode(text, ∞).Length − SpecialTokenCount.
    /// </summary>
    [Fact]
    public void CountTokens_AnyString_IsTheEncodedLengthWithoutSpecialTokens()
    {
        AnyString.Sample(text =>
            Assert.Equal(Tokenizer.Encode(text, int.MaxValue).Length - Tokenizer.SpecialTokenCount, Tokenizer.CountTokens(text)));
    }

    /// <summary>
    /// Fails when truncation overruns the budget or drops more than it must: Encode(text, max) has exactly
    /// min(max, count + specials) ids and starts with the untruncated encoding's first id.
    /// </summary>
    [Fact]
    public void Encode_AnyBudget_KeepsExactlyAsManyIdsAsFit()
    {
        Gen.Select(Text, Gen.Int[Tokenizer.SpecialTokenCount + 1, 40]).Sample((text, max) =>
        {
            var full = Tokenizer.Encode(text, int.MaxValue);
            var truncated = Tokenizer.Encode(text, max);
            Assert.Equal(Math.Min(max, full.Length), truncated.Length);
            if (full.Length > 0) Assert.Equal(full[0], truncated[0]);
        });
    }
}
