using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;

namespace SemanticSearch.Lexical;

// BM25 with N and the average field length taken from the field's own DocCount (entries that hold the field) rather
// than MaxDoc (every entry): chunk and document entries share the index, and each field must be scored as if its
// kind of entry were alone. On an index with one kind of entry, whose every entry has the field, the two are equal.
internal sealed class FieldBM25Similarity(float k1, float b) : BM25Similarity(k1, b)
{
    private static long Entries(CollectionStatistics stats) => stats.DocCount > 0 ? stats.DocCount : stats.MaxDoc;

    protected override float AvgFieldLength(CollectionStatistics collectionStats)
    {
        var sum = collectionStats.SumTotalTermFreq;
        return sum <= 0 ? 1f : (float)(sum / (double)Entries(collectionStats));
    }

    public override Explanation IdfExplain(CollectionStatistics collectionStats, TermStatistics termStats)
    {
        var df = termStats.DocFreq;
        var n = Entries(collectionStats);
        return new Explanation(Idf(df, n), $"idf(docFreq={df}, docCount={n})");
    }

    public override Explanation IdfExplain(CollectionStatistics collectionStats, TermStatistics[] termStats)
    {
        var n = Entries(collectionStats);
        var exp = new Explanation { Description = "idf(), sum of:" };
        var idf = 0f;
        foreach (var t in termStats)
        {
            var termIdf = Idf(t.DocFreq, n);
            exp.AddDetail(new Explanation(termIdf, $"idf(docFreq={t.DocFreq}, docCount={n})"));
            idf += termIdf;
        }
        exp.Value = idf;
        return exp;
    }
}

// Every searcher the manager hands out scores with the index's BM25 parameters.
internal sealed class BM25SearcherFactory(Similarity similarity) : SearcherFactory
{
    public override IndexSearcher NewSearcher(IndexReader reader) => new(reader) { Similarity = similarity };
}
