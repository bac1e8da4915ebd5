using SemanticSearch.Onnx.Bert;

namespace SemanticSearch.Engine.Models;

/// <summary>What the converted graph outputs.</summary>
public enum CheckpointPooling
{
    /// <summary>The attention-masked mean of the token states.</summary>
    Mean,

    /// <summary>The [CLS] state.</summary>
    Cls,

    /// <summary>No pooling: <c>last_hidden_state</c> only.</summary>
    None,
}

/// <summary>Quantisation of the converted graph.</summary>
public enum CheckpointQuantization
{
    /// <summary>Float32 weights.</summary>
    None,

    /// <summary>Dynamic int8 quantisation of the linear layers.</summary>
    Int8,
}

/// <summary><c>models convert</c>: a BERT checkpoint (config.json + model.safetensors) into the ONNX graph the engine runs.</summary>
public static class CheckpointConversion
{
    /// <summary>Converts <paramref name="checkpoint"/> into <paramref name="target"/>; returns the size written in bytes.</summary>
    public static long ConvertBert(string checkpoint, string target, CheckpointPooling pooling, CheckpointQuantization quantization)
    {
        var options = new BertExportOptions
        {
            Pooling = pooling switch
            {
                CheckpointPooling.Mean => BertPooling.Mean,
                CheckpointPooling.Cls => BertPooling.Cls,
                CheckpointPooling.None => BertPooling.None,
                _ => throw new ArgumentOutOfRangeException(nameof(pooling), pooling, null),
            },
            Quantization = quantization switch
            {
                CheckpointQuantization.None => BertQuantization.None,
                CheckpointQuantization.Int8 => BertQuantization.Int8,
                _ => throw new ArgumentOutOfRangeException(nameof(quantization), quantization, null),
            },
        };
        BertOnnxConverter.ConvertToFile(checkpoint, target, options);
        return new FileInfo(target).Length;
    }
}
