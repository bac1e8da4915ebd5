using Microsoft.ML.OnnxRuntime;

namespace SemanticSearch.Onnx.Tests.Bert;

/// <summary>Runs an encoder graph on a right-padded batch.</summary>
internal static class EncoderRun
{
    public sealed record Output(float[] Hidden, float[]? Pooled, int Batch, int Sequence, int HiddenSize);

    public static Output Run(InferenceSession session, long[][] ids, long[][] types, int? padTo = null)
    {
        int batch = ids.Length, seq = padTo ?? ids.Max(s => s.Length);
        var idArr = new long[batch * seq];
        var maskArr = new long[batch * seq];
        var typeArr = new long[batch * seq];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < ids[b].Length; t++)
            {
                idArr[b * seq + t] = ids[b][t];
                maskArr[b * seq + t] = 1;
                typeArr[b * seq + t] = types[b][t];
            }
        var r = OrtRun.Run(session,
            ("input_ids", OrtRun.Int64s(idArr, batch, seq)),
            ("attention_mask", OrtRun.Int64s(maskArr, batch, seq)),
            ("token_type_ids", OrtRun.Int64s(typeArr, batch, seq)));
        var hidden = r["last_hidden_state"];
        return new Output(hidden.Data, r.TryGetValue("sentence_embedding", out var p) ? p.Data : null, batch, seq, (int)hidden.Shape[2]);
    }

    public static Output Run(byte[] model, long[][] ids, long[][] types, int? padTo = null)
    {
        using var session = new InferenceSession(model);
        return Run(session, ids, types, padTo);
    }
}
