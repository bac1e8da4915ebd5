// Sentence encoding with a BERT-family ONNX graph: tokens → last_hidden_state [batch, seq, hidden] → pooling
// (mean weighted by the attention mask, as sentence-transformers does; or the [CLS] state; or none when the graph
// pools) → L2 normalisation. Invariants: with a float graph, a text's vector does not depend on what it is batched
// with beyond float rounding (padding is masked out of attention and of the mean; an int8 graph's per-run activation
// scale moves it slightly, docs/benchmarks.md), results come back in the caller's order although batches are sorted by length
// (so little padding is computed), and no text is silently truncated by the model: truncation to MaxTokens (prefix
// and [CLS]/[SEP] included) happens here, explicitly.
using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using SemanticSearch.Core;
using SemanticSearch.Core.Chunking;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Models;
using SemanticSearch.Embeddings.Tokenization;

namespace SemanticSearch.Embeddings;

/// <summary>Run-time choices for <see cref="OnnxTextEncoder"/>.</summary>
/// <remarks>
/// The defaults were chosen by measurement on a 2-core AVX-512 machine (docs/benchmarks.md, encoder): small runs,
/// one per core, each on one ONNX Runtime thread. A run of a few hundred tokens keeps a layer's activations in its
/// core's cache and needs no hand-over between threads inside an operator; on SciFact passages that is about 1.1×
/// the throughput of 1,536-token runs split over both cores, and on short texts more.
/// </remarks>
/// <param name="BatchSize">At most this many texts per graph run (texts are sorted by token count first).</param>
/// <param name="IntraOpThreads">
/// ONNX Runtime threads per run; 0 = <see cref="Environment.ProcessorCount"/>. The default, 1, leaves the cores to
/// <paramref name="ParallelBatches"/>; a single text (a query) then runs on one thread.
/// </param>
/// <param name="ParallelBatches">
/// Runs of one call that go at once, each on its own thread; 0 (the default) = <see cref="Environment.ProcessorCount"/>.
/// Runs × intra-op threads should not exceed the cores.
/// </param>
/// <param name="TokensPerBatch">
/// At most this many tokens per graph run, padding included (rows × the longest row): a run of short texts takes
/// more rows, one of long texts fewer (a text longer than the budget runs alone), so every run does about the same
/// work and little of it on padding. 0: rows only.
/// </param>
public sealed record OnnxEncoderOptions(int BatchSize = 64, int IntraOpThreads = 1, int ParallelBatches = 0, int TokensPerBatch = 384);

/// <summary>
/// An <see cref="ITextEncoder"/> over one ONNX Runtime <see cref="InferenceSession"/> (and, when given, a second one
/// for runs without padding), shared by every caller (ONNX Runtime's <c>Run</c> is thread-safe). Open one with <see cref="Open(ResolvedModel, OnnxEncoderOptions?, IModelTokenizer?)"/>.
/// </summary>
public sealed class OnnxTextEncoder : ITextEncoder
{
    private readonly InferenceSession _session;
    private readonly Lazy<InferenceSession>? _unpadded;
    private readonly IModelTokenizer _tokenizer;
    private readonly ModelProfile _profile;
    private readonly OnnxEncoderOptions _options;
    private readonly string[] _inputNames;
    private readonly string _outputName;
    private readonly int _queryOverhead;

    private OnnxTextEncoder(InferenceSession session, Func<InferenceSession>? unpadded, IModelTokenizer tokenizer, ModelProfile profile, OnnxEncoderOptions options, string source, string revisionSuffix)
    {
        _session = session;
        _unpadded = unpadded is null ? null : new Lazy<InferenceSession>(unpadded, LazyThreadSafetyMode.ExecutionAndPublication);
        _tokenizer = tokenizer;
        _profile = profile;
        _options = options;

        var declared = session.InputMetadata.Keys.ToHashSet(StringComparer.Ordinal);
        foreach (var required in new[] { "input_ids", "attention_mask" })
        {
            if (!declared.Contains(required))
            {
                throw new CorruptDataException(source, $"the graph has no '{required}' input (it has: {string.Join(", ", declared)})");
            }
        }

        // token_type_ids is optional: some exports fold it away; feeding an input the graph does not declare is an error.
        var known = new[] { "input_ids", "attention_mask", "token_type_ids" };
        var unknown = declared.Except(known).ToArray();
        if (unknown.Length > 0)
        {
            throw new CorruptDataException(source, $"the graph needs inputs this encoder cannot feed: {string.Join(", ", unknown)}");
        }

        _inputNames = known.Where(declared.Contains).ToArray();

        var outputs = session.OutputMetadata;
        _outputName = profile.Output
            ?? (profile.Pooling == PoolingMode.Graph ? outputs.Keys.First() : outputs.ContainsKey("last_hidden_state") ? "last_hidden_state" : outputs.Keys.First());
        if (!outputs.TryGetValue(_outputName, out var output))
        {
            throw new CorruptDataException(source, $"the graph has no output '{_outputName}' (it has: {string.Join(", ", outputs.Keys)})");
        }

        var expectedRank = profile.Pooling == PoolingMode.Graph ? 2 : 3;
        if (output.Dimensions.Length != expectedRank)
        {
            throw new CorruptDataException(source, $"output '{_outputName}' has rank {output.Dimensions.Length}, pooling '{profile.PoolingName}' needs rank {expectedRank}");
        }

        var graphDimensions = output.Dimensions[^1];
        var dimensions = profile.Dimensions > 0 ? profile.Dimensions : graphDimensions;
        if (dimensions <= 0)
        {
            throw new CorruptDataException(source, $"output '{_outputName}' does not declare its last dimension; set 'dimensions' in {ModelProfile.LocalFileName}");
        }

        if (graphDimensions > 0 && graphDimensions != dimensions)
        {
            throw new ModelMismatchException($"{source}: profile '{profile.Id}' says {dimensions} dimensions, the graph outputs {graphDimensions}");
        }

        var info = profile.ToEncoderInfo(dimensions);
        Info = revisionSuffix.Length == 0 ? info : info with { Revision = info.Revision + revisionSuffix };
        PassageOverheadTokens = CountPrefix(profile.PassagePrefix) + tokenizer.SpecialTokenCount;
        _queryOverhead = CountPrefix(profile.QueryPrefix) + tokenizer.SpecialTokenCount;
    }

    /// <inheritdoc />
    public EncoderInfo Info { get; }

    /// <inheritdoc />
    public ITokenCounter TokenCounter => _tokenizer;

    /// <summary>The tokenizer this encoder feeds the graph with.</summary>
    public IModelTokenizer Tokenizer => _tokenizer;

    /// <summary>The profile this encoder was opened with.</summary>
    public ModelProfile Profile => _profile;

    /// <inheritdoc />
    public int PassageOverheadTokens { get; }

    /// <summary>Tokens a query costs beyond its own text: the query prefix plus the special tokens.</summary>
    public int QueryOverheadTokens => _queryOverhead;

    /// <summary>Opens a resolved model (see <see cref="ModelCatalog.Resolve"/>).</summary>
    public static OnnxTextEncoder Open(ResolvedModel model, OnnxEncoderOptions? options = null, IModelTokenizer? tokenizer = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Open(model.Directory, model.Profile, options, tokenizer);
    }

    /// <summary>
    /// Opens <c>model.onnx</c> in <paramref name="directory"/> with <paramref name="profile"/>. The tokenizer defaults
    /// to the directory's WordPiece definition (<c>tokenizer.json</c> or <c>vocab.txt</c>); pass another one for
    /// models that use a different scheme.
    /// </summary>
    /// <param name="directory">The model directory.</param>
    /// <param name="profile">The model's profile.</param>
    /// <param name="options">Batching and threads.</param>
    /// <param name="tokenizer">The tokenizer; default: the directory's WordPiece definition.</param>
    /// <param name="graphFile">The graph to run, a file in <paramref name="directory"/> (a derived variant such as the int8 one).</param>
    /// <param name="revisionSuffix">Appended to the profile's revision in <see cref="Info"/>, naming the variant.</param>
    /// <param name="unpaddedGraphFile">
    /// Optional: the same graph for runs without padding (every row of one length), a file in
    /// <paramref name="directory"/> such as <see cref="Int8Variant.EnsureUnpadded(string, ModelProfile)"/> derives. Such
    /// runs then go through it (opened on first use); all others through <paramref name="graphFile"/>.
    /// </param>
    public static OnnxTextEncoder Open(string directory, ModelProfile profile, OnnxEncoderOptions? options = null, IModelTokenizer? tokenizer = null,
        string graphFile = OnnxEncoderFormat.OnnxFileName, string revisionSuffix = "", string? unpaddedGraphFile = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        options ??= new OnnxEncoderOptions();
        if (options.BatchSize < 1)
        {
            throw new InvalidSettingException("batchSize", $"must be at least 1, was {options.BatchSize}");
        }

        if (options.TokensPerBatch < 0)
        {
            throw new InvalidSettingException("tokensPerBatch", $"must be 0 (rows only) or positive, was {options.TokensPerBatch}");
        }

        var onnx = Path.Combine(directory, graphFile);
        if (!File.Exists(onnx))
        {
            throw new NotFoundException($"{onnx}: not found" + (profile.Source is null ? "" : $"; run: semsearch models pull {profile.Id}"));
        }

        tokenizer ??= WordPieceTokenizer.FromDirectory(directory);
        var threads = options.IntraOpThreads > 0 ? options.IntraOpThreads : Environment.ProcessorCount;
        var session = OpenSession(onnx, threads);
        Func<InferenceSession>? unpadded = null;
        if (unpaddedGraphFile is not null)
        {
            var path = Path.Combine(directory, unpaddedGraphFile);
            if (!File.Exists(path))
            {
                session.Dispose();
                throw new NotFoundException($"{path}: not found");
            }
            unpadded = () => OpenCompanion(path, threads, session);
        }

        try
        {
            return new OnnxTextEncoder(session, unpadded, tokenizer, profile, options, onnx, revisionSuffix);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static InferenceSession OpenSession(string onnx, int threads)
    {
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            // every run has its own [rows, length] shape; a memory pattern is planned per shape and only pays when
            // shapes repeat (measured: off is ~10 % faster on SciFact passages, docs/benchmarks.md)
            EnableMemoryPattern = false,
            // ONNX Runtime's warnings (an initializer its optimiser finds unused after our attention fusion on a
            // mean-pooled graph) would be printed to the user's terminal on every open; errors still are
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        try
        {
            return new InferenceSession(onnx, sessionOptions);
        }
        catch (OnnxRuntimeException e)
        {
            throw new CorruptDataException(onnx, $"ONNX Runtime cannot load the graph ({e.Message})", e);
        }
    }

    // The graph for unpadded runs must take and give what the main graph does: the encoder feeds both alike.
    private static InferenceSession OpenCompanion(string onnx, int threads, InferenceSession main)
    {
        var session = OpenSession(onnx, threads);
        var inputs = session.InputMetadata.Keys.Order(StringComparer.Ordinal);
        var outputs = session.OutputMetadata.Keys.Order(StringComparer.Ordinal);
        if (!inputs.SequenceEqual(main.InputMetadata.Keys.Order(StringComparer.Ordinal), StringComparer.Ordinal)
            || !outputs.SequenceEqual(main.OutputMetadata.Keys.Order(StringComparer.Ordinal), StringComparer.Ordinal))
        {
            session.Dispose();
            throw new CorruptDataException(onnx, $"the graph for unpadded runs has inputs ({string.Join(", ", inputs)}) and outputs ({string.Join(", ", outputs)}) other than the main graph's");
        }
        return session;
    }

    /// <summary>Embeds <paramref name="texts"/> into a new array, row-major <c>[texts.Count, Dimensions]</c>.</summary>
    public float[] Encode(IReadOnlyList<string> texts, TextRole role)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var output = new float[texts.Count * Info.Dimensions];
        Encode(texts, role, output);
        return output;
    }

    /// <inheritdoc />
    public void Encode(IReadOnlyList<string> texts, TextRole role, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var prefix = _profile.PrefixFor(role);
        var sequences = new int[texts.Count][];
        for (var i = 0; i < texts.Count; i++)
        {
            sequences[i] = _tokenizer.Encode(prefix.Length == 0 ? texts[i] : prefix + texts[i], _profile.MaxTokens);
        }

        EncodeTokens(sequences, output);
    }

    /// <summary>
    /// Embeds already-tokenized sequences (special tokens included, at most MaxTokens each). Sequences are run in
    /// batches of similar length; rows of <paramref name="output"/> follow the order of <paramref name="sequences"/>.
    /// </summary>
    public void EncodeTokens(IReadOnlyList<int[]> sequences, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        var dim = Info.Dimensions;
        if (output.Length < sequences.Count * dim)
        {
            throw new ArgumentException($"output holds {output.Length} floats, {sequences.Count} vectors of {dim} need {sequences.Count * dim}", nameof(output));
        }

        var order = new int[sequences.Count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
            if (sequences[i].Length > _profile.MaxTokens)
            {
                throw new InvalidSettingException("sequence", $"row {i} has {sequences[i].Length} tokens, the model takes at most {_profile.MaxTokens}");
            }
        }

        // Stable sort by length: each batch pads only to its own longest member.
        var lengths = new int[order.Length];
        for (var i = 0; i < lengths.Length; i++)
        {
            lengths[i] = sequences[i].Length;
        }

        Array.Sort(lengths, order);
        var batches = CutBatches(lengths, _options.BatchSize, _options.TokensPerBatch);
        var parallel = Math.Min(batches.Count, _options.ParallelBatches > 0 ? _options.ParallelBatches : Environment.ProcessorCount);
        if (parallel <= 1)
        {
            foreach (var (start, count) in batches)
            {
                RunBatch(sequences, order, start, count, output);
            }

            return;
        }

        // Each batch writes its own rows, so batches run side by side into one array, then copy out (a span cannot be
        // captured by the workers).
        var rows = new float[sequences.Count * dim];
        Parallel.For(0, batches.Count, new ParallelOptions { MaxDegreeOfParallelism = parallel }, b => RunBatch(sequences, order, batches[b].Start, batches[b].Count, rows));
        rows.CopyTo(output);
    }

    /// <summary>
    /// Cuts rows sorted by ascending length into runs of at most <paramref name="maxRows"/> rows and, when
    /// <paramref name="tokenBudget"/> is positive, at most that many padded tokens (rows × the run's longest length,
    /// its last row); a row longer than the budget runs alone.
    /// </summary>
    internal static List<(int Start, int Count)> CutBatches(ReadOnlySpan<int> sortedLengths, int maxRows, int tokenBudget)
    {
        var batches = new List<(int, int)>();
        var start = 0;
        while (start < sortedLengths.Length)
        {
            var count = 1;
            while (start + count < sortedLengths.Length && count < maxRows
                && (tokenBudget <= 0 || (long)(count + 1) * Math.Max(sortedLengths[start + count], 1) <= tokenBudget))
            {
                count++;
            }

            batches.Add((start, count));
            start += count;
        }

        return batches;
    }

    private void RunBatch(IReadOnlyList<int[]> sequences, int[] order, int start, int count, Span<float> output)
    {
        var batch = new int[count][];
        for (var k = 0; k < count; k++)
        {
            batch[k] = sequences[order[start + k]];
        }

        RunBatch(TokenBatch.FromSequences(batch, _tokenizer.PaddingId), order.AsSpan(start, count), output);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _session.Dispose();
        if (_unpadded is { IsValueCreated: true })
        {
            _unpadded.Value.Dispose();
        }
    }

    private void RunBatch(TokenBatch batch, ReadOnlySpan<int> rows, Span<float> output)
    {
        long[] shape = [batch.Count, batch.Length];
        var values = new OrtValue[_inputNames.Length];
        try
        {
            for (var i = 0; i < _inputNames.Length; i++)
            {
                var data = _inputNames[i] switch
                {
                    "input_ids" => batch.InputIds,
                    "attention_mask" => batch.AttentionMask,
                    _ => batch.TokenTypeIds,
                };
                values[i] = OrtValue.CreateTensorValueFromMemory(data, shape);
            }

            // a run whose rows are all of one length has no padding to mask: the graph for such runs (when there is one)
            // lets ONNX Runtime take its flash-attention path, which takes no mask (PaddingFree)
            var session = _unpadded is not null && batch.Lengths.All(l => l == batch.Length) ? _unpadded.Value : _session;
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, _inputNames, values, [_outputName]);
            var result = results[0];
            var states = result.GetTensorDataAsSpan<float>();
            var resultShape = result.GetTensorTypeAndShape().Shape;
            var dim = Info.Dimensions;
            if (resultShape[^1] != dim)
            {
                throw new ModelMismatchException($"{_profile.Id}: the graph produced vectors of {resultShape[^1]} dimensions, expected {dim}");
            }

            // a graph trimmed to its first token (FirstTokenTrim) returns one state per row; mean pooling needs them all
            var statesPerRow = resultShape.Length == 3 ? (int)resultShape[1] : 1;
            if (_profile.Pooling is not (PoolingMode.Graph or PoolingMode.Cls) && statesPerRow != batch.Length)
            {
                throw new ModelMismatchException($"{_profile.Id}: the graph returned {statesPerRow} token states per row for {batch.Length} tokens; pooling '{_profile.PoolingName}' needs one per token");
            }

            for (var r = 0; r < batch.Count; r++)
            {
                var target = output.Slice(rows[r] * dim, dim);
                switch (_profile.Pooling)
                {
                    case PoolingMode.Graph:
                        states.Slice(r * dim, dim).CopyTo(target);
                        break;
                    case PoolingMode.Cls:
                        states.Slice(r * statesPerRow * dim, dim).CopyTo(target);
                        break;
                    default:
                        MeanPool(states.Slice(r * batch.Length * dim, batch.Length * dim), batch.Lengths[r], dim, target);
                        break;
                }

                if (_profile.Normalize)
                {
                    Normalize(target);
                }
            }
        }
        finally
        {
            foreach (var value in values)
            {
                value?.Dispose();
            }
        }
    }

    /// <summary>Mean over the first <paramref name="length"/> token states: the rows the attention mask keeps.</summary>
    internal static void MeanPool(ReadOnlySpan<float> tokenStates, int length, int dim, Span<float> target)
    {
        target.Clear();
        for (var t = 0; t < length; t++)
        {
            TensorPrimitives.Add(target, tokenStates.Slice(t * dim, dim), target);
        }

        TensorPrimitives.Multiply(target, 1f / Math.Max(length, 1), target);
    }

    /// <summary>Scales <paramref name="vector"/> to unit L2 norm (a zero vector stays zero).</summary>
    internal static void Normalize(Span<float> vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (norm > 0)
        {
            TensorPrimitives.Divide(vector, norm, vector);
        }
    }

    private int CountPrefix(string prefix) => prefix.Length == 0 ? 0 : _tokenizer.CountTokens(prefix);
}
