// Chunk id → document id of every committed chunk, so that vector hits collapse to documents without a metadata
// lookup per hit. Built on first use from the lexical store (which holds both ids on every chunk entry); a writer's
// changes are staged and applied when its commit reaches the decision point, when they become visible everywhere else.
using SemanticSearch.Lexical;

namespace SemanticSearch.Engine.Search;

/// <summary>The query-side map from chunk ids to their documents, kept in step with commits.</summary>
internal sealed class ChunkDocumentMap
{
    private readonly Lock _lock = new();
    private readonly LexicalIndex _source;
    private Dictionary<long, string>? _map;
    private readonly List<(long ChunkId, string DocumentId)> _added = [];
    private readonly List<long> _removed = [];

    public ChunkDocumentMap(LexicalIndex source)
    {
        _source = source;
    }

    /// <summary>The document of each committed chunk in <paramref name="chunkIds"/> (unknown ids are left out).</summary>
    public Dictionary<long, string> DocumentsOf(IEnumerable<long> chunkIds)
    {
        var result = new Dictionary<long, string>();
        lock (_lock)
        {
            if (_map is null)
            {
                _map = [];
                foreach (var (id, doc) in _source.AllChunkDocuments())
                {
                    _map[id] = doc;
                }
            }
            foreach (var id in chunkIds)
            {
                if (_map.TryGetValue(id, out var doc))
                {
                    result[id] = doc;
                }
            }
        }
        return result;
    }

    /// <summary>Stages chunks written in the open batch.</summary>
    public void StageAdded(long chunkId, string documentId) => _added.Add((chunkId, documentId));

    /// <summary>Stages chunks removed in the open batch.</summary>
    public void StageRemoved(IEnumerable<long> chunkIds) => _removed.AddRange(chunkIds);

    /// <summary>Applies the staged changes (the batch committed).</summary>
    public void Publish()
    {
        lock (_lock)
        {
            if (_map is not null)
            {
                foreach (var id in _removed)
                {
                    _map.Remove(id);
                }
                foreach (var (id, doc) in _added)
                {
                    _map[id] = doc;
                }
            }
            Discard();
        }
    }

    /// <summary>Drops the staged changes (the batch was aborted).</summary>
    public void Discard()
    {
        _added.Clear();
        _removed.Clear();
    }

    /// <summary>Forgets the map; it is rebuilt from the lexical store on next use (after a repair rewrote it).</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _map = null;
            Discard();
        }
    }
}
