using SemanticSearch.Core;
using SemanticSearch.Onnx.Bert;
using Xunit;

namespace SemanticSearch.Onnx.Tests.Bert;

public sealed class BertConfigTests
{
    private const string E5SmallLike = """
        {"architectures":["BertModel"],"model_type":"bert","vocab_size":30522,"hidden_size":384,"num_hidden_layers":12,
         "num_attention_heads":12,"intermediate_size":1536,"max_position_embeddings":512,"type_vocab_size":2,
         "layer_norm_eps":1e-12,"hidden_act":"gelu","hidden_dropout_prob":0.1,"torch_dtype":"float32"}
        """;

    [Fact]
    public void Load_E5SmallStyleConfig_ReadsEveryField()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("config.json"), E5SmallLike);
        var c = BertConfig.Load(dir.File("config.json"));
        Assert.Equal((30522, 384, 12, 12, 1536, 512, 2, 1e-12, "gelu", 32),
            (c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.MaxPositionEmbeddings, c.TypeVocabSize, c.LayerNormEps, c.HiddenAct, c.HeadSize));
    }

    [Theory]
    [InlineData("\"hidden_size\":384,", "", "hidden_size")]                                  // missing
    [InlineData("\"num_attention_heads\":12", "\"num_attention_heads\":5", "num_attention_heads")] // does not divide 384
    [InlineData("\"hidden_act\":\"gelu\"", "\"hidden_act\":\"mish\"", "hidden_act")]
    [InlineData("\"vocab_size\":30522", "\"vocab_size\":\"many\"", "vocab_size")]
    [InlineData("\"layer_norm_eps\":1e-12", "\"layer_norm_eps\":0", "layer_norm_eps")]
    [InlineData("\"model_type\":\"bert\"", "\"model_type\":\"roberta\"", "model_type")]
    public void Load_BadField_ThrowsNamingField(string from, string to, string field)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("config.json"), E5SmallLike.Replace(from, to));
        var ex = Assert.Throws<InvalidSettingException>(() => BertConfig.Load(dir.File("config.json")));
        Assert.Equal(field, ex.Setting);
        Assert.Contains("config.json", ex.Message);
    }

    [Fact]
    public void Save_ThenLoad_RoundTrips()
    {
        using var dir = new TempDir();
        var c = new BertConfig { VocabSize = 10, HiddenSize = 8, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 16, LayerNormEps = 1e-6, HiddenAct = "gelu_new" };
        c.Save(dir.File("config.json"));
        Assert.Equal(c, BertConfig.Load(dir.File("config.json")));
    }
}
