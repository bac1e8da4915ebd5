using SemanticSearch.Core.Encoding;
using SemanticSearch.Models;
using Xunit;

namespace SemanticSearch.Embeddings.Tests;

/// <summary>
/// The float profile's execution plan on a graph the fusion does not recognise, and on a directory that cannot hold
/// derived files: the published graph runs, unchanged. (On a published graph that fuses: ArcticEmbedXsTests.)
/// </summary>
public sealed class FusedFloatVariantTests : IDisposable
{
    // a padded batch (three lengths) and a lone query
    private static readonly string[] Texts = ["Aspirin reduces the risk of heart attack.", "Deep learning models for protein structure prediction, and why they work.", "Caffeine"];
    private readonly TempDirectory _dir = new();
    private readonly string _model;

    public FusedFloatVariantTests()
    {
        _model = SemanticSearch.Testing.TestEncoderModel.Create(Path.Combine(_dir.Path, "bert"), TestPaths.VocabTxt, hidden: 64).Directory;
    }

    public void Dispose() => _dir.Dispose();

    private static ModelProfile Profile => new()
    {
        Id = "test-bert",
        Dimensions = 64,
        Source = new HuggingFaceSource("test/bert", "rev1", "model.onnx", null, "vocab.txt", null, null),
    };

    private static (float[] Batch, float[] Lone) Encode(ITextEncoder encoder)
    {
        var batch = new float[Texts.Length * 64];
        encoder.Encode(Texts, TextRole.Passage, batch);
        var lone = new float[64];
        encoder.Encode([Texts[1]], TextRole.Query, lone);
        return (batch, lone);
    }

    private (float[] Batch, float[] Lone) Published()
    {
        using var plain = OnnxTextEncoder.Open(_model, Profile);
        return Encode(plain);
    }

    [Fact]
    public void Ensure_GraphWithoutAnAttentionTheFusionKnows_LeavesAMarkerAndRunsThePublishedGraph()
    {
        // the seeded model's converter writes its attention in another layout than the Hugging Face exporter
        Assert.Equal(OnnxEncoderFormat.OnnxFileName, FusedFloatVariant.Ensure(_model));
        Assert.True(File.Exists(Path.Combine(_model, FusedFloatVariant.NothingToFuseFileName)));
        Assert.False(File.Exists(Path.Combine(_model, FusedFloatVariant.FileName)));

        var published = Published();
        using var encoder = OnnxEncoderFormat.Instance.OpenEncoder(Profile, _model, null);
        var vectors = Encode(encoder);
        Assert.Equal("rev1", encoder.Info.Revision);
        Assert.Equal(published.Batch, vectors.Batch);
        Assert.Equal(published.Lone, vectors.Lone);
    }

    [Fact]
    public void Ensure_DirectoryCannotHoldWhatItDerives_RunsThePublishedGraph()
    {
        // a folder where the marker would go: the write fails as on a read-only model directory, and opening goes on
        Directory.CreateDirectory(Path.Combine(_model, FusedFloatVariant.NothingToFuseFileName));

        Assert.Equal(OnnxEncoderFormat.OnnxFileName, FusedFloatVariant.Ensure(_model));
        var published = Published();
        using var encoder = OnnxEncoderFormat.Instance.OpenEncoder(Profile, _model, null);
        Assert.Equal(published.Lone, Encode(encoder).Lone);
    }
}
