// Exact (brute-force) vector index: every search scores every live vector. It serves as the reference the HNSW
// tests are measured against and as the index for small collections, where a scan beats building a graph.
using SemanticSearch.Core;

namespace SemanticSearch.VectorIndex;

/// <summary>
/// An exact inner-product index over L2-normalised vectors with the <see cref="IVectorIndex"/> contract. Readers share
/// a reader-writer lock; writers take it exclusively.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001",
    Justification = "The lock holds no resource worth disposing; the index lives as long as its engine.")]
public sealed class FlatVectorIndex : IVectorIndex
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<long, int> _map = new();
    private readonly int _dims;
    private float[] _vectors;
    private long[] _labels;
    private byte[] _states;
    private int _slots;
    private int _deleted;

    /// <summary>Creates an empty index for vectors of <paramref name="dimensions"/> floats.</summary>
    public FlatVectorIndex(int dimensions, int initialCapacity = 1024)
    {
        if (dimensions is < 1 or > 65536)
            throw new InvalidSettingException("dimensions", $"must be between 1 and 65536, was {dimensions}");
        _dims = dimensions;
        initialCapacity = Math.Max(initialCapacity, 16);
        _vectors = new float[initialCapacity * dimensions];
        _labels = new long[initialCapacity];
        _states = new byte[initialCapacity];
    }

    /// <inheritdoc/>
    public int Dimensions => _dims;

    /// <inheritdoc/>
    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try { return _map.Count; }
            finally { _lock.ExitReadLock(); }
        }
    }

    /// <inheritdoc/>
    public int DeletedCount => Volatile.Read(ref _deleted);

    /// <inheritdoc/>
    public void Add(long id, ReadOnlySpan<float> vector)
    {
        VectorMath.Validate(vector, _dims, "vector");
        _lock.EnterWriteLock();
        try { AddLocked(id, vector); }
        finally { _lock.ExitWriteLock(); }
    }

    /// <inheritdoc/>
    public void AddMany(IReadOnlyList<long> ids, ReadOnlySpan<float> vectors, int degreeOfParallelism)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (vectors.Length != (long)ids.Count * _dims)
            throw new InvalidSettingException("vectors", $"holds {vectors.Length} floats, expected {ids.Count} x {_dims}");
        for (int i = 0; i < ids.Count; i++) VectorMath.Validate(vectors.Slice(i * _dims, _dims), _dims, $"vectors[{i}]");
        _lock.EnterWriteLock();
        try
        {
            for (int i = 0; i < ids.Count; i++) AddLocked(ids[i], vectors.Slice(i * _dims, _dims));
        }
        finally { _lock.ExitWriteLock(); }
    }

    private void AddLocked(long id, ReadOnlySpan<float> vector)
    {
        if (_slots == _labels.Length)
        {
            int capacity = _labels.Length * 2;
            if ((long)capacity * _dims > Array.MaxLength)
                throw new InvalidSettingException("capacity", $"{capacity} vectors of {_dims} dimensions exceed what one index can hold");
            Array.Resize(ref _vectors, capacity * _dims);
            Array.Resize(ref _labels, capacity);
            Array.Resize(ref _states, capacity);
        }
        int slot = _slots++;
        vector.CopyTo(_vectors.AsSpan(slot * _dims, _dims));
        _labels[slot] = id;
        _states[slot] = IndexFile.StateLive;
        if (_map.TryGetValue(id, out int old))
        {
            _states[old] = IndexFile.StateDeleted;
            _deleted++;
        }
        _map[id] = slot;
    }

    /// <inheritdoc/>
    public bool MarkDeleted(long id)
    {
        _lock.EnterWriteLock();
        try
        {
            if (!_map.Remove(id, out int slot)) return false;
            _states[slot] = IndexFile.StateDeleted;
            _deleted++;
            return true;
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <inheritdoc/>
    public bool Contains(long id)
    {
        _lock.EnterReadLock();
        try { return _map.ContainsKey(id); }
        finally { _lock.ExitReadLock(); }
    }

    /// <inheritdoc/>
    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, int ef = 0, Func<long, bool>? filter = null)
    {
        VectorMath.Validate(query, _dims, "query");
        if (k < 1) throw new InvalidSettingException("k", $"must be at least 1, was {k}");
        if (ef < 0) throw new InvalidSettingException("ef", $"must be 0 (default) or positive, was {ef}");
        var results = new ScoredHeap(k + 1);
        _lock.EnterReadLock();
        try
        {
            for (int i = 0; i < _slots; i++)
            {
                if (_states[i] != IndexFile.StateLive) continue;
                if (filter is not null && !filter(_labels[i])) continue;
                float s = VectorMath.Dot(query, _vectors.AsSpan(i * _dims, _dims));
                if (results.Count < k) results.Push(-s, i);
                else if (s > -results.TopKey)
                {
                    results.Pop();
                    results.Push(-s, i);
                }
            }
            var hits = new VectorHit[results.Count];
            for (int i = hits.Length - 1; i >= 0; i--)
            {
                hits[i] = new VectorHit(_labels[results.TopNode], -results.TopKey);
                results.Pop();
            }
            return hits;
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <inheritdoc/>
    public int SampleScores(ReadOnlySpan<float> query, Span<float> scores)
    {
        VectorMath.Validate(query, _dims, "query");
        _lock.EnterReadLock();
        try
        {
            int step = Math.Max(1, _slots / Math.Max(scores.Length, 1)), n = 0;
            for (int i = 0; i < _slots && n < scores.Length; i += step)
            {
                if (_states[i] == IndexFile.StateLive) scores[n++] = VectorMath.Dot(query, _vectors.AsSpan(i * _dims, _dims));
            }
            return n;
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>Returns a new flat index with the live vectors only.</summary>
    public FlatVectorIndex Compact()
    {
        _lock.EnterReadLock();
        try
        {
            var compacted = new FlatVectorIndex(_dims, Math.Max(_map.Count, 16));
            for (int i = 0; i < _slots; i++)
            {
                if (_states[i] == IndexFile.StateLive) compacted.AddLocked(_labels[i], _vectors.AsSpan(i * _dims, _dims));
            }
            return compacted;
        }
        finally { _lock.ExitReadLock(); }
    }

    IVectorIndex IVectorIndex.Compact() => Compact();

    /// <inheritdoc/>
    public void Save(string path)
    {
        _lock.EnterReadLock();
        try
        {
            int n = _slots;
            var header = new IndexFileHeader(IndexKind.Flat, _dims, n, _deleted, 0, 0, 0, 0, -1, 0);
            using var writer = new IndexFileWriter(path, header);
            writer.Write<long>(_labels.AsSpan(0, n));
            writer.Write<byte>(_states.AsSpan(0, n));
            writer.Write<byte>(new byte[n]); // levels: always 0 in a flat index
            writer.Write<float>(_vectors.AsSpan(0, n * _dims));
            writer.Commit();
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>Opens a flat index written by <see cref="Save"/>, validating the whole file.</summary>
    /// <exception cref="CorruptDataException">The file is truncated, damaged, foreign or of an unsupported version.</exception>
    /// <exception cref="NotFoundException">The file does not exist.</exception>
    public static FlatVectorIndex Open(string path)
    {
        using var reader = new IndexFileReader(path, IndexKind.Flat);
        IndexFileHeader h = reader.Header;
        int n = h.NodeCount;
        reader.Require(n * 10L + (long)n * h.Dimensions * 4, "nodes");
        var index = new FlatVectorIndex(h.Dimensions, Math.Max(n, 16));
        reader.Read(index._labels.AsSpan(0, n), "labels");
        reader.Read(index._states.AsSpan(0, n), "states");
        reader.Read(new byte[n].AsSpan(), "levels");
        reader.Read(index._vectors.AsSpan(0, n * h.Dimensions), "vectors");
        reader.VerifyEnd();
        int deleted = 0;
        for (int i = 0; i < n; i++)
        {
            byte state = index._states[i];
            if (state == IndexFile.StateDeleted) deleted++;
            else if (state != IndexFile.StateLive) throw reader.Corrupt($"node {i} has invalid state {state}");
            else if (!index._map.TryAdd(index._labels[i], i)) throw reader.Corrupt($"id {index._labels[i]} is live twice");
        }
        if (deleted != h.DeletedCount) throw reader.Corrupt($"header says {h.DeletedCount} deleted nodes, states say {deleted}");
        index._slots = n;
        index._deleted = deleted;
        return index;
    }
}
