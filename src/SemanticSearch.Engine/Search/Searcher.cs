using System.Diagnostics;
using SemanticSearch.Core;
using SemanticSearch.Lexical;
using SemanticSearch.Metadata;

namespace SemanticSearch.Engine.Search;

/// <summary>
/// Answers queries over one <see cref="SemanticIndex"/>: retrieve chunk candidates, collapse them to documents (best
/// chunk first) unless per-chunk results are asked for, page, then hydrate text and titles from metadata.
/// </summary>
public sealed class Searcher
{
    private readonly SemanticIndex _index;

    /// <summary>A searcher over an open index (read-only or writable).</summary>
    public Searcher(SemanticIndex index) => _index = index;

    /// <summary>Runs <paramref name="request"/>.</summary>
    public SearchResponse Search(SearchRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var clock = Stopwatch.StartNew();
        if (request.Mode != SearchMode.Lexical)
        {
            throw new InvalidSettingException("mode", $"'{request.Mode.ToString().ToLowerInvariant()}' needs an index built with an embedding model; this index has none. Use --mode lexical.");
        }

        var wanted = request.Offset + request.K;
        var filter = ToLexical(request.Filter);
        var depth = Math.Max(100, 10 * wanted);
        List<(LexicalHit Hit, int Rank)> selected;
        while (true)
        {
            var chunkHits = _index.Lexical.Search(request.Query, depth, filter);
            selected = Collapse(chunkHits, request.PerChunk);
            if (selected.Count >= wanted || chunkHits.Count < depth)
            {
                break;
            }
            depth *= 4; // many chunks of the same documents: look deeper until a full page of documents is found
        }

        var page = selected.Skip(request.Offset).Take(request.K).ToList();
        var chunks = _index.Metadata.GetChunks(page.Select(p => p.Hit.ChunkId));
        var docs = new Dictionary<string, DocumentRecord?>(StringComparer.Ordinal);
        var hits = new List<SearchHit>(page.Count);
        foreach (var (hit, rank) in page)
        {
            if (!chunks.TryGetValue(hit.ChunkId, out var chunk))
            {
                continue; // a chunk the metadata no longer has: never surface a hit that cannot be hydrated
            }
            if (!docs.TryGetValue(chunk.DocumentId, out var doc))
            {
                doc = _index.Metadata.GetDocument(chunk.DocumentId);
                docs[chunk.DocumentId] = doc;
            }
            if (doc is null)
            {
                continue;
            }
            hits.Add(new SearchHit(doc.Id, chunk.Id, doc.Path, doc.Title, chunk.Text, Snippets.Build(chunk.Text, request.Query), hit.Score,
                new RetrieverRank(rank, hit.Score), null));
        }
        return new SearchResponse(hits, request.Mode, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// The best <paramref name="depth"/> documents for <paramref name="query"/> with their scores, unhydrated: the
    /// fast path for evaluation runs, which need ids, not text.
    /// </summary>
    public IReadOnlyList<RankedDocument> RankDocuments(string query, SearchMode mode, int depth, SearchFilter? filter = null)
    {
        if (mode != SearchMode.Lexical)
        {
            throw new InvalidSettingException("mode", $"'{mode.ToString().ToLowerInvariant()}' needs an index built with an embedding model.");
        }
        var chunkDepth = depth;
        while (true)
        {
            var hits = _index.Lexical.Search(query, chunkDepth, ToLexical(filter));
            var collapsed = Collapse(hits, perChunk: false);
            if (collapsed.Count >= depth || hits.Count < chunkDepth)
            {
                return collapsed.Take(depth).Select(c => new RankedDocument(c.Hit.DocumentId, c.Hit.Score)).ToList();
            }
            chunkDepth *= 4;
        }
    }

    // Keeps the first (best) chunk of each document; ranks are 1-based positions in the collapsed list.
    private static List<(LexicalHit Hit, int Rank)> Collapse(IReadOnlyList<LexicalHit> hits, bool perChunk)
    {
        var result = new List<(LexicalHit, int)>(hits.Count);
        if (perChunk)
        {
            for (var i = 0; i < hits.Count; i++)
            {
                result.Add((hits[i], i + 1));
            }
            return result;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var h in hits)
        {
            if (seen.Add(h.DocumentId))
            {
                result.Add((h, result.Count + 1));
            }
        }
        return result;
    }

    private static LexicalFilter? ToLexical(SearchFilter? f) =>
        f is null ? null : new LexicalFilter(f.PathPrefix, f.FileTypes, f.ModifiedAfterUtc, f.Metadata);
}

/// <summary>A document id and its retrieval score.</summary>
public readonly record struct RankedDocument(string DocId, double Score);
