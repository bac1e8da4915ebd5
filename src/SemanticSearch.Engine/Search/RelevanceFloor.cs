// The relevance floor of hybrid search: a candidate survives fusion when BM25 matched it, or when some vector space
// scores it above that space's noise ceiling for the query. Without it, hybrid pads every answer to k with whatever
// vectors happen to be nearest, however far — a query one document answers comes back with k − 1 strangers.
//
// The ceiling is set per query and per space from the index's own vectors, not from a threshold per model: a query's
// similarities to documents picked without regard to it (IVectorIndex.SampleScores, 256 of them) give the mean μ and
// spread σ of its background. Among N unrelated vectors the best scores about μ + c(N)·σ, with c(N) the expected
// maximum of N standard normal draws (the first two terms of its extreme-value expansion):
//
//   c(N) = √(2 ln N) − (ln ln N + ln 4π) / (2 √(2 ln N))
//
// A candidate the vectors alone found is credible when its z = (s − μ)/σ reaches c(N) · Scale: it scores above what the
// best of the index's unrelated vectors would. Scale < 1 leaves a margin for backgrounds heavier-tailed than normal
// (real corpora are topical: their documents resemble each other). The value in use and its cost on the BEIR sets are
// in docs/eval/relevance-floor.md.
namespace SemanticSearch.Engine.Search;

/// <summary>Per query and vector space: the similarity a dense-only hybrid candidate must reach to be kept.</summary>
internal static class RelevanceFloor
{
    /// <summary>Background vectors sampled per query and space.</summary>
    public const int SampleSize = 256;

    /// <summary>The share of the noise ceiling a dense-only candidate's z must reach (see the file header).</summary>
    public const double Scale = 1.0;

    /// <summary>Expected maximum of <paramref name="n"/> standard normal draws (two-term expansion); 0 below 3.</summary>
    public static double ExpectedMaximum(long n)
    {
        if (n < 3)
        {
            return 0;
        }
        var a = Math.Sqrt(2 * Math.Log(n));
        return a - ((Math.Log(Math.Log(n)) + Math.Log(4 * Math.PI)) / (2 * a));
    }

    /// <summary>
    /// The least similarity a dense-only candidate needs, from the query's <paramref name="background"/> scores in an
    /// index of <paramref name="vectors"/> live vectors; null (no floor) when the sample is too small to tell a spread
    /// (under 8 scores, or all equal).
    /// </summary>
    public static double? Floor(ReadOnlySpan<float> background, long vectors, double scale = Scale)
    {
        if (background.Length < 8)
        {
            return null;
        }
        double sum = 0, squares = 0;
        foreach (var s in background)
        {
            sum += s;
            squares += (double)s * s;
        }
        var mean = sum / background.Length;
        var variance = Math.Max(0, (squares / background.Length) - (mean * mean));
        var sd = Math.Sqrt(variance * background.Length / (background.Length - 1));
        if (sd < 1e-9)
        {
            return null;
        }
        return mean + (scale * ExpectedMaximum(vectors) * sd);
    }
}
