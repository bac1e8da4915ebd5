using System.Globalization;
using System.Text.Json;
using SemanticSearch.Core;

namespace SemanticSearch.Evaluation;

/// <summary>A corpus document in BEIR format.</summary>
public sealed record BeirDocument(string Id, string Title, string Text);

/// <summary>
/// A dataset in BEIR layout: <c>corpus.jsonl</c> (<c>_id</c>, <c>title</c>, <c>text</c>), <c>queries.jsonl</c>
/// (<c>_id</c>, <c>text</c>) and <c>qrels/&lt;split&gt;.tsv</c> (header, then query-id, corpus-id, score; graded).
/// </summary>
public sealed class BeirDataset
{
    private BeirDataset(string folder, string name, IReadOnlyDictionary<string, string> queries, IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> qrels)
    {
        Folder = folder;
        Name = name;
        Queries = queries;
        Qrels = qrels;
        _queriesAreDocuments = new Lazy<bool>(DetectQueriesAreDocuments);
    }

    private readonly Lazy<bool> _queriesAreDocuments;

    /// <summary>
    /// True when the queries are themselves corpus documents under the same ids (ArguAna, Quora): then a query's own
    /// id is left out of its results, as BEIR does. Detected from the data: most queries whose id is also a corpus id
    /// have that document's text (or title). Cranfield and MEDLINE reuse small numbers for unrelated queries and
    /// documents, so their ids collide without the texts matching, and nothing is left out there.
    /// </summary>
    public bool QueriesAreDocuments => _queriesAreDocuments.Value;

    private bool DetectQueriesAreDocuments()
    {
        int shared = 0, same = 0;
        foreach (var doc in Corpus())
        {
            if (!Queries.TryGetValue(doc.Id, out var query))
            {
                continue;
            }
            shared++;
            var q = Normalise(query);
            if (q.Length > 0 && (Normalise(doc.Text).StartsWith(q, StringComparison.Ordinal) || Normalise(doc.Title) == q
                || Normalise(doc.Title + " " + doc.Text).StartsWith(q, StringComparison.Ordinal)))
            {
                same++;
            }
        }
        return shared > 0 && same * 2 >= shared;
    }

    private static string Normalise(string text) =>
        string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();

    /// <summary>The dataset folder.</summary>
    public string Folder { get; }

    /// <summary>The folder's name, used as the dataset name.</summary>
    public string Name { get; }

    /// <summary>Query text by query id (all queries in queries.jsonl).</summary>
    public IReadOnlyDictionary<string, string> Queries { get; }

    /// <summary>Relevance grade by corpus id, by query id, for the loaded split.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Qrels { get; }

    /// <summary>Path of corpus.jsonl.</summary>
    public string CorpusPath => Path.Combine(Folder, "corpus.jsonl");

    /// <summary>Loads the queries and the qrels of <paramref name="split"/> (the corpus is streamed separately).</summary>
    public static BeirDataset Load(string folder, string split = "test")
    {
        var full = Path.GetFullPath(folder);
        if (!Directory.Exists(full))
        {
            throw new NotFoundException($"dataset folder not found: {folder}");
        }
        foreach (var required in new[] { "corpus.jsonl", "queries.jsonl" })
        {
            if (!File.Exists(Path.Combine(full, required)))
            {
                throw new NotFoundException($"{Path.Combine(full, required)} is missing: a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv");
            }
        }
        var qrelsPath = Path.Combine(full, "qrels", split + ".tsv");
        if (!File.Exists(qrelsPath))
        {
            throw new NotFoundException($"{qrelsPath} is missing (--split {split})");
        }
        var queries = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNo = 0;
        foreach (var line in File.ReadLines(Path.Combine(full, "queries.jsonl")))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            using var doc = ParseLine(Path.Combine(full, "queries.jsonl"), lineNo, line);
            queries[RequiredString(doc.RootElement, "_id", "queries.jsonl", lineNo)] = OptionalString(doc.RootElement, "text");
        }
        return new BeirDataset(full, Path.GetFileName(full), queries, ReadQrels(qrelsPath));
    }

    /// <summary>Streams the corpus documents in file order.</summary>
    public IEnumerable<BeirDocument> Corpus()
    {
        var lineNo = 0;
        foreach (var line in File.ReadLines(CorpusPath))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            using var doc = ParseLine(CorpusPath, lineNo, line);
            yield return new BeirDocument(
                RequiredString(doc.RootElement, "_id", "corpus.jsonl", lineNo),
                OptionalString(doc.RootElement, "title"),
                OptionalString(doc.RootElement, "text"));
        }
    }

    private static IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> ReadQrels(string path)
    {
        var result = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        var lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var parts = line.Split('\t');
            if (lineNo == 1 && parts.Length >= 3 && !int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            {
                continue; // header
            }
            if (parts.Length < 3 || !int.TryParse(parts[2].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var grade))
            {
                throw new CorruptDataException(path, $"line {lineNo}: expected 'query-id<TAB>corpus-id<TAB>score'");
            }
            if (!result.TryGetValue(parts[0], out var judged))
            {
                result[parts[0]] = judged = new Dictionary<string, int>(StringComparer.Ordinal);
            }
            judged[parts[1]] = grade;
        }
        return result.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<string, int>)kv.Value, StringComparer.Ordinal);
    }

    private static JsonDocument ParseLine(string path, int lineNo, string line)
    {
        try
        {
            return JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new CorruptDataException(path, $"line {lineNo} is not valid JSON: {e.Message}", e);
        }
    }

    private static string RequiredString(JsonElement e, string field, string file, int lineNo)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(field, out var v))
        {
            throw new SemanticSearchException($"{file} line {lineNo}: missing field '{field}'");
        }
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();
    }

    private static string OptionalString(JsonElement e, string field) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : string.Empty;
}
