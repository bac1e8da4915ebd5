using SemanticSearch.Onnx.Bert;

namespace SemanticSearch.Embeddings.Tests;

/// <summary>The seeded 2-layer BERT test encoder (hidden 32, the real 30,522-entry vocabulary), written once per test class.</summary>
public sealed class TestModelFixture : IDisposable
{
    private readonly TempDirectory _dir = new();

    public TestModelFixture() => Files = TestEncoderModel.Create(Path.Combine(_dir.Path, "test-bert"), TestPaths.VocabTxt);

    public EncoderModelFiles Files { get; }

    public string Directory => Files.Directory;

    public void Dispose() => _dir.Dispose();
}
