// Deterministic pseudo-embeddings with the structure of real ones, for benchmarks that need a million vectors without
// running a model. Uniform random vectors are HNSW's unrealistic worst case (no neighbourhoods, every distance alike);
// these take their geometry from the real co-occurrence of words instead:
//   - each abstract a of the pool has a fixed Gaussian vector r_a (seeded by its number);
//   - a word's vector is the normalised sum of r_a over the abstracts it occurs in, plus a smaller Gaussian part of
//     its own (seeded by the word's hash), so words that occur together point the same way — a random projection of
//     the term–abstract matrix, which keeps that matrix's geometry (Johnson–Lindenstrauss), i.e. an LSA-like space;
//   - a text's vector is the L2-normalised IDF-weighted sum of its words' vectors, plus a little Gaussian noise.
// Texts on one topic (sharing rare words, or drawn from the same abstracts) get nearby vectors, and the set has the
// clusters and uneven density real embeddings have.
using System.Numerics.Tensors;
using System.Text;

namespace ScaleBench;

/// <summary>Makes a text's pseudo-vector; thread-safe once built.</summary>
internal sealed class PseudoVectors
{
    private readonly Dictionary<string, float[]> _words;
    private readonly int _dims;
    private readonly ulong _seed;
    private readonly float _noise;
    private readonly float _unknownIdf;

    // own: the weight of a word's own part against its co-occurrence part (both unit length); decay: the abstract
    // vectors' standard deviation falls as (d+1)^-decay over the dimensions d, so that, as in real embeddings, a few
    // directions carry most of the variance. The default 0.4 was calibrated on arctic-embed-xs: for the same 2,100
    // generated texts and 100 queries embedded by the real model, HNSW (M 16, efC 200) finds recall@10 0.951 at ef 64
    // and 0.734 at ef 16; these vectors 0.948 and 0.756 (0.3: 0.908 at ef 64; 0.5: 0.971). See docs/benchmarks.md.
    public PseudoVectors(SentencePool pool, int dimensions, ulong seed, float noise, float own, float decay)
    {
        _dims = dimensions;
        _seed = seed;
        _noise = noise;
        _unknownIdf = (float)Math.Log(1.0 + pool.Sentences.Count);
        var sums = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var r = new float[dimensions];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var current = -1;
        foreach (var sentence in pool.Sentences)
        {
            if (sentence.Abstract != current)
            {
                current = sentence.Abstract;
                seen.Clear();
                var rng = SplitMix64.For(seed ^ 0xAB57AC7UL, current);
                for (var d = 0; d < dimensions; d++)
                {
                    r[d] = rng.NextGaussian() * MathF.Pow(d + 1, -decay);
                }
            }
            foreach (var w in SentencePool.Words(sentence.Text))
            {
                if (seen.Add(w))
                {
                    if (!sums.TryGetValue(w, out var sum))
                    {
                        sums[w] = sum = new float[dimensions];
                    }
                    TensorPrimitives.Add(sum, r, sum);
                }
            }
        }
        _words = new Dictionary<string, float[]>(sums.Count, StringComparer.Ordinal);
        foreach (var (word, sum) in sums)
        {
            Normalise(sum);
            TensorPrimitives.MultiplyAdd(Own(word), own, sum, sum);
            TensorPrimitives.Multiply(sum, pool.Idf.TryGetValue(word, out var idf) ? idf : _unknownIdf, sum);
            _words[word] = sum;
        }
    }

    /// <summary>Vector dimensions.</summary>
    public int Dimensions => _dims;

    /// <summary>The unit vector of <paramref name="text"/>; <paramref name="rng"/> draws its noise.</summary>
    public float[] Of(string text, ref SplitMix64 rng)
    {
        var v = new float[_dims];
        foreach (var w in SentencePool.Words(text))
        {
            if (_words.TryGetValue(w, out var word))
            {
                TensorPrimitives.Add(v, word, v);
            }
            else
            {
                TensorPrimitives.MultiplyAdd(Own(w), _unknownIdf, v, v);
            }
        }
        Normalise(v);
        for (var d = 0; d < v.Length; d++)
        {
            v[d] += _noise * rng.NextGaussian() / MathF.Sqrt(_dims); // noise of norm ≈ _noise
        }
        Normalise(v);
        return v;
    }

    // A word's own unit Gaussian direction, seeded by its hash.
    private float[] Own(string word)
    {
        var rng = new SplitMix64(_seed ^ Fnv1a(word));
        var v = new float[_dims];
        for (var d = 0; d < v.Length; d++)
        {
            v[d] = rng.NextGaussian();
        }
        Normalise(v);
        return v;
    }

    private static void Normalise(float[] v)
    {
        var norm = TensorPrimitives.Norm(v);
        if (norm > 0)
        {
            TensorPrimitives.Divide(v, norm, v);
        }
    }

    private static ulong Fnv1a(string word)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(word))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        return hash;
    }
}

/// <summary>SplitMix64 (Steele, Lea &amp; Flood 2014): a tiny seedable generator whose stream is fixed by its seed on every platform and runtime.</summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    /// <summary>A stream for item <paramref name="index"/> of the stream family <paramref name="seed"/>: independent of every other item.</summary>
    public static SplitMix64 For(ulong seed, long index)
    {
        var mixer = new SplitMix64(seed * 0x9E3779B97F4A7C15UL + (ulong)index);
        return new SplitMix64(mixer.NextULong());
    }

    public ulong NextULong()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, <paramref name="n"/>).</summary>
    public int Next(int n) => (int)(NextDouble() * n);

    /// <summary>Standard normal (Box–Muller).</summary>
    public float NextGaussian()
    {
        var u = 1.0 - NextDouble();
        var v = NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v));
    }
}
