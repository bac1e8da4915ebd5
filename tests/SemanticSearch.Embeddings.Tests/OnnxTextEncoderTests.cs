using SemanticSearch.Embeddings.Download;
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Models;
using SemanticSearch.Embeddings.Profiles;
using SemanticSearch.Embeddings.Tokenization;
using SemanticSearch.Onnx.Graph;
using Xunit;

namespace SemanticSearch.Embeddings.Tests;

public sealed class OnnxTextEncoderTests(TestModelFixture model) : IClassFixture<TestModelFixture>
{
    private const float Tolerance = 1e-5f;

    private static readonly string[] Texts =
    [
        "Aspirin reduces the risk of heart attack.",
        "A short one.",
        "Deep learning models for protein structure prediction have transformed structural biology in recent years.",
        "Vitamin D deficiency is associated with bone fractures in older adults, according to several cohort studies.",
        "x",
        "Caffeine",
        "The mitochondria is the powerhouse of the cell, producing ATP through oxidative phosphorylation.",
    ];

    private ModelProfile Profile(string prefixQuery = "", string prefixPassage = "", PoolingMode pooling = PoolingMode.Mean, string? output = null, int maxTokens = 512) => new()
    {
        Id = "test-bert",
        Dimensions = model.Files.Dimensions,
        Pooling = pooling,
        QueryPrefix = prefixQuery,
        PassagePrefix = prefixPassage,
        MaxTokens = maxTokens,
        Output = output,
    };

    private OnnxTextEncoder Open(ModelProfile profile, int batchSize = 32) => OnnxTextEncoder.Open(model.Directory, profile, new OnnxEncoderOptions(batchSize));

    [Fact]
    public void Encode_TextAloneAndInPaddedBatch_SameVector()
    {
        using var encoder = Open(Profile());
        var dim = encoder.Info.Dimensions;
        var batch = encoder.Encode(Texts, TextRole.Passage);
        for (var i = 0; i < Texts.Length; i++)
        {
            var alone = encoder.Encode([Texts[i]], TextRole.Passage);
            AssertClose(alone, batch.AsSpan(i * dim, dim));
        }
    }

    [Fact]
    public void Encode_AnyText_UnitNorm()
    {
        using var encoder = Open(Profile());
        var dim = encoder.Info.Dimensions;
        var vectors = encoder.Encode(Texts, TextRole.Query);
        for (var i = 0; i < Texts.Length; i++)
        {
            double sum = 0;
            foreach (var v in vectors.AsSpan(i * dim, dim))
            {
                sum += (double)v * v;
            }

            Assert.InRange(Math.Sqrt(sum), 1 - Tolerance, 1 + Tolerance);
        }
    }

    [Fact]
    public void Encode_MeanPoolingHere_MatchesGraphPooledOutput()
    {
        // The converter's graph pools and normalises itself (sentence_embedding): an independent implementation.
        using var ours = Open(Profile());
        using var graph = Open(Profile(pooling: PoolingMode.Graph, output: "sentence_embedding"));
        AssertClose(graph.Encode(Texts, TextRole.Passage), ours.Encode(Texts, TextRole.Passage));
    }

    [Fact]
    public void Encode_E5StyleProfile_QueryAndPassagePrefixesApplied()
    {
        using var e5 = Open(Profile("query: ", "passage: "));
        using var plain = Open(Profile());
        var text = Texts[0];
        var query = e5.Encode([text], TextRole.Query);
        var passage = e5.Encode([text], TextRole.Passage);
        Assert.True(MaxDiff(query, passage) > 1e-3, "query and passage vectors should differ under E5 prefixes");
        AssertClose(plain.Encode(["query: " + text], TextRole.Query), query);
        AssertClose(plain.Encode(["passage: " + text], TextRole.Passage), passage);
    }

    [Fact]
    public void Encode_GteStyleProfile_NoPrefixSoRolesAgree()
    {
        var gte = BuiltInProfiles.All.Single(p => p.Id == "gte-small") with { Dimensions = model.Files.Dimensions };
        using var encoder = Open(gte);
        AssertClose(encoder.Encode(Texts, TextRole.Query), encoder.Encode(Texts, TextRole.Passage));
    }

    [Fact]
    public void PassageOverheadTokens_E5Prefix_PrefixTokensPlusTwo()
    {
        using var e5 = Open(Profile("query: ", "passage: "));
        Assert.Equal(4, e5.PassageOverheadTokens); // "passage", ":" + [CLS], [SEP]
        using var plain = Open(Profile());
        Assert.Equal(2, plain.PassageOverheadTokens);
    }

    [Fact]
    public void Encode_TwoThousandWords_TruncatedToMaxTokens()
    {
        var words = Enumerable.Range(0, 2000).Select(i => i % 7 == 0 ? "protein" : i % 3 == 0 ? "binding" : "cell").ToArray();
        var text = string.Join(' ', words);
        using var encoder = Open(Profile(prefixPassage: "passage: "));
        var vector = encoder.Encode([text], TextRole.Passage);

        // Expected: [CLS] + the first 510 tokens of "passage: " + text + [SEP], from the untruncated tokenization.
        var tokenizer = WordPieceTokenizer.FromVocabFile(TestPaths.VocabTxt);
        var full = tokenizer.Tokenize("passage: " + text);
        Assert.True(full.Length > 2000);
        int[] truncated = [tokenizer.ClassifierId, .. full[..510], tokenizer.SeparatorId];
        var expected = new float[encoder.Info.Dimensions];
        encoder.EncodeTokens([truncated], expected);
        AssertClose(expected, vector);
    }

    [Fact]
    public void Encode_SmallBatchSize_ResultsInCallerOrder()
    {
        using var batched = Open(Profile(), batchSize: 3);
        var dim = batched.Info.Dimensions;
        var all = batched.Encode(Texts, TextRole.Passage);
        using var single = Open(Profile(), batchSize: 1);
        for (var i = 0; i < Texts.Length; i++)
        {
            AssertClose(single.Encode([Texts[i]], TextRole.Passage), all.AsSpan(i * dim, dim));
        }

        Assert.True(MaxDiff(all.AsSpan(0, dim).ToArray(), all.AsSpan(dim, dim).ToArray()) > 1e-3, "different texts should give different vectors");
    }

    [Fact]
    public void Encode_BatchesSideBySide_SameAsOneAtATime()
    {
        using var parallel = OnnxTextEncoder.Open(model.Directory, Profile(), new OnnxEncoderOptions(BatchSize: 2, ParallelBatches: 4));
        using var sequential = Open(Profile(), batchSize: 1);
        var inputs = Texts.Concat(Texts.Select(t => t.ToUpperInvariant() + " again")).ToArray();
        AssertClose(sequential.Encode(inputs, TextRole.Query), parallel.Encode(inputs, TextRole.Query));
    }

    [Fact]
    public void Encode_ManyThreadsOneSession_EqualsSequential()
    {
        using var encoder = Open(Profile(), batchSize: 4);
        var dim = encoder.Info.Dimensions;
        var inputs = Enumerable.Range(0, 24).Select(i => $"{Texts[i % Texts.Length]} number {i}").ToArray();
        var sequential = inputs.Select(t => encoder.Encode([t], TextRole.Passage)).ToArray();
        var parallel = new float[inputs.Length][];
        Parallel.For(0, inputs.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            var i = k % inputs.Length;
            var v = encoder.Encode([inputs[i], inputs[(i + 1) % inputs.Length]], TextRole.Passage);
            parallel[i] = v[..dim];
            AssertClose(sequential[(i + 1) % inputs.Length], v.AsSpan(dim, dim));
        });
        for (var i = 0; i < inputs.Length; i++)
        {
            AssertClose(sequential[i], parallel[i]);
        }
    }

    [Fact]
    public void Open_GraphWithoutTokenTypeIds_LeavesThatInputOut()
    {
        // A minimal graph: last_hidden_state = embedding[input_ids] * attention_mask (no token_type_ids input).
        using var dir = new TempDirectory();
        const int dim = 4;
        var vocab = File.ReadLines(TestPaths.VocabTxt).Count();
        var table = new float[vocab * dim];
        for (var i = 0; i < table.Length; i++)
        {
            table[i] = ((i * 7919) % 13) - 6;
        }

        var g = new OnnxGraphBuilder("no_token_types");
        var ids = g.Input("input_ids", OnnxType.Int64, "batch", "seq");
        var mask = g.Input("attention_mask", OnnxType.Int64, "batch", "seq");
        var emb = g.Node("Gather", [g.Initializer("table", table, vocab, dim), ids]);
        var maskF = g.Node("Unsqueeze", [g.Node("Cast", [mask], new OnnxAttributes { { "to", 1L } }), g.Int64s(-1)]);
        g.Output(g.Node("Mul", [emb, maskF]), "last_hidden_state", OnnxType.Float, "batch", "seq", dim);
        File.WriteAllBytes(Path.Combine(dir.Path, "model.onnx"), g.ToModel(opset: 17));
        File.Copy(TestPaths.VocabTxt, Path.Combine(dir.Path, "vocab.txt"));

        using var encoder = OnnxTextEncoder.Open(dir.Path, new ModelProfile { Id = "tiny" });
        Assert.Equal(dim, encoder.Info.Dimensions); // read from the graph
        var vector = encoder.Encode(["hello world"], TextRole.Query);

        // Hand computation: mean of the rows of [CLS], hello, world, [SEP], then L2 normalise.
        int[] tokens = [101, 7592, 2088, 102];
        var expected = new double[dim];
        foreach (var t in tokens)
        {
            for (var d = 0; d < dim; d++)
            {
                expected[d] += table[t * dim + d] / tokens.Length;
            }
        }

        var norm = Math.Sqrt(expected.Sum(x => x * x));
        AssertClose(expected.Select(x => (float)(x / norm)).ToArray(), vector);
    }

    [Fact]
    public void Open_ProfileDimensionsDisagreeWithGraph_ModelMismatch()
    {
        var e = Assert.Throws<ModelMismatchException>(() => Open(Profile() with { Dimensions = 384 }));
        Assert.Contains("384", e.Message);
    }

    [Fact]
    public void Resolve_LocalDirectory_OpensWithDefaultProfile()
    {
        using var cache = new TempDirectory();
        var catalog = new ModelCatalog(new ModelCache(cache.Path), [new HuggingFaceModelSource(), new NuGetModelSource()]);
        var resolved = catalog.Resolve(model.Directory);
        Assert.Equal("test-bert", resolved.Profile.Id);
        using var encoder = OnnxTextEncoder.Open(resolved);
        Assert.Equal(model.Files.Dimensions, encoder.Info.Dimensions);
        Assert.Equal("mean", encoder.Info.Pooling);
    }

    private static float MaxDiff(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    [Fact]
    public void Encode_UnpaddedGraph_RunsWithoutPaddingGoThroughIt_PaddedRunsDoNot()
    {
        // the companion here is another model (other weights, same inputs and outputs), so the vectors show which
        // graph ran: a run without padding must go through it, a padded run through the main graph
        using var dir = new TempDirectory();
        var main = TestEncoderModel.Create(Path.Combine(dir.Path, "main"), TestPaths.VocabTxt, seed: 11);
        var other = TestEncoderModel.Create(Path.Combine(dir.Path, "other"), TestPaths.VocabTxt, seed: 12);
        File.Copy(other.ModelPath, Path.Combine(main.Directory, "model.unpadded.onnx"));
        var profile = new ModelProfile { Id = "test-bert", Dimensions = main.Dimensions };
        var oneRun = new OnnxEncoderOptions(TokensPerBatch: 0);
        using var mainOnly = OnnxTextEncoder.Open(main.Directory, profile, oneRun);
        using var otherOnly = OnnxTextEncoder.Open(other.Directory, profile, oneRun);
        using var routed = OnnxTextEncoder.Open(main.Directory, profile, oneRun, unpaddedGraphFile: "model.unpadded.onnx");
        string[] padded = [Texts[0], Texts[1]]; // 9 and 5 tokens: one run, padded
        string[] sameLength = ["red apple", "blue sky"]; // 2 + 2 tokens each: one run, no padding
        Assert.Equal(routed.Tokenizer.Encode(sameLength[0], 512).Length, routed.Tokenizer.Encode(sameLength[1], 512).Length);
        Assert.NotEqual(routed.Tokenizer.Encode(padded[0], 512).Length, routed.Tokenizer.Encode(padded[1], 512).Length);
        Assert.True(Math.Abs(mainOnly.Encode([Texts[0]], TextRole.Passage)[0] - otherOnly.Encode([Texts[0]], TextRole.Passage)[0]) > 1e-3,
            "the two models give the same vector: this test could not tell them apart");

        AssertClose(mainOnly.Encode(padded, TextRole.Passage), routed.Encode(padded, TextRole.Passage));
        AssertClose(otherOnly.Encode(sameLength, TextRole.Passage), routed.Encode(sameLength, TextRole.Passage));
        AssertClose(otherOnly.Encode([Texts[2]], TextRole.Query), routed.Encode([Texts[2]], TextRole.Query));
    }

    [Fact]
    public void Open_UnpaddedGraphMissing_NotFoundNamingTheFile()
    {
        var e = Assert.Throws<NotFoundException>(() =>
            OnnxTextEncoder.Open(model.Directory, Profile(), unpaddedGraphFile: "model.absent-unpadded.onnx"));
        Assert.Contains("model.absent-unpadded.onnx", e.Message);
    }

    [Fact]
    public void Encode_UnpaddedGraphWithOtherOutputs_CorruptDataNamingTheFile()
    {
        // a companion must take and give what the main graph does; this one has no sentence_embedding output
        using var dir = new TempDirectory();
        var main = TestEncoderModel.Create(Path.Combine(dir.Path, "main"), TestPaths.VocabTxt, seed: 11);
        var bare = TestEncoderModel.Create(Path.Combine(dir.Path, "bare"), TestPaths.VocabTxt, seed: 11, options: new SemanticSearch.Onnx.Bert.BertExportOptions { Pooling = SemanticSearch.Onnx.Bert.BertPooling.None });
        File.Copy(bare.ModelPath, Path.Combine(main.Directory, "model.unpadded.onnx"));
        using var encoder = OnnxTextEncoder.Open(main.Directory, new ModelProfile { Id = "test-bert", Dimensions = main.Dimensions }, unpaddedGraphFile: "model.unpadded.onnx");

        var e = Assert.Throws<CorruptDataException>(() => encoder.Encode([Texts[0]], TextRole.Passage));
        Assert.Contains("model.unpadded.onnx", e.Message);
        Assert.Contains("unpadded", e.Message);
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance, $"element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }
}

/// <summary>How a call's texts are cut into graph runs (sorted by token count, a row limit and a padded-token budget).</summary>
public sealed class BatchCuttingTests
{
    [Theory]
    [InlineData(64, 8192, 11)]
    [InlineData(8, 0, 12)]
    [InlineData(32, 512, 13)]
    [InlineData(64, 100, 14)] // budget below the longest rows: those run alone
    public void CutBatches_RandomLengths_CoverEveryRowOnceInOrderWithinBothLimitsAndGreedily(int maxRows, int budget, int seed)
    {
        var random = new Random(seed);
        for (var trial = 0; trial < 200; trial++)
        {
            var lengths = Enumerable.Range(0, random.Next(0, 300)).Select(_ => random.Next(3, 513)).Order().ToArray();
            var batches = OnnxTextEncoder.CutBatches(lengths, maxRows, budget);
            var next = 0;
            foreach (var (start, count) in batches)
            {
                Assert.Equal(next, start);
                Assert.InRange(count, 1, maxRows);
                var padded = (long)count * lengths[start + count - 1];
                Assert.True(budget == 0 || count == 1 || padded <= budget, $"{count} rows of up to {lengths[start + count - 1]} tokens exceed {budget}");
                // greedy: one more row would break a limit
                if (start + count < lengths.Length)
                {
                    Assert.True(count == maxRows || (budget > 0 && (long)(count + 1) * lengths[start + count] > budget));
                }
                next = start + count;
            }
            Assert.Equal(lengths.Length, next);
        }
    }
}
