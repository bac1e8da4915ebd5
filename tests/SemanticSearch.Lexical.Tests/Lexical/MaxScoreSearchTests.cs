using Lucene.Net.Analysis.Core;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;
using SemanticSearch.Lexical;

namespace SemanticSearch.Tests.Lexical;

/// <summary>
/// MaxScore against Lucene's own BooleanQuery of SHOULD term clauses, the reference: on real multi-segment indexes
/// with deletions and terms of every frequency, the same entries in the same order with bit-identical scores.
/// </summary>
public sealed class MaxScoreSearchTests
{
    private const string Body = "text";
    private const LuceneVersion Version = LuceneVersion.LUCENE_48;

    // A Zipf-like vocabulary: word w{i} appears with weight 1/(i+1), so a few words are in most entries (the postings
    // MaxScore skips) and most are rare; lengths vary from 1 to 60 words so the length norm matters.
    private static string Text(Random random, int vocabulary)
    {
        var words = new string[1 + random.Next(60)];
        for (var i = 0; i < words.Length; i++)
        {
            var u = random.NextDouble();
            words[i] = "w" + (int)Math.Floor(Math.Pow(vocabulary, u) - 1);
        }
        return string.Join(' ', words);
    }

    // An index of `entries` in several segments (a commit every `perSegment`, no merges), some of them deleted.
    private static void Build(string path, Random random, int entries, int perSegment, int vocabulary, Similarity similarity)
    {
        using var directory = FSDirectory.Open(path);
        var config = new IndexWriterConfig(Version, new WhitespaceAnalyzer(Version)) { Similarity = similarity, MergePolicy = NoMergePolicy.NO_COMPOUND_FILES };
        using var writer = new IndexWriter(directory, config);
        for (var i = 0; i < entries; i++)
        {
            var doc = new Document
            {
                new StringField("id", i.ToString(System.Globalization.CultureInfo.InvariantCulture), Field.Store.NO),
                new StringField("group", (i % 3).ToString(System.Globalization.CultureInfo.InvariantCulture), Field.Store.NO),
            };
            // entries without the field, as chunk entries beside document entries: the first of every segment (whose
            // norm a bound must not be taken from) and a few more
            if (i % perSegment != 0 && random.Next(20) != 0)
            {
                doc.Add(new TextField(Body, Text(random, vocabulary), Field.Store.NO));
            }
            writer.AddDocument(doc);
            if ((i + 1) % perSegment == 0)
            {
                writer.Commit();
            }
        }
        for (var d = 0; d < entries / 15; d++)
        {
            writer.DeleteDocuments(new Term("id", random.Next(entries).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        writer.Commit();
    }

    private static (Term, float)[] RandomQuery(Random random, int vocabulary)
    {
        var count = 1 + random.Next(14);
        var terms = new (Term, float)[count];
        for (var i = 0; i < count; i++)
        {
            // some words beyond the vocabulary: terms no segment holds
            var word = "w" + random.Next(vocabulary + vocabulary / 10);
            terms[i] = (new Term(Body, word), 1 + random.Next(3));
        }
        return terms;
    }

    private static BooleanQuery Reference((Term Term, float Boost)[] terms)
    {
        var bq = new BooleanQuery();
        foreach (var (term, boost) in terms)
        {
            bq.Add(new TermQuery(term) { Boost = boost }, Occur.SHOULD);
        }
        return bq;
    }

    // Segments of 430 entries fit one 2,048-document window; of 5,000 they take three.
    [Theory]
    [InlineData(0.9f, 0.4f, 3000, 430, 150)]
    [InlineData(1.2f, 0.75f, 3000, 430, 150)]
    [InlineData(0f, 0.5f, 3000, 430, 150)]
    [InlineData(2f, 1f, 3000, 430, 150)]
    [InlineData(0.5f, 0f, 3000, 430, 150)]
    [InlineData(0.9f, 0.4f, 12000, 5000, 60)]
    public void Search_RandomQueriesOnSegmentedIndexWithDeletions_EqualsLuceneBooleanQuery(float k1, float b, int entries, int perSegment, int queries)
    {
        var similarity = new FieldBM25Similarity(k1, b);
        var random = new Random(unchecked((int)(k1 * 1000 + b * 10 + entries)));
        using var dir = new TempDir();
        const int vocabulary = 400;
        Build(dir.Path, random, entries, perSegment, vocabulary, similarity);
        using var reader = DirectoryReader.Open(FSDirectory.Open(dir.Path));
        Assert.True(reader.Leaves.Count >= 3, $"{reader.Leaves.Count} segments");
        Assert.True(reader.HasDeletions);
        var searcher = new IndexSearcher(reader) { Similarity = similarity };
        for (var q = 0; q < queries; q++)
        {
            var terms = RandomQuery(random, vocabulary);
            var k = new[] { 1, 3, 10, 100, 5000 }[q % 5];
            var expected = searcher.Search(Reference(terms), k).ScoreDocs;
            var actual = MaxScoreSearch.Search(searcher, Body, terms, k);
            Assert.NotNull(actual);
            var what = $"query {q} ({string.Join(' ', terms.Select(t => $"{t.Item1.Text}^{t.Item2}"))}), k {k}";
            Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} hits, Lucene {expected.Length}");
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.True(expected[i].Doc == actual[i].Doc && expected[i].Score == actual[i].Score,
                    $"{what}, rank {i}: doc {actual[i].Doc} score {actual[i].Score:R}, Lucene doc {expected[i].Doc} score {expected[i].Score:R}");
            }
        }
    }

    [Fact]
    public void Search_Filtered_IsTheUnfilteredRankingRestrictedToTheFilter()
    {
        // the reference: Lucene's unfiltered ranking of every match, keeping the entries the filter holds
        var similarity = new FieldBM25Similarity(0.9f, 0.4f);
        var random = new Random(17);
        using var dir = new TempDir();
        const int vocabulary = 300;
        Build(dir.Path, random, entries: 2500, perSegment: 400, vocabulary, similarity);
        using var reader = DirectoryReader.Open(FSDirectory.Open(dir.Path));
        var searcher = new IndexSearcher(reader) { Similarity = similarity };
        var group = new TermQuery(new Term("group", "1"));
        var inGroup = new HashSet<int>(searcher.Search(group, reader.MaxDoc).ScoreDocs.Select(d => d.Doc));
        var empty = new QueryWrapperFilter(new TermQuery(new Term("group", "none")));
        foreach (var filter in new Filter[] { new QueryWrapperFilter(group), new CachingWrapperFilter(new QueryWrapperFilter(group)) })
        {
            for (var q = 0; q < 60; q++)
            {
                var terms = RandomQuery(random, vocabulary);
                var k = new[] { 1, 10, 100, 3000 }[q % 4];
                var expected = searcher.Search(Reference(terms), reader.MaxDoc).ScoreDocs.Where(d => inGroup.Contains(d.Doc)).Take(k).ToList();
                var actual = MaxScoreSearch.Search(searcher, Body, terms, k, filter)!;
                Assert.Equal(expected.Select(d => (d.Doc, d.Score)), actual.Select(d => (d.Doc, d.Score)));
                Assert.Empty(MaxScoreSearch.Search(searcher, Body, terms, k, empty)!);
            }
        }
    }

    [Fact]
    public void Search_ManyEqualScores_TiesGoToTheLowerDocumentAsInLucene()
    {
        // every entry the same two words: every score ties, so the top k is the first k live entries
        var similarity = new FieldBM25Similarity(0.9f, 0.4f);
        using var dir = new TempDir();
        using (var directory = FSDirectory.Open(dir.Path))
        using (var writer = new IndexWriter(directory, new IndexWriterConfig(Version, new WhitespaceAnalyzer(Version)) { Similarity = similarity, MergePolicy = NoMergePolicy.NO_COMPOUND_FILES }))
        {
            for (var i = 0; i < 900; i++)
            {
                writer.AddDocument(new Document { new StringField("id", $"{i}", Field.Store.NO), new TextField(Body, "alpha beta", Field.Store.NO) });
                if (i % 200 == 199)
                {
                    writer.Commit();
                }
            }
            writer.DeleteDocuments(new Term("id", "3"));
            writer.Commit();
        }
        using var reader = DirectoryReader.Open(FSDirectory.Open(dir.Path));
        var searcher = new IndexSearcher(reader) { Similarity = similarity };
        var terms = new[] { (new Term(Body, "alpha"), 1f), (new Term(Body, "beta"), 1f) };
        var expected = searcher.Search(Reference(terms), 10).ScoreDocs.Select(d => d.Doc).ToList();
        Assert.Equal([0, 1, 2, 4, 5, 6, 7, 8, 9, 10], expected); // the reference itself: ties by document order
        Assert.Equal(expected, MaxScoreSearch.Search(searcher, Body, terms, 10)!.Select(d => d.Doc));
    }

    [Fact]
    public void Search_NoTermInTheIndex_ReturnsNothing()
    {
        var similarity = new FieldBM25Similarity(0.9f, 0.4f);
        using var dir = new TempDir();
        Build(dir.Path, new Random(5), entries: 200, perSegment: 90, vocabulary: 50, similarity);
        using var reader = DirectoryReader.Open(FSDirectory.Open(dir.Path));
        var searcher = new IndexSearcher(reader) { Similarity = similarity };
        Assert.Empty(MaxScoreSearch.Search(searcher, Body, [(new Term(Body, "absent"), 1f), (new Term(Body, "w99999"), 1f)], 10)!);
    }

    [Fact]
    public void Search_SimilarityOtherThanBm25_LeftToLucene()
    {
        using var dir = new TempDir();
        Build(dir.Path, new Random(6), entries: 100, perSegment: 100, vocabulary: 50, new DefaultSimilarity());
        using var reader = DirectoryReader.Open(FSDirectory.Open(dir.Path));
        var searcher = new IndexSearcher(reader) { Similarity = new DefaultSimilarity() }; // TF-IDF has a coord factor
        Assert.Null(MaxScoreSearch.Search(searcher, Body, [(new Term(Body, "w1"), 1f), (new Term(Body, "w2"), 1f)], 10));
    }

    [Fact]
    public void TryParse_OnlyBagsOfWordsOfOneField()
    {
        var words = Reference([(new Term(Body, "a"), 1f), (new Term(Body, "b"), 2f)]);
        Assert.True(MaxScoreSearch.TryParse(words, out var field, out var terms));
        Assert.Equal(Body, field);
        Assert.Equal([("a", 1f), ("b", 2f)], terms.Select(t => (t.Term.Text, t.Boost)));

        var required = new BooleanQuery { { new TermQuery(new Term(Body, "a")), Occur.SHOULD }, { new TermQuery(new Term(Body, "b")), Occur.MUST } };
        var excluded = new BooleanQuery { { new TermQuery(new Term(Body, "a")), Occur.SHOULD }, { new TermQuery(new Term(Body, "b")), Occur.MUST_NOT } };
        var phrase = new BooleanQuery { { new TermQuery(new Term(Body, "a")), Occur.SHOULD }, { new PhraseQuery { new Term(Body, "b"), new Term(Body, "c") }, Occur.SHOULD } };
        var twoFields = new BooleanQuery { { new TermQuery(new Term(Body, "a")), Occur.SHOULD }, { new TermQuery(new Term("title", "b")), Occur.SHOULD } };
        var boosted = Reference([(new Term(Body, "a"), 1f)]);
        boosted.Boost = 2f;
        var minimum = Reference([(new Term(Body, "a"), 1f), (new Term(Body, "b"), 1f)]);
        minimum.MinimumNumberShouldMatch = 2;
        var long65 = Reference(Enumerable.Range(0, MaxScoreSearch.MaxTerms + 1).Select(i => (new Term(Body, $"t{i}"), 1f)).ToArray());
        Assert.True(MaxScoreSearch.TryParse(Reference(Enumerable.Range(0, MaxScoreSearch.MaxTerms).Select(i => (new Term(Body, $"t{i}"), 1f)).ToArray()), out _, out _));
        foreach (var q in new Query[] { required, excluded, phrase, twoFields, boosted, minimum, long65, new TermQuery(new Term(Body, "a")), new BooleanQuery() })
        {
            Assert.False(MaxScoreSearch.TryParse(q, out _, out _), q.ToString());
        }
    }
}
