// The behaviour every ITextEncoder promises (see Core/Encoding/ITextEncoder.cs), written once and run against each
// implementation by a one-line subclass in that encoder's test project (txtai's shared ANN test, the vector index's
// contract test). Each test states the promise it checks and fails when an encoder breaks it; none compares an
// encoder's output with itself through the code under test alone.
using SemanticSearch.Core.Encoding;

namespace SemanticSearch.Testing;

/// <summary>
/// Contract tests for a text encoder: unit-length rows, a batch equal to its texts one by one, the same vectors on
/// every call, concurrent callers equal to serial ones, and query/passage prefixes applied as <see cref="EncoderInfo"/>
/// declares them.
/// </summary>
public abstract class TextEncoderContract
{
    /// <summary>Texts of varied length and script; none longer than a small model's window.</summary>
    protected static readonly IReadOnlyList<string> Texts =
    [
        "Aspirin reduces the risk of heart attack.",
        "x",
        "Deep learning models for protein structure prediction have transformed structural biology in recent years.",
        "Caffeine, taken in the evening, delays sleep onset by about forty minutes!",
        "Vitamin D deficiency is associated with bone fractures in older adults.",
        "Café crème — naïve façade, 漢字 and ünïcödé.",
        "The mitochondria is the powerhouse of the cell.",
    ];

    /// <summary>The encoder under test, as a user gets it (its <see cref="ITextEncoder.Info"/> declares its prefixes).</summary>
    protected abstract ITextEncoder Encoder { get; }

    /// <summary>
    /// The same model with other prefixes, where the encoder's configuration takes them (ONNX profiles do); null where
    /// it cannot (use-lite), and then the encoder must declare none.
    /// </summary>
    protected virtual ITextEncoder? WithPrefixes(string queryPrefix, string passagePrefix) => null;

    /// <summary>How far a row of a batch may be from the same text encoded alone (padding changes float sums).</summary>
    protected virtual float BatchTolerance => 1e-5f;

    /// <summary>Fails when a row is not L2-normalised (the interface promises every row is; similarity is a dot product).</summary>
    [Fact]
    public void Encode_EveryRow_HasUnitNorm()
    {
        var dim = Encoder.Info.Dimensions;
        foreach (var role in new[] { TextRole.Query, TextRole.Passage })
        {
            var vectors = Encode(Encoder, Texts, role);
            for (var i = 0; i < Texts.Count; i++)
            {
                double sum = 0;
                foreach (var v in vectors.AsSpan(i * dim, dim)) sum += (double)v * v;
                Assert.True(Math.Abs(Math.Sqrt(sum) - 1) < 1e-4, $"{role} row {i} ({Texts[i]}) has norm {Math.Sqrt(sum)}");
            }
        }
    }

    /// <summary>Fails when an encoder writes more or fewer than texts × dimensions floats, or NaNs.</summary>
    [Fact]
    public void Encode_Output_IsExactlyOneFiniteRowPerText()
    {
        var dim = Encoder.Info.Dimensions;
        Assert.True(dim > 0);
        var output = new float[(Texts.Count + 1) * dim];
        Array.Fill(output, float.NaN);
        Encoder.Encode(Texts, TextRole.Passage, output.AsSpan(0, Texts.Count * dim));
        for (var i = 0; i < Texts.Count * dim; i++) Assert.True(float.IsFinite(output[i]), $"float {i} is {output[i]}");
        for (var i = Texts.Count * dim; i < output.Length; i++) Assert.True(float.IsNaN(output[i]), $"wrote past its rows at {i}");
    }

    /// <summary>Fails when padding, batching or row order leaks between the texts of one call.</summary>
    [Fact]
    public void Encode_Batch_EqualsEachTextEncodedAlone()
    {
        var dim = Encoder.Info.Dimensions;
        var batch = Encode(Encoder, Texts, TextRole.Passage);
        for (var i = 0; i < Texts.Count; i++)
        {
            var alone = Encode(Encoder, [Texts[i]], TextRole.Passage);
            AssertClose(alone, batch.AsSpan(i * dim, dim), BatchTolerance, $"text {i} ({Texts[i]})");
        }
        // and different texts are not mapped to one vector (a constant encoder would pass everything above)
        Assert.True(MaxDiff(batch.AsSpan(0, dim), batch.AsSpan(2 * dim, dim)) > 1e-3, "two different texts gave the same vector");
    }

    /// <summary>Fails when an encoder keeps state between calls (caches, reused buffers) that changes a result.</summary>
    [Fact]
    public void Encode_SameTextsTwice_SameVectors()
    {
        var first = Encode(Encoder, Texts, TextRole.Query);
        Encode(Encoder, [Texts[^1], "something else in between"], TextRole.Passage);
        var second = Encode(Encoder, Texts, TextRole.Query);
        AssertClose(first, second, 1e-6f, "second call");
    }

    /// <summary>Fails when concurrent callers share mutable state (the interface promises one shared instance is safe).</summary>
    [Fact]
    public void Encode_ConcurrentCallers_EqualTheSerialResult()
    {
        var dim = Encoder.Info.Dimensions;
        var serial = Encode(Encoder, Texts, TextRole.Passage);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, worker =>
        {
            for (var round = 0; round < 3; round++)
            {
                // half the workers encode the whole batch, half one text at a time, so calls of different shapes overlap
                if (worker % 2 == 0)
                {
                    var got = Encode(Encoder, Texts, TextRole.Passage);
                    if (MaxDiff(got, serial) > 1e-6) failures.Enqueue($"worker {worker} round {round}: batch differs by {MaxDiff(got, serial)}");
                }
                else
                {
                    var i = (worker + round) % Texts.Count;
                    var got = Encode(Encoder, [Texts[i]], TextRole.Passage);
                    var diff = MaxDiff(got, serial.AsSpan(i * dim, dim));
                    if (diff > BatchTolerance) failures.Enqueue($"worker {worker} round {round}: text {i} differs by {diff}");
                }
            }
        });
        Assert.Empty(failures);
    }

    /// <summary>
    /// Fails when roles are ignored although the declared prefixes differ, or applied although they are equal: query and
    /// passage vectors differ exactly when <see cref="EncoderInfo.QueryPrefix"/> and <see cref="EncoderInfo.PassagePrefix"/> do.
    /// </summary>
    [Fact]
    public void Encode_QueryAndPassage_DifferExactlyWhenTheDeclaredPrefixesDo()
    {
        var info = Encoder.Info;
        var query = Encode(Encoder, Texts, TextRole.Query);
        var passage = Encode(Encoder, Texts, TextRole.Passage);
        var dim = info.Dimensions;
        for (var i = 0; i < Texts.Count; i++)
        {
            var diff = MaxDiff(query.AsSpan(i * dim, dim), passage.AsSpan(i * dim, dim));
            if (string.Equals(info.QueryPrefix, info.PassagePrefix, StringComparison.Ordinal))
                Assert.True(diff <= 1e-6, $"no prefix is declared, yet query and passage vectors of text {i} differ by {diff}");
            else
                Assert.True(diff > 1e-3, $"prefixes '{info.QueryPrefix}'/'{info.PassagePrefix}' are declared, yet text {i} gives one vector for both roles");
        }
    }

    /// <summary>
    /// Fails when a prefix is applied other than as declared: an E5-style encoder's query vector is the no-prefix
    /// encoder's vector of <c>"query: " + text</c>, and its passage vector that of <c>"passage: " + text</c>. An
    /// encoder that cannot take prefixes must declare none.
    /// </summary>
    [Fact]
    public void Encode_E5StylePrefixes_AreThePrefixTextPrepended()
    {
        using var e5 = WithPrefixes("query: ", "passage: ");
        if (e5 is null)
        {
            Assert.Equal("", Encoder.Info.QueryPrefix);
            Assert.Equal("", Encoder.Info.PassagePrefix);
            return;
        }
        using var plain = WithPrefixes("", "")!;
        Assert.Equal("query: ", e5.Info.QueryPrefix);
        Assert.Equal("passage: ", e5.Info.PassagePrefix);
        foreach (var text in Texts.Take(3))
        {
            AssertClose(Encode(plain, ["query: " + text], TextRole.Passage), Encode(e5, [text], TextRole.Query), BatchTolerance, "query of " + text);
            AssertClose(Encode(plain, ["passage: " + text], TextRole.Query), Encode(e5, [text], TextRole.Passage), BatchTolerance, "passage of " + text);
        }
    }

    /// <summary>Encodes through the interface into a fresh array.</summary>
    protected static float[] Encode(ITextEncoder encoder, IReadOnlyList<string> texts, TextRole role)
    {
        var output = new float[texts.Count * encoder.Info.Dimensions];
        encoder.Encode(texts, role, output);
        return output;
    }

    private static double MaxDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (var i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance, string what)
    {
        var diff = MaxDiff(expected, actual);
        Assert.True(diff <= tolerance, $"{what}: vectors differ by {diff} (tolerance {tolerance})");
    }
}
