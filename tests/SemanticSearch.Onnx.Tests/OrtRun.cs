using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace SemanticSearch.Onnx.Tests;

/// <summary>Runs a serialised model in a real ONNX Runtime session and copies every output out.</summary>
internal static class OrtRun
{
    public sealed record Result(float[] Data, long[] Shape);

    public static OrtValue Floats(float[] data, params long[] shape) => OrtValue.CreateTensorValueFromMemory(data, shape);

    public static OrtValue Int64s(long[] data, params long[] shape) => OrtValue.CreateTensorValueFromMemory(data, shape);

    public static Dictionary<string, Result> Run(byte[] model, params (string Name, OrtValue Value)[] inputs)
    {
        using var options = new SessionOptions();
        using var session = new InferenceSession(model, options);
        return Run(session, inputs);
    }

    public static Dictionary<string, Result> Run(InferenceSession session, params (string Name, OrtValue Value)[] inputs)
    {
        try
        {
            var outputNames = session.OutputMetadata.Keys.ToArray();
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), inputs.Select(i => i.Value).ToArray(), outputNames);
            var result = new Dictionary<string, Result>();
            for (int i = 0; i < outputNames.Length; i++)
            {
                var info = outputs[i].GetTensorTypeAndShape();
                float[] data = info.ElementDataType switch
                {
                    TensorElementType.Float => outputs[i].GetTensorDataAsSpan<float>().ToArray(),
                    TensorElementType.Int64 => outputs[i].GetTensorDataAsSpan<long>().ToArray().Select(v => (float)v).ToArray(),
                    TensorElementType.Int32 => outputs[i].GetTensorDataAsSpan<int>().ToArray().Select(v => (float)v).ToArray(),
                    _ => throw new NotSupportedException(info.ElementDataType.ToString()),
                };
                result[outputNames[i]] = new Result(data, info.Shape);
            }
            return result;
        }
        finally
        {
            foreach (var (_, value) in inputs) value.Dispose();
        }
    }
}
