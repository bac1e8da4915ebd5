using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Models;
using Xunit;

namespace SemanticSearch.Embeddings.Tests;

/// <summary>
/// The int8 variant as the format opens it: new indexes of an int8 profile get the derived graph under a revision
/// that names it; an index recorded with the float revision keeps the float graph, whatever the profile says now.
/// </summary>
public sealed class Int8VariantTests : IDisposable
{
    private static readonly string[] Texts = ["Aspirin reduces the risk of heart attack.", "Deep learning models for protein structure prediction.", "Caffeine"];
    private readonly TempDirectory _dir = new();
    private readonly string _model;

    public Int8VariantTests()
    {
        // a private copy of the seeded model: the variant is written beside the float graph
        _model = SemanticSearch.Testing.TestEncoderModel.Create(Path.Combine(_dir.Path, "bert"), TestPaths.VocabTxt, hidden: 64).Directory;
    }

    public void Dispose() => _dir.Dispose();

    private static ModelProfile Profile(ModelPrecision precision) => new()
    {
        Id = "test-bert",
        Dimensions = 64,
        Precision = precision,
        Source = new HuggingFaceSource("test/bert", "rev1", "model.onnx", null, "vocab.txt", null, null),
    };

    private float[] Encode(ModelPrecision precision, EncoderInfo? recorded, out EncoderInfo info)
    {
        using var encoder = OnnxEncoderFormat.Instance.OpenEncoder(Profile(precision), _model, recorded);
        info = encoder.Info;
        var output = new float[Texts.Length * info.Dimensions];
        encoder.Encode(Texts, TextRole.Passage, output);
        return output;
    }

    [Fact]
    public void OpenEncoder_Int8ProfileNewIndex_DerivesTheVariantAndNamesItInTheRevision()
    {
        var q = Encode(ModelPrecision.Int8, null, out var info);
        var f = Encode(ModelPrecision.Float32, null, out var floatInfo);

        Assert.Equal("rev1", floatInfo.Revision);
        Assert.Equal("rev1" + Int8Variant.RevisionSuffix, info.Revision);
        Assert.True(File.Exists(Path.Combine(_model, Int8Variant.FileName)));
        for (var r = 0; r < Texts.Length; r++)
        {
            double cos = 0;
            for (var j = 0; j < 64; j++) cos += f[r * 64 + j] * q[r * 64 + j];
            Assert.True(cos > 0.99, $"text {r}: cosine {cos} to the float vector");
            Assert.True(cos < 1 - 1e-7, $"text {r}: the int8 vector equals the float one; the float graph ran");
        }
    }

    [Fact]
    public void OpenEncoder_IndexRecordedWithTheFloatRevision_KeepsTheFloatGraphUnderAnInt8Profile()
    {
        var floatVectors = Encode(ModelPrecision.Float32, null, out var floatInfo);
        var reopened = Encode(ModelPrecision.Int8, floatInfo, out var info);

        Assert.Equal(floatInfo, info);
        Assert.Equal(floatVectors, reopened);
        Assert.False(File.Exists(Path.Combine(_model, Int8Variant.FileName)), "the variant was derived although no one asked for it");
    }

    [Fact]
    public void OpenEncoder_IndexRecordedWithTheInt8Revision_OpensTheSameVariantUnderAFloatProfile()
    {
        var first = Encode(ModelPrecision.Int8, null, out var info);
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(_model, Int8Variant.FileName));
        var again = Encode(ModelPrecision.Float32, info, out var againInfo);

        Assert.Equal(info, againInfo);
        Assert.Equal(first, again);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(_model, Int8Variant.FileName)));
    }

    [Fact]
    public void OpenEncoder_IndexOfAnotherRewriteVersion_IsAModelMismatchNamingIt()
    {
        var recorded = new EncoderInfo("test-bert", "rev1+int8.999", 64, "mean", "", "", 512);
        var e = Assert.Throws<ModelMismatchException>(() => Encode(ModelPrecision.Int8, recorded, out _));
        Assert.Contains("+int8.999", e.Message, StringComparison.Ordinal);
    }
}
