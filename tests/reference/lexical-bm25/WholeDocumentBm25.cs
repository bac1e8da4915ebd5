// An independent whole-document BM25 over a BEIR corpus, written apart from the engine to check its lexical scoring.
//
// It is Pyserini's BEIR "flat" configuration done directly with Lucene.Net 4.8: one Lucene document per corpus record
// (empty ones too, as Pyserini indexes them), title and text joined into one analysed field, Lucene's EnglishAnalyzer,
// BM25Similarity(k1 = 0.9, b = 0.4), and a bag-of-words query with one SHOULD term clause per distinct analysed query
// term, boosted by its count in the query. Nothing here calls the engine: it reads corpus.jsonl and queries.jsonl
// itself and builds its own query, so an engine bug cannot cancel out on both sides.
using System.Text.Json;
using Lucene.Net.Analysis.En;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;

namespace SemanticSearch.Reference;

/// <summary>Whole-document BM25 (Pyserini BEIR flat) of a BEIR folder, in memory.</summary>
internal sealed class WholeDocumentBm25 : IDisposable
{
    private const LuceneVersion Version = LuceneVersion.LUCENE_48;
    private const string Field = "contents";
    private readonly RAMDirectory _directory = new();
    private readonly EnglishAnalyzer _analyzer = new(Version);
    private readonly DirectoryReader _reader;
    private readonly IndexSearcher _searcher;

    /// <summary>Indexes <c>corpus.jsonl</c> of <paramref name="beirFolder"/>.</summary>
    public WholeDocumentBm25(string beirFolder)
    {
        var similarity = new BM25Similarity(0.9f, 0.4f);
        using (var writer = new IndexWriter(_directory, new IndexWriterConfig(Version, _analyzer) { Similarity = similarity, OpenMode = OpenMode.CREATE }))
        {
            foreach (var line in File.ReadLines(Path.Combine(beirFolder, "corpus.jsonl")))
            {
                if (line.Trim().Length == 0)
                {
                    continue;
                }
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                var id = root.GetProperty("_id").ValueKind == JsonValueKind.String ? root.GetProperty("_id").GetString()! : root.GetProperty("_id").GetRawText();
                var title = root.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
                var text = root.TryGetProperty("text", out var x) && x.ValueKind == JsonValueKind.String ? x.GetString()! : "";
                writer.AddDocument(new Document
                {
                    new StringField("id", id, Lucene.Net.Documents.Field.Store.YES),
                    new TextField(Field, title + " " + text, Lucene.Net.Documents.Field.Store.NO),
                });
            }
            writer.Commit();
        }
        _reader = DirectoryReader.Open(_directory);
        _searcher = new IndexSearcher(_reader) { Similarity = similarity };
    }

    /// <summary>Query text by id from <c>queries.jsonl</c>.</summary>
    public static Dictionary<string, string> Queries(string beirFolder)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(beirFolder, "queries.jsonl")))
        {
            if (line.Trim().Length == 0)
            {
                continue;
            }
            using var json = JsonDocument.Parse(line);
            var id = json.RootElement.GetProperty("_id");
            result[id.ValueKind == JsonValueKind.String ? id.GetString()! : id.GetRawText()] =
                json.RootElement.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        }
        return result;
    }

    /// <summary>The top <paramref name="k"/> documents for <paramref name="query"/>, best first, with their scores.</summary>
    public List<(string DocId, double Score)> Search(string query, int k)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var order = new List<string>();
        using (var ts = _analyzer.GetTokenStream(Field, query))
        {
            var term = ts.AddAttribute<ICharTermAttribute>();
            ts.Reset();
            while (ts.IncrementToken())
            {
                var s = term.ToString();
                if (!counts.TryAdd(s, 1))
                {
                    counts[s]++;
                }
                else
                {
                    order.Add(s);
                }
            }
            ts.End();
        }
        var result = new List<(string, double)>();
        if (order.Count == 0)
        {
            return result;
        }
        var q = new BooleanQuery();
        foreach (var s in order.Take(BooleanQuery.MaxClauseCount))
        {
            q.Add(new TermQuery(new Term(Field, s)) { Boost = counts[s] }, Occur.SHOULD);
        }
        foreach (var sd in _searcher.Search(q, k).ScoreDocs)
        {
            result.Add((_searcher.Doc(sd.Doc).Get("id"), sd.Score));
        }
        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _reader.Dispose();
        _analyzer.Dispose();
        _directory.Dispose();
    }
}
