using Microsoft.ML.OnnxRuntime;
using SemanticSearch.Onnx.Bert;
using Xunit;

namespace SemanticSearch.Onnx.Tests.Bert;

public sealed class TestEncoderModelTests
{
    /// <summary>Whitespace split + vocabulary lookup: enough to feed real token ids (every word used is in the vocabulary).</summary>
    private static long[] Encode(Dictionary<string, long> vocab, string text) =>
        [vocab["[CLS]"], .. text.Split(' ').Select(w => vocab[w]), vocab["[SEP]"]];

    [Fact]
    public void Create_RealVocabulary_WritesModelDirectoryWithDistinctUnitVectors()
    {
        using var dir = new TempDir();
        var files = TestEncoderModel.Create(dir.Path, SharedData.BertVocab);

        Assert.True(File.Exists(files.ModelPath) && File.Exists(files.VocabPath) && File.Exists(files.ConfigPath));
        Assert.Equal(File.ReadAllLines(SharedData.BertVocab), File.ReadAllLines(files.VocabPath));
        Assert.Equal(32, files.Dimensions);
        var vocab = File.ReadLines(files.VocabPath).Select((t, i) => (t, (long)i)).ToDictionary(p => p.t, p => p.Item2);
        string[] texts = ["the cat sat on the mat", "a cat was sitting on a mat", "quantum physics describes the strong force", "the cat sat on the mat"];
        var ids = texts.Select(t => Encode(vocab, t)).ToArray();
        using var session = new InferenceSession(files.ModelPath);
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], session.InputMetadata.Keys.OrderBy(k => k == "input_ids" ? 0 : k == "attention_mask" ? 1 : 2));
        var run = EncoderRun.Run(session, ids, ids.Select(s => new long[s.Length]).ToArray());

        double Cos(int a, int b) => Enumerable.Range(0, 32).Sum(j => (double)run.Pooled![a * 32 + j] * run.Pooled[b * 32 + j]);
        for (int i = 0; i < texts.Length; i++) Assert.Equal(1.0, Cos(i, i), 4);  // unit length
        Assert.Equal(1.0, Cos(0, 3), 5);                                           // same text, same vector
        Assert.True(Cos(0, 2) < 0.7, $"unrelated texts too similar: {Cos(0, 2)}");
        Assert.True(Cos(0, 1) < 0.9, $"different texts nearly identical: {Cos(0, 1)}");
        Assert.True(Cos(0, 1) > Cos(0, 2), $"shared words should pull vectors together: {Cos(0, 1)} vs {Cos(0, 2)}");
    }

    [Fact]
    public void Create_SameSeedTwice_WritesIdenticalWeights()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        TestEncoderModel.Create(a.Path, SharedData.BertVocab);
        TestEncoderModel.Create(b.Path, SharedData.BertVocab);
        Assert.Equal(File.ReadAllBytes(a.File("model.safetensors")), File.ReadAllBytes(b.File("model.safetensors")));
    }
}
