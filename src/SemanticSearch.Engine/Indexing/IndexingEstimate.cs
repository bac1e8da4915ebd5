// The time left of a folder job, from tokens. Embedding is what takes the time, and its cost follows the tokens
// embedded, not the files: one large file among small ones is simply many tokens. So:
// - the tokens still to embed = the tokens counted for every file chunked so far and not embedded yet, plus, for the
//   files not chunked yet, their size in bytes times the tokens per byte measured on the files of the same type
//   chunked so far (another type's ratio, or a prior of 0.25 tokens per byte — English text in UTF-8 — until one is);
// - the rate = an exponentially weighted moving average of tokens embedded per second, weighted by time (a sample of
//   Δt seconds moves the average by 1 − 2^(−Δt / half-life)), so a burst of tiny batches and one long batch count by
//   the time they took, not by how many reports they made; samples shorter than MinSample are merged into the next;
// - the time left = tokens left / rate, counted down by the time since the last report of tokens embedded.
// It reads no clock: every call carries the time, so tests drive it with a simulated one.
namespace SemanticSearch.Engine.Indexing;

/// <summary>Tokens left to embed in a folder job and the time they will take.</summary>
public sealed class IndexingEstimate
{
    /// <summary>Tokens per byte assumed for a file type before any file of any type has been chunked.</summary>
    public const double PriorTokensPerByte = 0.25;

    /// <summary>Samples shorter than this are merged into the next one.</summary>
    public static readonly TimeSpan MinSample = TimeSpan.FromSeconds(2);

    private readonly double _halfLifeSeconds;
    private readonly Dictionary<string, (long Bytes, long Tokens)> _measured = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, long> _pendingBytes = new(StringComparer.OrdinalIgnoreCase);
    private long _tokensCounted;
    private TimeSpan? _sampleStart;
    private long _sampleStartTokens;
    private TimeSpan _lastUpdate;

    /// <summary>An estimate whose rate forgets half of its past every <paramref name="halfLife"/> (default 20 s).</summary>
    public IndexingEstimate(TimeSpan? halfLife = null)
    {
        _halfLifeSeconds = (halfLife ?? TimeSpan.FromSeconds(20)).TotalSeconds;
        if (_halfLifeSeconds <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(halfLife), "the half-life must be positive");
        }
    }

    /// <summary>Tokens embedded so far.</summary>
    public long TokensEmbedded { get; private set; }

    /// <summary>Tokens the job is expected to embed in all (counted for chunked files, estimated for the rest).</summary>
    public long TokensExpected
    {
        get
        {
            double estimate = _tokensCounted;
            foreach (var (type, bytes) in _pendingBytes)
            {
                estimate += bytes * TokensPerByte(type);
            }
            return Math.Max(TokensEmbedded, (long)Math.Round(estimate));
        }
    }

    /// <summary>The smoothed rate in tokens per second, or null before the first full sample.</summary>
    public double? TokensPerSecond { get; private set; }

    /// <summary>A file of type <paramref name="extension"/> and <paramref name="bytes"/> bytes is to be handled.</summary>
    public void Listed(string extension, long bytes)
    {
        _pendingBytes[extension] = _pendingBytes.GetValueOrDefault(extension) + Math.Max(0, bytes);
    }

    /// <summary>
    /// A listed file was handled: chunked into <paramref name="tokens"/> tokens to embed, or (null) left alone
    /// (unchanged, skipped): it will embed nothing.
    /// </summary>
    public void Settled(string extension, long bytes, long? tokens)
    {
        if (_pendingBytes.TryGetValue(extension, out var pending))
        {
            _pendingBytes[extension] = Math.Max(0, pending - Math.Max(0, bytes));
        }
        if (tokens is { } t)
        {
            _tokensCounted += t;
            if (bytes > 0)
            {
                var (b, k) = _measured.GetValueOrDefault(extension);
                _measured[extension] = (b + bytes, k + t);
            }
        }
    }

    /// <summary>At time <paramref name="now"/> (any fixed origin), <paramref name="tokensEmbedded"/> tokens are embedded in all.</summary>
    public void Embedded(TimeSpan now, long tokensEmbedded)
    {
        TokensEmbedded = Math.Max(TokensEmbedded, tokensEmbedded);
        _lastUpdate = now;
        if (_sampleStart is not { } start)
        {
            _sampleStart = now;
            _sampleStartTokens = TokensEmbedded;
            return;
        }
        var dt = (now - start).TotalSeconds;
        if (now - start < MinSample)
        {
            return;
        }
        var rate = (TokensEmbedded - _sampleStartTokens) / dt;
        TokensPerSecond = TokensPerSecond is { } smoothed
            ? smoothed + (1 - Math.Pow(2, -dt / _halfLifeSeconds)) * (rate - smoothed)
            : rate;
        _sampleStart = now;
        _sampleStartTokens = TokensEmbedded;
    }

    /// <summary>The time left at <paramref name="now"/>, or null while there is no rate yet.</summary>
    public TimeSpan? Remaining(TimeSpan now)
    {
        if (TokensPerSecond is not { } rate || rate <= 0)
        {
            return null;
        }
        var seconds = (TokensExpected - TokensEmbedded) / rate - Math.Max(0, (now - _lastUpdate).TotalSeconds);
        return TimeSpan.FromSeconds(Math.Clamp(seconds, 0, TimeSpan.FromDays(365).TotalSeconds));
    }

    private double TokensPerByte(string extension)
    {
        if (_measured.TryGetValue(extension, out var own) && own.Bytes > 0)
        {
            return (double)own.Tokens / own.Bytes;
        }
        long bytes = 0, tokens = 0;
        foreach (var (b, t) in _measured.Values)
        {
            bytes += b;
            tokens += t;
        }
        return bytes > 0 ? (double)tokens / bytes : PriorTokensPerByte;
    }
}
