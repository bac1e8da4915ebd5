using Microsoft.ML.OnnxRuntime;
using SemanticSearch.Onnx.Graph;
using Xunit;

namespace SemanticSearch.Onnx.Tests.Graph;

/// <summary>Tiny graphs run in a real ONNX Runtime session and compared with values worked out by hand.</summary>
public sealed class OnnxGraphBuilderTests
{
    private static void Near(float[] expected, float[] actual, float tol = 1e-5f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void Add_BroadcastInitializer_AddsRowwise()
    {
        var g = new OnnxGraphBuilder("add");
        var x = g.Input("x", OnnxType.Float, "batch", 3);
        var b = g.Initializer("b", [10f, 20f, 30f], 3);
        g.Output(g.Node("Add", [x, b]), "y", OnnxType.Float, "batch", 3);

        var y = OrtRun.Run(g.ToModel(), ("x", OrtRun.Floats([1, 2, 3, 4, 5, 6], 2, 3)))["y"];

        Near([11, 22, 33, 14, 25, 36], y.Data);
        Assert.Equal([2L, 3L], y.Shape);
    }

    [Fact]
    public void MatMul_FloatWeights_MatchesHandProduct()
    {
        var g = new OnnxGraphBuilder("matmul");
        var x = g.Input("x", OnnxType.Float, "batch", 3);
        var w = g.Initializer(null, [1f, 2f, 3f, 4f, 5f, 6f], 3, 2);
        g.Output(g.Node("MatMul", [x, w]), "y", OnnxType.Float, "batch", 2);

        var y = OrtRun.Run(g.ToModel(), ("x", OrtRun.Floats([1, 0, -1, 2, 1, 0.5f], 2, 3)))["y"];

        // [1,0,-1]·W = [1-5, 2-6]; [2,1,0.5]·W = [2+3+2.5, 4+4+3]
        Near([-4, -4, 7.5f, 11], y.Data);
    }

    [Fact]
    public void Gather_EmbeddingTable_PicksRows()
    {
        var g = new OnnxGraphBuilder("gather");
        var ids = g.Input("ids", OnnxType.Int64, "batch", "sequence");
        var table = g.Initializer("table", [0f, 0.5f, 1f, 1.5f, 2f, 2.5f, 3f, 3.5f], 4, 2);
        g.Output(g.Node("Gather", [table, ids], new OnnxAttributes { { "axis", 0 } }), "emb", OnnxType.Float, "batch", "sequence", 2);

        var y = OrtRun.Run(g.ToModel(), ("ids", OrtRun.Int64s([3, 0, 1, 1], 2, 2)))["emb"];

        Near([3, 3.5f, 0, 0.5f, 1, 1.5f, 1, 1.5f], y.Data);
        Assert.Equal([2L, 2L, 2L], y.Shape);
    }

    [Fact]
    public void Softmax_LastAxis_MatchesExpOverSum()
    {
        var g = new OnnxGraphBuilder("softmax");
        var x = g.Input("x", OnnxType.Float, 2, 3);
        g.Output(g.Node("Softmax", [x], new OnnxAttributes { { "axis", -1 } }), "p", OnnxType.Float, 2, 3);
        float[] input = [1, 2, 3, 0, 0, -1000];

        var p = OrtRun.Run(g.ToModel(), ("x", OrtRun.Floats(input, 2, 3)))["p"];

        double s0 = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        Near([(float)(Math.Exp(1) / s0), (float)(Math.Exp(2) / s0), (float)(Math.Exp(3) / s0), 0.5f, 0.5f, 0f], p.Data, 1e-6f);
    }

    [Fact]
    public void LayerNormalization_GammaBeta_MatchesHandFormula()
    {
        var g = new OnnxGraphBuilder("ln");
        var x = g.Input("x", OnnxType.Float, "batch", 4);
        var gamma = g.Initializer("gamma", [1f, 2f, 0.5f, 1f], 4);
        var beta = g.Initializer("beta", [0f, 1f, 0f, -1f], 4);
        var y = g.Node("LayerNormalization", [x, gamma, beta], new OnnxAttributes { { "axis", -1 }, { "epsilon", 1e-5f } });
        g.Output(y, "y", OnnxType.Float, "batch", 4);

        var r = OrtRun.Run(g.ToModel(opset: 17), ("x", OrtRun.Floats([1, 2, 3, 4], 1, 4)))["y"];

        // mean 2.5, variance 1.25 → (x-2.5)/sqrt(1.25+1e-5)
        double sd = Math.Sqrt(1.25 + 1e-5);
        float[] expected = [(float)(-1.5 / sd), (float)(-0.5 / sd * 2 + 1), (float)(0.5 / sd * 0.5), (float)(1.5 / sd - 1)];
        Near(expected, r.Data);
    }

    [Fact]
    public void Reshape_InitializerShape_ThenTranspose_ReordersElements()
    {
        var g = new OnnxGraphBuilder("reshape");
        var x = g.Input("x", OnnxType.Float, 6);
        var r = g.Node("Reshape", [x, g.Int64s(2, 3)]);
        var t = g.Node("Transpose", [r], new OnnxAttributes { { "perm", [1L, 0L] } });
        g.Output(t, "y", OnnxType.Float, 3, 2);

        var y = OrtRun.Run(g.ToModel(), ("x", OrtRun.Floats([0, 1, 2, 3, 4, 5], 6)))["y"];

        Near([0, 3, 1, 4, 2, 5], y.Data);
        Assert.Equal([3L, 2L], y.Shape);
    }

    [Fact]
    public void Constant_AttributesOfEveryKind_AreEncodedCorrectly()
    {
        var g = new OnnxGraphBuilder("constants");
        var x = g.Input("x", OnnxType.Float, 3);
        var floats = g.Node("Constant", [], new OnnxAttributes { { "value_floats", new[] { 0.25f, -2f, 7f } } });
        var f = g.Node("Constant", [], new OnnxAttributes { { "value_float", 1.5 } });
        var ints = g.Node("Constant", [], new OnnxAttributes { { "value_ints", new[] { 5L, -6L, 1L << 40 } } });
        var i = g.Node("Constant", [], new OnnxAttributes { { "value_int", -3 } });
        var tensor = g.Node("Constant", [], new OnnxAttributes { { "value", OnnxTensor.FromFloats([1f, 1f, 2f], 3) } });
        var sum = g.Node("Add", [g.Node("Add", [g.Node("Mul", [x, floats]), f]), tensor]);
        g.Output(sum, "y", OnnxType.Float, 3);
        g.Output(g.Node("Add", [ints, i]), "z", OnnxType.Int64, 3);

        var r = OrtRun.Run(g.ToModel(), ("x", OrtRun.Floats([4, 1, 2], 3)));

        Near([1 + 1.5f + 1, -2 + 1.5f + 1, 14 + 1.5f + 2], r["y"].Data);
        Near([2, -9, (float)((1L << 40) - 3)], r["z"].Data);
    }

    [Fact]
    public void Pad_StringAttributeReflect_MirrorsEdges()
    {
        var g = new OnnxGraphBuilder("pad");
        var x = g.Input("x", OnnxType.Float, 4);
        g.Output(g.Node("Pad", [x, g.Int64s(2, 1)], new OnnxAttributes { { "mode", "reflect" } }), "y", OnnxType.Float, 7);

        var y = OrtRun.Run(g.ToModel(), ("x", OrtRun.Floats([1, 2, 3, 4], 4)))["y"];

        Near([3, 2, 1, 2, 3, 4, 3], y.Data);
    }

    [Fact]
    public void Initializers_Float16Int8UInt8Int32_CastToFloatExactly()
    {
        var g = new OnnxGraphBuilder("types");
        var x = g.Input("x", OnnxType.Float, 3);
        var half = g.Initializer("h", [(Half)0.5f, (Half)(-1.25f), (Half)1024f], 3);
        var i8 = g.Initializer("i8", [(sbyte)-128, (sbyte)5, (sbyte)127], 3);
        var u8 = g.Initializer("u8", [(byte)0, (byte)200, (byte)255], 3);
        var i32 = g.Initializer("i32", [-70000, 3, int.MaxValue / 2], 3);
        var toFloat = new OnnxAttributes { { "to", (long)OnnxType.Float } };
        var sum = x;
        foreach (var v in new[] { half, i8, u8, i32 })
            sum = g.Node("Add", [sum, g.Node("Cast", [v], toFloat)]);
        g.Output(sum, "y", OnnxType.Float, 3);

        var y = OrtRun.Run(g.ToModel(), ("x", OrtRun.Floats([0, 0, 0], 3)))["y"];

        Near([0.5f - 128 + 0 - 70000, -1.25f + 5 + 200 + 3, 1024 + 127 + 255 + (float)(int.MaxValue / 2)], y.Data, 1f);
        Assert.Equal(0.5f - 128 - 70000, y.Data[0]);
    }

    [Fact]
    public void NodeWithOutputs_Split_ReturnsEachHalf()
    {
        var g = new OnnxGraphBuilder("split");
        var x = g.Input("x", OnnxType.Float, 4);
        var parts = g.NodeWithOutputs("Split", [x], 2, new OnnxAttributes { { "axis", 0 } });
        g.Output(parts[0], "a", OnnxType.Float, 2);
        g.Output(parts[1], "b", OnnxType.Float, 2);

        var r = OrtRun.Run(g.ToModel(), ("x", OrtRun.Floats([1, 2, 3, 4], 4)));

        Near([1, 2], r["a"].Data);
        Near([3, 4], r["b"].Data);
    }

    [Fact]
    public void ToModel_SymbolicDimsAndMetadata_VisibleToRuntime()
    {
        var g = new OnnxGraphBuilder("meta");
        var x = g.Input("x", OnnxType.Float, "batch", "sequence", 8);
        g.Output(x, "same", OnnxType.Float, "batch", "sequence", 8); // an input as output goes through Identity

        using var session = new InferenceSession(g.ToModel(opset: 17, metadata: new Dictionary<string, string> { ["model_id"] = "test" }));

        Assert.Equal(["batch", "sequence", ""], session.InputMetadata["x"].SymbolicDimensions);
        Assert.Equal([-1, -1, 8], session.InputMetadata["x"].Dimensions);
        Assert.Equal("test", session.ModelMetadata.CustomMetadataMap["model_id"]);
        Assert.Equal("SemanticSearch.Onnx", session.ModelMetadata.ProducerName);
    }

    [Fact]
    public void Output_SameValueTwice_BothNamesCarryTheValue()
    {
        var g = new OnnxGraphBuilder("twice");
        var x = g.Input("x", OnnxType.Float, 2);
        var y = g.Node("Neg", [x]);
        g.Output(y, "first", OnnxType.Float, 2);
        g.Output(y, "second", OnnxType.Float, 2);

        var r = OrtRun.Run(g.ToModel(), ("x", OrtRun.Floats([1, -2], 2)));

        Near([-1, 2], r["first"].Data);
        Near([-1, 2], r["second"].Data);
    }

    [Fact]
    public void Node_NoneForOptionalInput_SkipsThatInput()
    {
        var g = new OnnxGraphBuilder("clip");
        var x = g.Input("x", OnnxType.Float, 3);
        g.Output(g.Node("Clip", [x, OnnxValue.None, g.Scalar(1f)]), "y", OnnxType.Float, 3); // no min, max = 1

        var y = OrtRun.Run(g.ToModel(), ("x", OrtRun.Floats([-5, 0.5f, 3], 3)))["y"];

        Near([-5, 0.5f, 1], y.Data);
    }

    [Fact]
    public void Input_DuplicateName_Throws()
    {
        var g = new OnnxGraphBuilder("dup");
        g.Input("x", OnnxType.Float, 1);
        Assert.Throws<ArgumentException>(() => g.Input("x", OnnxType.Float, 1));
    }

    [Fact]
    public void OnnxTensor_WrongByteCount_Throws()
    {
        Assert.Throws<ArgumentException>(() => new OnnxTensor(OnnxType.Float, new byte[7], 2));
    }

    [Fact]
    public void Node_ValueFromAnotherBuilder_Throws()
    {
        var a = new OnnxGraphBuilder("a");
        var b = new OnnxGraphBuilder("b");
        var x = a.Input("x", OnnxType.Float, 1);
        Assert.Throws<ArgumentException>(() => b.Node("Neg", [x]));
    }
}

/// <summary>The example in src/SemanticSearch.Onnx/README.md, kept compiling and checked by hand.</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public void ReadmeExample_DenseReluSoftmaxSplit_ComputesHandValues()
    {
        var g = new OnnxGraphBuilder("dense_relu");
        var x = g.Input("x", OnnxType.Float, "batch", 3);
        var w = g.Initializer("w", new float[] { 1, 2, 3, 4, 5, 6 }, 3, 2);
        var b = g.Initializer(null, new float[] { 0.5f, -0.5f }, 2);
        var h = g.Node("Add", [g.Node("MatMul", [x, w]), b]);
        var y = g.Node("Relu", [h]);
        var r = g.Node("Reshape", [y, g.Int64s(0, -1)]);
        var s = g.Node("Softmax", [r], new OnnxAttributes { { "axis", -1 } });
        var parts = g.NodeWithOutputs("Split", [s], 2, new OnnxAttributes { { "axis", 1 } });
        g.Output(y, "y", OnnxType.Float, "batch", 2);
        g.Output(parts[0], "p0", OnnxType.Float);
        byte[] model = g.ToModel(opset: 17, metadata: new Dictionary<string, string> { ["source"] = "demo" });

        var result = OrtRun.Run(model, ("x", OrtRun.Floats([1, 1, -1, 1, 0, 1], 2, 3)));

        // row 0: [1,1,-1]·W = [-1, 0] + b = [-0.5, -0.5] → relu [0, 0] → softmax [0.5, 0.5]
        // row 1: [1,0,1]·W = [6, 8] + b = [6.5, 7.5] → softmax [1/(1+e), e/(1+e)]
        Assert.Equal([0f, 0f, 6.5f, 7.5f], result["y"].Data);
        Assert.Equal([2L, 1L], result["p0"].Shape);
        Assert.Equal(0.5f, result["p0"].Data[0], 6);
        Assert.Equal((float)(1 / (1 + Math.E)), result["p0"].Data[1], 6);
    }
}
