// Hierarchical Navigable Small World graph (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor
// search using HNSW graphs", 2016/2018), written after the structure of hnswlib's hnswalg.h.
//
// Layout. Internal ids are dense ints ("slots") in insertion order; external ids are longs kept in Labels. All
// vectors live in one contiguous float block (slot * dims); layer 0 is one contiguous int block with a fixed stride
// of 1 + 2M (count, then neighbour ids); upper layers are a small int[] per node with level > 0 (about 1/M of them).
// Levels are drawn as floor(-ln U * 1/ln M) from a hash of (seed, slot), so a build is reproducible given the order.
//
// Algorithm. Insert: greedy descent from the entry point to the node's level, then on each layer an ef_construction
// beam search, the neighbour-selection heuristic (keep a candidate only if it is more similar to the new node than
// to every neighbour already kept), and reverse links; a neighbour list that overflows (M, or 2M on layer 0) is
// pruned with the same heuristic. Search: greedy descent, then a beam of max(ef, k) on layer 0. Deleted nodes and
// nodes rejected by the filter are traversed but never admitted to the results; a very selective filter (sampled)
// or a walk that found fewer than k results falls back to an exact scan, so fewer than k come back only when fewer
// than k live, passing ids exist.
//
// Concurrency. Each node has one int "version" that is both its writer lock and a seqlock for readers: a writer
// CASes it from even to odd, edits the node's neighbour lists, and releases it by writing the next even value.
// A reader copies a list into its own buffer and keeps the copy only if the version was even and unchanged around
// the copy, so it never sees a half-written list and never blocks a writer for longer than one copy; searches take
// no lock at all. A new node becomes reachable only when its own list on a layer is complete (its list is written
// before any reverse link to it on that layer), its vector is written before any link, and it becomes the entry
// point only after its insert finished. Growing the storage copies the arrays under the write side of a
// reader-writer lock whose read side is held by inserters and deleters only; a search keeps the arrays it started
// with, which stay valid (ids in them never exceed their capacity). Only one node lock is held at a time, so
// parallel inserts cannot deadlock.
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using SemanticSearch.Core;

namespace SemanticSearch.VectorIndex;

/// <summary>
/// An approximate nearest-neighbour index over L2-normalised vectors (inner product = cosine), built as an HNSW graph.
/// Thread-safe: inserts run in parallel with each other and with searches. See <see cref="IVectorIndex"/> for the
/// replace-on-re-add rule.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001",
    Justification = "The growth lock is uncontended almost always and the index lives as long as its engine; making every index IDisposable would burden the contract for no resource.")]
public sealed class HnswIndex : IVectorIndex
{
    private const long EmptyEntry = -1;
    private const byte StateInserting = 0;
    private const int MaxLevelCap = 30;

    /// <summary>The storage arrays; replaced by a larger copy only when capacity grows.</summary>
    private sealed class Graph
    {
        public readonly int Capacity;
        public readonly float[] Vectors;
        public readonly long[] Labels;
        public readonly byte[] States;
        public readonly byte[] Levels;
        public readonly int[] Versions;
        public readonly int[] Links0;
        public readonly int[]?[] Upper;

        /// <summary>One bit per slot: its lists or state changed since the index was last saved or opened.</summary>
        public readonly ulong[] Changed;

        /// <summary>Int8 codes (slot * dims) and their per-vector scales; empty when the walk scores floats.</summary>
        public readonly sbyte[] Codes;
        public readonly float[] Scales;

        /// <summary>
        /// The vectors of slots below <see cref="FileVectors.Count"/> read in place from the file (a searcher's open);
        /// <see cref="Vectors"/> then holds only the slots from there on. Null: every vector is in <see cref="Vectors"/>.
        /// </summary>
        public readonly FileVectors? Mapped;
        public readonly int VectorBase;

        /// <summary>
        /// The change log's vectors read in place too (a searcher's open): slot <see cref="VectorBase"/> + i is row i;
        /// <see cref="Vectors"/> is then empty and the graph takes no inserts. Null: slots from VectorBase on are in Vectors.
        /// </summary>
        public readonly LogVectors? LogRows;

        public Graph(int capacity, int dimensions, int stride0, bool coded, FileVectors? mapped = null, LogVectors? logRows = null)
        {
            Mapped = mapped;
            VectorBase = mapped?.Count ?? 0;
            LogRows = logRows;
            Codes = coded ? GC.AllocateUninitializedArray<sbyte>(checked(capacity * dimensions), pinned: true) : [];
            Scales = coded ? new float[capacity] : [];
            Capacity = capacity;
            Vectors = logRows is not null ? [] : GC.AllocateUninitializedArray<float>(checked((capacity - VectorBase) * dimensions), pinned: true);
            Labels = new long[capacity];
            States = new byte[capacity];
            Levels = new byte[capacity];
            Versions = new int[capacity];
            Links0 = new int[checked(capacity * stride0)];
            Upper = new int[capacity][];
            Changed = new ulong[(capacity + 63) / 64];
        }
    }

    /// <summary>Per-search working memory, pooled so that a search allocates nothing but its result list.</summary>
    private sealed class Scratch
    {
        public readonly VisitedSet Visited;
        public readonly ScoredHeap Candidates;
        public readonly ScoredHeap Results;
        public readonly int[] Links;
        public readonly float[] Sims;
        public readonly int[] Nodes;
        public readonly int[] Selected;
        public readonly float[] PruneSims;
        public readonly int[] PruneNodes;
        public readonly int[] PruneKept;

        public Scratch(int capacity, int efConstruction, int maxLinks0)
        {
            Visited = new VisitedSet(capacity);
            Candidates = new ScoredHeap(Math.Max(efConstruction, 64) * 2);
            Results = new ScoredHeap(Math.Max(efConstruction, 64) + 1);
            Links = new int[maxLinks0];
            Sims = new float[Math.Max(efConstruction, maxLinks0) + 1];
            Nodes = new int[Sims.Length];
            Selected = new int[maxLinks0];
            // Room for a full layer-0 list plus the M links of one new node (the merge in WriteOwnLinks).
            PruneSims = new float[maxLinks0 + maxLinks0 / 2 + 1];
            PruneNodes = new int[PruneSims.Length];
            PruneKept = new int[PruneSims.Length];
        }
    }

    private readonly int _dims;
    private readonly HnswParameters _parameters;
    private readonly int _m;
    private readonly int _m0;
    private readonly int _stride0;
    private readonly int _strideUpper;
    private readonly double _levelMultiplier;
    private readonly ReaderWriterLockSlim _growth = new(LockRecursionPolicy.NoRecursion);
    private readonly object _mapLock = new();
    private readonly Dictionary<long, int> _map = new();
    private readonly ConcurrentBag<Scratch> _scratch = new();
    private Graph _graph;
    private int _allocated;
    private long _entry = EmptyEntry;
    private int _live;
    private int _deleted;
    private int _savedCount;
    private ulong? _baseChecksum;
    private readonly bool _coded;

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimensions">Vector length (from the manifest: 384, 512, 768, 1024, ...).</param>
    /// <param name="parameters">Build/search parameters; <see cref="HnswParameters.Default"/> when null.</param>
    /// <param name="initialCapacity">Slots to reserve up front; the index grows as needed.</param>
    public HnswIndex(int dimensions, HnswParameters? parameters = null, int initialCapacity = 1024)
    {
        if (dimensions is < 1 or > 65536)
            throw new InvalidSettingException("dimensions", $"must be between 1 and 65536, was {dimensions}");
        _parameters = parameters ?? HnswParameters.Default;
        _parameters.Validate();
        _dims = dimensions;
        _m = _parameters.M;
        _m0 = _parameters.MaxLinksLayer0;
        _stride0 = 1 + _m0;
        _strideUpper = 1 + _m;
        _levelMultiplier = _parameters.LevelMultiplier;
        _coded = _parameters.Codec == VectorCodec.Int8;
        _graph = new Graph(Math.Max(initialCapacity, 16), _dims, _stride0, _coded);
    }

    /// <inheritdoc/>
    public int Dimensions => _dims;

    /// <inheritdoc/>
    public int Count => Volatile.Read(ref _live);

    /// <inheritdoc/>
    public int DeletedCount => Volatile.Read(ref _deleted);

    /// <summary>The parameters the index was built with.</summary>
    public HnswParameters Parameters => _parameters;

    /// <summary>Approximate bytes held by vectors and links (for memory reporting).</summary>
    public long MemoryBytes
    {
        get
        {
            Graph g = Volatile.Read(ref _graph);
            long bytes = (long)g.Vectors.Length * 4 + g.Codes.Length + g.Scales.Length * 4L + (long)g.Links0.Length * 4 + g.Capacity * (8L + 1 + 1 + 4 + 8);
            for (int i = 0; i < g.Upper.Length; i++) bytes += (g.Upper[i]?.Length ?? 0) * 4L;
            return bytes;
        }
    }

    // ---------------------------------------------------------------- inserting

    /// <inheritdoc/>
    public void Add(long id, ReadOnlySpan<float> vector)
    {
        VectorMath.Validate(vector, _dims, "vector");
        AddValidated(id, vector);
    }

    /// <inheritdoc/>
    public unsafe void AddMany(IReadOnlyList<long> ids, ReadOnlySpan<float> vectors, int degreeOfParallelism)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (vectors.Length != (long)ids.Count * _dims)
            throw new InvalidSettingException("vectors", $"holds {vectors.Length} floats, expected {ids.Count} x {_dims}");
        for (int i = 0; i < ids.Count; i++) VectorMath.Validate(vectors.Slice(i * _dims, _dims), _dims, $"vectors[{i}]");
        EnsureCapacity(Volatile.Read(ref _allocated) + ids.Count);
        if (degreeOfParallelism <= 1 || ids.Count < 2)
        {
            for (int i = 0; i < ids.Count; i++) AddValidated(ids[i], vectors.Slice(i * _dims, _dims));
            return;
        }
        fixed (float* start = vectors)
        {
            nint basePointer = (nint)start;
            int dims = _dims;
            Parallel.For(0, ids.Count, new ParallelOptions { MaxDegreeOfParallelism = degreeOfParallelism },
                i => AddValidated(ids[i], new ReadOnlySpan<float>((float*)basePointer + (long)i * dims, dims)));
        }
    }

    private void AddValidated(long id, ReadOnlySpan<float> vector)
    {
        if (Volatile.Read(ref _graph).Mapped is not null)
        {
            // before a slot is taken: a refused insert leaves the index as it was (neighbour selection holds two
            // rows at once, and a file's rows share one buffer per thread)
            throw new InvalidOperationException("this index reads its vectors in place for searching; open it without mapVectors to add to it");
        }
        _growth.EnterReadLock();
        try
        {
            Graph g;
            int slot;
            while (true)
            {
                g = _graph;
                slot = Volatile.Read(ref _allocated);
                if (slot < g.Capacity)
                {
                    if (Interlocked.CompareExchange(ref _allocated, slot + 1, slot) == slot) break;
                    continue;
                }
                _growth.ExitReadLock();
                try { EnsureCapacity(slot + 1); }
                finally { _growth.EnterReadLock(); }
            }

            vector.CopyTo(g.Vectors.AsSpan((slot - g.VectorBase) * _dims, _dims));
            if (_coded) g.Scales[slot] = VectorMath.QuantiseInt8(vector, g.Codes.AsSpan(slot * _dims, _dims));
            g.Labels[slot] = id;
            int level = DrawLevel(slot);
            g.Levels[slot] = (byte)level;
            if (level > 0) g.Upper[slot] = new int[level * _strideUpper];
            Link(g, slot, level);

            lock (_mapLock)
            {
                if (_map.TryGetValue(id, out int old))
                {
                    Volatile.Write(ref g.States[old], IndexFile.StateDeleted);
                    MarkChanged(g, old);
                    _deleted++;
                }
                else
                {
                    _live++;
                }
                _map[id] = slot;
                Volatile.Write(ref g.States[slot], IndexFile.StateLive);
            }
        }
        finally
        {
            _growth.ExitReadLock();
        }
    }

    private void EnsureCapacity(int needed)
    {
        if (Volatile.Read(ref _graph).Capacity >= needed) return;
        _growth.EnterWriteLock();
        try
        {
            Graph old = _graph;
            if (old.Capacity >= needed) return;
            int capacity = (int)Math.Min(Math.Max(needed, (long)old.Capacity * 2), Array.MaxLength / Math.Max(_dims, _stride0));
            if (capacity < needed)
                throw new InvalidSettingException("capacity", $"{needed} vectors of {_dims} dimensions exceed what one index can hold");
            var grown = new Graph(capacity, _dims, _stride0, _coded, old.Mapped, old.LogRows);
            int n = _allocated;
            if (old.LogRows is null) old.Vectors.AsSpan(0, (n - old.VectorBase) * _dims).CopyTo(grown.Vectors);
            if (_coded)
            {
                old.Codes.AsSpan(0, n * _dims).CopyTo(grown.Codes);
                old.Scales.AsSpan(0, n).CopyTo(grown.Scales);
            }
            old.Labels.AsSpan(0, n).CopyTo(grown.Labels);
            old.States.AsSpan(0, n).CopyTo(grown.States);
            old.Levels.AsSpan(0, n).CopyTo(grown.Levels);
            old.Links0.AsSpan(0, n * _stride0).CopyTo(grown.Links0);
            old.Versions.AsSpan(0, n).CopyTo(grown.Versions);
            old.Changed.AsSpan().CopyTo(grown.Changed);
            // Upper-layer lists are cloned, not shared: a search still walking the old arrays must never see a
            // link to a node that exists only in the grown ones.
            for (int i = 0; i < n; i++) grown.Upper[i] = (int[]?)old.Upper[i]?.Clone();
            Volatile.Write(ref _graph, grown);
        }
        finally
        {
            _growth.ExitWriteLock();
        }
    }

    private int DrawLevel(int slot)
    {
        ulong bits = SplitMix64(_parameters.Seed + (ulong)slot * 0x9E3779B97F4A7C15UL);
        double u = ((bits >> 11) + 1) * (1.0 / (1UL << 53)); // (0, 1]
        int level = (int)(-Math.Log(u) * _levelMultiplier);
        return Math.Min(level, MaxLevelCap);
    }

    private static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    private void Link(Graph g, int q, int level)
    {
        long entry = Volatile.Read(ref _entry);
        if (entry == EmptyEntry)
        {
            if (Interlocked.CompareExchange(ref _entry, Pack(level, q), EmptyEntry) == EmptyEntry) return;
            entry = Volatile.Read(ref _entry);
        }
        Scratch sc = Rent(g.Capacity);
        try
        {
            int ep = EntryNode(entry);
            int top = EntryLevel(entry);
            ReadOnlySpan<float> v = Vector(g, q);
            float epSim = VectorMath.Dot(v, Vector(g, ep));
            for (int l = top; l > level; l--) Greedy(g, v, ref ep, ref epSim, l, sc, coded: false);

            for (int l = Math.Min(level, top); l >= 0; l--)
            {
                SearchLayer(g, v, ep, epSim, _parameters.EfConstruction, l, sc, filter: null, admitAll: true, coded: false);
                int n = DrainDescending(sc.Results, sc.Sims, sc.Nodes, exclude: q);
                if (n == 0) continue;
                ep = sc.Nodes[0];
                epSim = sc.Sims[0];
                int kept = SelectNeighbours(g, sc.Sims, sc.Nodes, n, _m, sc.Selected);

                int maxLinks = l == 0 ? _m0 : _m;
                WriteOwnLinks(g, q, l, sc.Selected, kept, maxLinks, sc);
                for (int i = 0; i < kept; i++) AddReverseLink(g, sc.Selected[i], q, l, maxLinks, sc);
            }

            while (true)
            {
                long current = Volatile.Read(ref _entry);
                if (EntryLevel(current) >= level) break;
                if (Interlocked.CompareExchange(ref _entry, Pack(level, q), current) == current) break;
            }
        }
        finally
        {
            _scratch.Add(sc);
        }
    }

    /// <summary>
    /// Sets the new node's list on one layer. Another inserter may already have linked to it here (it can reach the
    /// node as the best entry from the layer above before this list is written), so existing links are merged in,
    /// not overwritten, and an overflow is pruned with the heuristic.
    /// </summary>
    private void WriteOwnLinks(Graph g, int q, int level, int[] selected, int kept, int maxLinks, Scratch sc)
    {
        LockNode(g, q);
        try
        {
            Span<int> own = LinkList(g, q, level);
            int existing = own[0];
            if (existing == 0)
            {
                selected.AsSpan(0, kept).CopyTo(own[1..]);
                own[0] = kept;
                return;
            }
            Span<int> merged = sc.PruneNodes.AsSpan(0, maxLinks + _m + 1);
            own.Slice(1, existing).CopyTo(merged);
            int total = existing;
            for (int i = 0; i < kept; i++)
            {
                if (merged[..total].IndexOf(selected[i]) < 0) merged[total++] = selected[i];
            }
            if (total <= maxLinks)
            {
                merged[..total].CopyTo(own[1..]);
                own[0] = total;
                return;
            }
            ReadOnlySpan<float> qv = Vector(g, q);
            Span<float> sims = sc.PruneSims.AsSpan(0, total);
            for (int i = 0; i < total; i++) sims[i] = -VectorMath.Dot(qv, Vector(g, merged[i]));
            sims.Sort(merged[..total]);
            for (int i = 0; i < total; i++) sims[i] = -sims[i];
            int keptNow = SelectNeighbours(g, sc.PruneSims, sc.PruneNodes, total, maxLinks, sc.PruneKept);
            sc.PruneKept.AsSpan(0, keptNow).CopyTo(own[1..]);
            own[0] = keptNow;
        }
        finally
        {
            UnlockNode(g, q);
        }
    }

    private void AddReverseLink(Graph g, int node, int q, int level, int maxLinks, Scratch sc)
    {
        LockNode(g, node);
        try
        {
            MarkChanged(g, node);
            Span<int> list = LinkList(g, node, level);
            int count = list[0];
            for (int i = 0; i < count; i++)
            {
                if (list[1 + i] == q) return;
            }
            if (count < maxLinks)
            {
                list[1 + count] = q;
                list[0] = count + 1;
                return;
            }

            // Overflow: choose the best maxLinks of (current neighbours + q) with the same heuristic.
            ReadOnlySpan<float> nodeVector = Vector(g, node);
            Span<float> sims = sc.PruneSims.AsSpan(0, count + 1);
            Span<int> nodes = sc.PruneNodes.AsSpan(0, count + 1);
            for (int i = 0; i < count; i++)
            {
                nodes[i] = list[1 + i];
                sims[i] = -VectorMath.Dot(nodeVector, Vector(g, nodes[i]));
            }
            nodes[count] = q;
            sims[count] = -VectorMath.Dot(nodeVector, Vector(g, q));
            sims.Sort(nodes); // ascending negated similarity = best first
            for (int i = 0; i < sims.Length; i++) sims[i] = -sims[i];
            int kept = SelectNeighbours(g, sc.PruneSims, sc.PruneNodes, count + 1, maxLinks, sc.PruneKept);
            for (int i = 0; i < kept; i++) list[1 + i] = sc.PruneKept[i];
            list[0] = kept;
        }
        finally
        {
            UnlockNode(g, node);
        }
    }

    /// <summary>
    /// The HNSW neighbour-selection heuristic (paper, Algorithm 4; hnswlib getNeighborsByHeuristic2): walking the
    /// candidates best first, keep one only if it is more similar to the base than to every neighbour kept so far.
    /// </summary>
    private int SelectNeighbours(Graph g, float[] sims, int[] nodes, int count, int max, int[] output)
    {
        if (count <= max)
        {
            Array.Copy(nodes, output, count);
            return count;
        }
        int kept = 0;
        for (int i = 0; i < count && kept < max; i++)
        {
            int candidate = nodes[i];
            float toBase = sims[i];
            ReadOnlySpan<float> cv = Vector(g, candidate);
            bool good = true;
            for (int j = 0; j < kept; j++)
            {
                if (VectorMath.Dot(cv, Vector(g, output[j])) > toBase)
                {
                    good = false;
                    break;
                }
            }
            if (good) output[kept++] = candidate;
        }
        return kept;
    }

    /// <summary>Empties a result heap (keys = -similarity) into arrays ordered by descending similarity.</summary>
    private static int DrainDescending(ScoredHeap results, float[] sims, int[] nodes, int exclude)
    {
        int n = results.Count;
        int write = n;
        while (results.Count > 0)
        {
            float sim = -results.TopKey;
            int node = results.TopNode;
            results.Pop();
            if (node == exclude) continue;
            write--;
            sims[write] = sim;
            nodes[write] = node;
        }
        if (write > 0)
        {
            Array.Copy(sims, write, sims, 0, n - write);
            Array.Copy(nodes, write, nodes, 0, n - write);
        }
        return n - write;
    }

    // ---------------------------------------------------------------- searching

    /// <inheritdoc/>
    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, int ef = 0, Func<long, bool>? filter = null)
    {
        VectorMath.Validate(query, _dims, "query");
        if (k < 1) throw new InvalidSettingException("k", $"must be at least 1, was {k}");
        if (ef < 0) throw new InvalidSettingException("ef", $"must be 0 (default) or positive, was {ef}");
        ef = Math.Max(ef == 0 ? _parameters.EfSearch : ef, k);

        long entry = Volatile.Read(ref _entry);
        if (entry == EmptyEntry) return [];
        Graph g = Volatile.Read(ref _graph);
        int slots = Math.Min(Volatile.Read(ref _allocated), g.Capacity);
        Scratch sc = Rent(g.Capacity);
        try
        {
            if (filter is not null && FilterIsSelective(g, slots, filter))
                return ExactSearch(g, slots, query, k, filter, sc);

            int ep = EntryNode(entry);
            float epSim = WalkScore(g, query, ep, _coded);
            for (int l = EntryLevel(entry); l > 0; l--) Greedy(g, query, ref ep, ref epSim, l, sc, _coded);
            SearchLayer(g, query, ep, epSim, ef, 0, sc, filter, admitAll: false, _coded);

            ScoredHeap results = sc.Results;
            if (_coded) Rescore(g, query, results);
            while (results.Count > k) results.Pop();
            if (results.Count < k && (filter is not null || results.Count < Count))
                return ExactSearch(g, slots, query, k, filter, sc);
            return ToHits(g, results);
        }
        finally
        {
            _scratch.Add(sc);
        }
    }

    /// <summary>Estimates the filter's pass rate on an even sample of slots; true when an exact scan is cheaper.</summary>
    private static bool FilterIsSelective(Graph g, int slots, Func<long, bool> filter)
    {
        const int SampleSize = 256;
        const double MinPassFraction = 0.05;
        if (slots == 0) return true;
        int step = Math.Max(1, slots / SampleSize);
        int sampled = 0, passed = 0;
        for (int i = 0; i < slots; i += step)
        {
            if (g.States[i] != IndexFile.StateLive) continue;
            sampled++;
            if (filter(g.Labels[i])) passed++;
        }
        return passed == 0 || passed < MinPassFraction * sampled;
    }

    private IReadOnlyList<VectorHit> ExactSearch(Graph g, int slots, ReadOnlySpan<float> query, int k, Func<long, bool>? filter, Scratch sc)
    {
        ScoredHeap results = sc.Results;
        results.Clear();
        for (int i = 0; i < slots; i++)
        {
            if (Volatile.Read(ref g.States[i]) != IndexFile.StateLive) continue;
            if (filter is not null && !filter(g.Labels[i])) continue;
            float s = VectorMath.Dot(query, Vector(g, i));
            if (results.Count < k) results.Push(-s, i);
            else if (s > -results.TopKey)
            {
                results.Pop();
                results.Push(-s, i);
            }
        }
        return ToHits(g, results);
    }

    private static VectorHit[] ToHits(Graph g, ScoredHeap results)
    {
        var hits = new VectorHit[results.Count];
        for (int i = hits.Length - 1; i >= 0; i--)
        {
            hits[i] = new VectorHit(g.Labels[results.TopNode], -results.TopKey);
            results.Pop();
        }
        return hits;
    }

    /// <summary>
    /// Replaces the walk's approximate scores of the candidates in <paramref name="results"/> with exact ones, so the
    /// caller's top k are ranked (and scored) by the full-precision vectors.
    /// </summary>
    private void Rescore(Graph g, ReadOnlySpan<float> query, ScoredHeap results)
    {
        int n = results.Count;
        int[]? rented = n > 512 ? System.Buffers.ArrayPool<int>.Shared.Rent(n) : null;
        Span<int> nodes = rented is null ? stackalloc int[n] : rented.AsSpan(0, n);
        for (int i = 0; i < n; i++)
        {
            nodes[i] = results.TopNode;
            results.Pop();
        }
        foreach (int node in nodes) results.Push(-VectorMath.Dot(query, Vector(g, node)), node);
        if (rented is not null) System.Buffers.ArrayPool<int>.Shared.Return(rented);
    }

    /// <summary>The walk's score of a node: the int8 code's (times its scale) when coded, else the exact one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float WalkScore(Graph g, ReadOnlySpan<float> query, int node, bool coded) =>
        coded
            ? VectorMath.DotInt8(query, new ReadOnlySpan<sbyte>(g.Codes, node * _dims, _dims)) * g.Scales[node]
            : VectorMath.Dot(query, Vector(g, node));

    private void Greedy(Graph g, ReadOnlySpan<float> query, ref int ep, ref float epSim, int level, Scratch sc, bool coded)
    {
        bool changed = true;
        while (changed)
        {
            changed = false;
            int count = ReadLinks(g, ep, level, sc.Links);
            for (int i = 0; i < count; i++)
            {
                int nb = sc.Links[i];
                float s = WalkScore(g, query, nb, coded);
                if (s > epSim)
                {
                    epSim = s;
                    ep = nb;
                    changed = true;
                }
            }
        }
    }

    /// <summary>
    /// Beam search on one layer (paper, Algorithm 2). Every reached node is expanded, but only admitted nodes
    /// (all of them while building; live and filter-passing ones while searching) enter the result heap, whose
    /// worst member bounds the walk once it holds ef results.
    /// </summary>
    private void SearchLayer(Graph g, ReadOnlySpan<float> query, int ep, float epSim, int ef, int level, Scratch sc,
        Func<long, bool>? filter, bool admitAll, bool coded)
    {
        VisitedSet visited = sc.Visited;
        visited.Reset(g.Capacity);
        ScoredHeap candidates = sc.Candidates;
        ScoredHeap results = sc.Results;
        candidates.Clear();
        results.Clear();
        int[] links = sc.Links;
        int dims = _dims;

        visited.TryVisit(ep);
        candidates.Push(epSim, ep);
        float lowerBound = float.NegativeInfinity;
        if (admitAll || Admit(g, ep, filter))
        {
            results.Push(-epSim, ep);
            lowerBound = epSim;
        }

        while (candidates.Count > 0)
        {
            float candidateSim = candidates.TopKey;
            if (candidateSim < lowerBound && results.Count >= ef) break;
            int current = candidates.TopNode;
            candidates.Pop();

            int count = ReadLinks(g, current, level, links);
            if (count > 0) Prefetch(g, coded, links[0] * dims);
            for (int i = 0; i < count; i++)
            {
                int nb = links[i];
                // Start loading the next neighbour's vector while this one is scored (as hnswlib does).
                if (i + 1 < count) Prefetch(g, coded, links[i + 1] * dims);
                if (!visited.TryVisit(nb)) continue;
                float s = coded
                    ? VectorMath.DotInt8(query, new ReadOnlySpan<sbyte>(g.Codes, nb * dims, dims)) * g.Scales[nb]
                    : VectorMath.Dot(query, Vector(g, nb));
                if (results.Count < ef || s > lowerBound)
                {
                    candidates.Push(s, nb);
                    if (admitAll || Admit(g, nb, filter))
                    {
                        results.Push(-s, nb);
                        if (results.Count > ef) results.Pop();
                        lowerBound = -results.TopKey;
                    }
                }
            }
        }
    }

    /// <summary>Hints the first two cache lines of a vector (or code) into L1; the hardware prefetcher follows the rest.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(Graph g, bool coded, int offset)
    {
        if (!Sse.IsSupported || (!coded && g.Mapped is not null)) return;
        // The vector and code blocks are allocated on the pinned object heap, so their addresses are stable.
        byte* p = coded
            ? (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(g.Codes)) + offset
            : (byte*)((float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(g.Vectors)) + offset);
        Sse.Prefetch0(p);
        Sse.Prefetch0(p + 64);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Admit(Graph g, int node, Func<long, bool>? filter) =>
        Volatile.Read(ref g.States[node]) == IndexFile.StateLive && (filter is null || filter(g.Labels[node]));

    // ---------------------------------------------------------------- node locks and link lists

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<float> Vector(Graph g, int node) =>
        node < g.VectorBase ? g.Mapped!.Row(node)
        : g.LogRows is { } log ? log.Row(node - g.VectorBase)
        : new(g.Vectors, (node - g.VectorBase) * _dims, _dims);

    private Span<int> LinkList(Graph g, int node, int level) =>
        level == 0
            ? g.Links0.AsSpan(node * _stride0, _stride0)
            : g.Upper[node].AsSpan((level - 1) * _strideUpper, _strideUpper);

    /// <summary>Copies a node's neighbours on <paramref name="level"/> into <paramref name="buffer"/> (seqlock read).</summary>
    private int ReadLinks(Graph g, int node, int level, int[] buffer)
    {
        int[] source;
        int offset;
        int max;
        if (level == 0)
        {
            source = g.Links0;
            offset = node * _stride0;
            max = _m0;
        }
        else
        {
            int[]? upper = g.Upper[node];
            if (upper is null || level > g.Levels[node]) return 0;
            source = upper;
            offset = (level - 1) * _strideUpper;
            max = _m;
        }

        ref int version = ref g.Versions[node];
        SpinWait spin = default;
        while (true)
        {
            int before = Volatile.Read(ref version);
            if ((before & 1) == 0)
            {
                int count = source[offset];
                if ((uint)count > (uint)max) count = 0; // torn read; the version check below rejects it
                Array.Copy(source, offset + 1, buffer, 0, count);
                Interlocked.MemoryBarrier(); // keep the copy ahead of the second version read
                if (Volatile.Read(ref version) == before) return count;
            }
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>Records that a node's lists or state differ from what the files hold (for the next change record).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MarkChanged(Graph g, int node) => Interlocked.Or(ref g.Changed[node >> 6], 1UL << (node & 63));

    private static void LockNode(Graph g, int node)
    {
        ref int version = ref g.Versions[node];
        SpinWait spin = default;
        while (true)
        {
            int v = Volatile.Read(ref version);
            if ((v & 1) == 0 && Interlocked.CompareExchange(ref version, v + 1, v) == v) return;
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    private static void UnlockNode(Graph g, int node)
    {
        ref int version = ref g.Versions[node];
        Volatile.Write(ref version, version + 1);
    }

    private Scratch Rent(int capacity)
    {
        if (!_scratch.TryTake(out Scratch? sc))
            sc = new Scratch(capacity, _parameters.EfConstruction, _m0);
        return sc;
    }

    private static long Pack(int level, int node) => ((long)level << 32) | (uint)node;
    private static int EntryNode(long entry) => (int)(entry & 0xFFFFFFFF);
    private static int EntryLevel(long entry) => (int)(entry >> 32);

    /// <summary>Test hook: how many nodes a breadth-first walk of layer 0 from the entry point reaches.</summary>
    internal int CountReachableOnLayer0()
    {
        long entry = Volatile.Read(ref _entry);
        if (entry == EmptyEntry) return 0;
        Graph g = Volatile.Read(ref _graph);
        var seen = new bool[g.Capacity];
        var queue = new Queue<int>();
        queue.Enqueue(EntryNode(entry));
        seen[EntryNode(entry)] = true;
        int reached = 0;
        var buffer = new int[_m0];
        while (queue.Count > 0)
        {
            int node = queue.Dequeue();
            reached++;
            int count = ReadLinks(g, node, 0, buffer);
            for (int i = 0; i < count; i++)
            {
                if (!seen[buffer[i]])
                {
                    seen[buffer[i]] = true;
                    queue.Enqueue(buffer[i]);
                }
            }
        }
        return reached;
    }

    /// <summary>Test hook: the layer-0 neighbours of the node holding <paramref name="id"/>.</summary>
    internal long[] Layer0NeighboursOf(long id)
    {
        int slot;
        lock (_mapLock) slot = _map[id];
        Graph g = Volatile.Read(ref _graph);
        var buffer = new int[_m0];
        int count = ReadLinks(g, slot, 0, buffer);
        return buffer.Take(count).Select(n => g.Labels[n]).ToArray();
    }

    /// <inheritdoc/>
    public int SampleScores(ReadOnlySpan<float> query, Span<float> scores)
    {
        VectorMath.Validate(query, _dims, "query");
        Graph g = Volatile.Read(ref _graph);
        int slots = Math.Min(Volatile.Read(ref _allocated), g.Capacity);
        int step = Math.Max(1, slots / Math.Max(scores.Length, 1)), n = 0;
        for (int i = 0; i < slots && n < scores.Length; i += step)
        {
            if (Volatile.Read(ref g.States[i]) == IndexFile.StateLive) scores[n++] = VectorMath.Dot(query, Vector(g, i));
        }
        return n;
    }

    // ---------------------------------------------------------------- deletes and compaction

    /// <inheritdoc/>
    public bool MarkDeleted(long id)
    {
        _growth.EnterReadLock();
        try
        {
            lock (_mapLock)
            {
                if (!_map.Remove(id, out int slot)) return false;
                Volatile.Write(ref _graph.States[slot], IndexFile.StateDeleted);
                MarkChanged(_graph, slot);
                _live--;
                _deleted++;
                return true;
            }
        }
        finally
        {
            _growth.ExitReadLock();
        }
    }

    /// <inheritdoc/>
    public bool Contains(long id)
    {
        lock (_mapLock) return _map.ContainsKey(id);
    }

    /// <summary>Builds a new index from the live vectors only, in parallel on all cores.</summary>
    public HnswIndex Compact() => Compact(Environment.ProcessorCount);

    /// <summary>Builds a new index from the live vectors only, using up to <paramref name="degreeOfParallelism"/> threads.</summary>
    public HnswIndex Compact(int degreeOfParallelism)
    {
        long[] ids;
        float[] vectors;
        _growth.EnterWriteLock();
        try
        {
            Graph g = _graph;
            int n = _allocated;
            var live = new List<int>(Count);
            for (int i = 0; i < n; i++)
            {
                if (g.States[i] == IndexFile.StateLive) live.Add(i);
            }
            ids = new long[live.Count];
            vectors = new float[live.Count * _dims];
            for (int i = 0; i < live.Count; i++)
            {
                ids[i] = g.Labels[live[i]];
                Vector(g, live[i]).CopyTo(vectors.AsSpan(i * _dims, _dims));
            }
        }
        finally
        {
            _growth.ExitWriteLock();
        }
        var compacted = new HnswIndex(_dims, _parameters, Math.Max(ids.Length, 16));
        compacted.AddMany(ids, vectors, degreeOfParallelism);
        return compacted;
    }

    IVectorIndex IVectorIndex.Compact() => Compact();

    // ---------------------------------------------------------------- persistence

    /// <summary>The ids of every live vector, in no particular order (for cross-store checks).</summary>
    public IReadOnlyList<long> LiveIds()
    {
        lock (_mapLock) return [.. _map.Keys];
    }

    /// <inheritdoc/>
    public void Save(string path)
    {
        _growth.EnterWriteLock();
        try
        {
            Graph g = _graph;
            int n = _allocated;
            long entry = _entry;
            var header = new IndexFileHeader(IndexKind.Hnsw, _dims, n, _deleted, _m, _parameters.EfConstruction,
                _parameters.EfSearch, _parameters.Seed,
                entry == EmptyEntry ? -1 : EntryNode(entry), entry == EmptyEntry ? -1 : EntryLevel(entry));
            using var writer = new IndexFileWriter(path, header);
            writer.Write<long>(g.Labels.AsSpan(0, n));
            writer.Write<byte>(g.States.AsSpan(0, n));
            writer.Write<byte>(g.Levels.AsSpan(0, n));
            for (int i = 0; i < Math.Min(n, g.VectorBase); i++) writer.Write<float>(g.Mapped!.Row(i));
            if (g.LogRows is null) writer.Write<float>(g.Vectors.AsSpan(0, Math.Max(0, n - g.VectorBase) * _dims));
            else for (int i = g.VectorBase; i < n; i++) writer.Write<float>(Vector(g, i));
            writer.Write<int>(g.Links0.AsSpan(0, n * _stride0));
            for (int i = 0; i < n; i++)
            {
                if (g.Levels[i] > 0) writer.Write<int>(g.Upper[i]);
            }
            writer.Commit();
            MarkSaved(g, n, writer.Checksum);
        }
        finally
        {
            _growth.ExitWriteLock();
        }
    }

    /// <summary>
    /// The checksum of the vector file this index was last saved to or opened from, which its change log continues;
    /// null when it was never saved (a new or compacted index), so only <see cref="Save"/> can persist it.
    /// </summary>
    public ulong? BaseChecksum
    {
        get
        {
            _growth.EnterReadLock();
            try { return _baseChecksum; }
            finally { _growth.ExitReadLock(); }
        }
    }

    /// <summary>
    /// About how many bytes <see cref="AppendChanges"/> would write now: the nodes added since the last save or open,
    /// and the lists of the older nodes they linked to (or that were deleted).
    /// </summary>
    public long PendingChangeBytes
    {
        get
        {
            _growth.EnterWriteLock();
            try
            {
                Graph g = _graph;
                int n = _allocated;
                long changed = ChangedSlots(g, _savedCount).Count;
                long added = n - _savedCount;
                return ChangeLog.RecordHeaderSize + ChangeLog.RecordFooterSize + 24
                    + added * (8 + 1 + 1 + 4L * _dims + 4L * _stride0 + 4L * _strideUpper / _m)
                    + changed * (4 + 1 + 4L * _stride0);
            }
            finally
            {
                _growth.ExitWriteLock();
            }
        }
    }

    /// <summary>
    /// Appends what changed since the last save or open to the change log at <paramref name="logPath"/> as one record
    /// of <paramref name="generation"/> (the log is created when <paramref name="committedLength"/> is 0, and cut back
    /// to it otherwise), fsyncs it, and returns the log's new length: what the manifest commits. Costs the change, not
    /// the index.
    /// </summary>
    /// <exception cref="InvalidOperationException">The index was never saved (see <see cref="BaseChecksum"/>).</exception>
    /// <exception cref="CorruptDataException">The log on disk does not continue the file this index was opened from.</exception>
    public long AppendChanges(string logPath, long committedLength, long generation)
    {
        _growth.EnterWriteLock();
        try
        {
            if (_baseChecksum is not { } baseChecksum)
                throw new InvalidOperationException("the index has no vector file to continue; save it whole first");
            Graph g = _graph;
            int before = _savedCount;
            int n = _allocated;
            List<int> changed = ChangedSlots(g, before);
            long upperAdded = 0, upperChanged = 0;
            for (int i = before; i < n; i++) upperAdded += g.Levels[i];
            foreach (int slot in changed) upperChanged += g.Levels[slot];
            int added = n - before;
            long payload = 24
                + added * (8L + 1 + 1 + 4L * _dims + 4L * _stride0) + upperAdded * _strideUpper * 4
                + changed.Count * (4L + 1 + 4L * _stride0) + upperChanged * _strideUpper * 4;
            long entry = _entry;

            using var log = new ChangeLogAppender(logPath, committedLength, _dims, baseChecksum);
            log.BeginRecord(generation, payload);
            ReadOnlySpan<int> prefix =
            [
                before, n, _deleted, entry == EmptyEntry ? -1 : EntryNode(entry), entry == EmptyEntry ? -1 : EntryLevel(entry), changed.Count,
            ];
            log.Write(prefix);
            log.Write<long>(g.Labels.AsSpan(before, added));
            log.Write<byte>(g.States.AsSpan(before, added));
            log.Write<byte>(g.Levels.AsSpan(before, added));
            for (int i = before; i < n; i++) log.Write<float>(Vector(g, i));
            log.Write<int>(g.Links0.AsSpan(before * _stride0, added * _stride0));
            for (int i = before; i < n; i++)
            {
                if (g.Levels[i] > 0) log.Write<int>(g.Upper[i]);
            }
            int[] slots = [.. changed];
            log.Write<int>(slots);
            var states = new byte[slots.Length];
            for (int i = 0; i < slots.Length; i++) states[i] = g.States[slots[i]];
            log.Write<byte>(states);
            foreach (int slot in slots) log.Write<int>(g.Links0.AsSpan(slot * _stride0, _stride0));
            foreach (int slot in slots)
            {
                if (g.Levels[slot] > 0) log.Write<int>(g.Upper[slot]);
            }
            log.EndRecord();
            MarkSaved(g, n, baseChecksum);
            return log.Length;
        }
        finally
        {
            _growth.ExitWriteLock();
        }
    }

    // The older slots (below savedCount) whose lists or state changed, ascending.
    private static List<int> ChangedSlots(Graph g, int savedCount)
    {
        var slots = new List<int>();
        for (int w = 0; w * 64 < savedCount; w++)
        {
            ulong bits = g.Changed[w];
            while (bits != 0)
            {
                int slot = w * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                if (slot < savedCount) slots.Add(slot);
            }
        }
        return slots;
    }

    private void MarkSaved(Graph g, int n, ulong checksum)
    {
        Array.Clear(g.Changed);
        _savedCount = n;
        _baseChecksum = checksum;
    }

    /// <summary>Opens an index written by <see cref="Save"/>, validating the whole file.</summary>
    /// <exception cref="CorruptDataException">The file is truncated, damaged, foreign or of an unsupported version.</exception>
    /// <exception cref="NotFoundException">The file does not exist.</exception>
    public static HnswIndex Open(string path) => Open(path, null, 0);

    /// <summary>
    /// Opens an index written by <see cref="Save"/> and brings it up to date with the first
    /// <paramref name="logLength"/> bytes of the change log at <paramref name="logPath"/> (nothing when 0), validating
    /// both files whole and the structure they describe.
    /// </summary>
    /// <exception cref="CorruptDataException">A file is truncated, damaged, foreign, of an unsupported version, or the log continues another file.</exception>
    /// <exception cref="NotFoundException">A file does not exist.</exception>
    public static HnswIndex Open(string path, string? logPath, long logLength) => Open(path, logPath, logLength, HnswParameters.Default.Codec);

    /// <summary>
    /// As <see cref="Open(string, string?, long)"/>, with searches scoring the walk by <paramref name="codec"/> (codes are
    /// derived from the stored vectors as they load). With <paramref name="mapVectors"/> and the int8 codec, the
    /// file's full-precision vectors are not loaded but read in place (one positioned read a row), only to rescore a
    /// search's candidates: a searcher's memory holds the codes and links, a quarter of the floats; the change log's
    /// vectors are read where its records hold them, likewise. Such an index searches and deletes but takes no inserts.
    /// </summary>
    public static HnswIndex Open(string path, string? logPath, long logLength, VectorCodec codec, bool mapVectors = false)
    {
        HnswIndex index;
        int maxLevel, entryPoint, deletedExpected;
        string blame;
        ulong checksum;
        using (var reader = new IndexFileReader(path, IndexKind.Hnsw))
        {
            IndexFileHeader h = reader.Header;
            HnswParameters parameters;
            try
            {
                parameters = new HnswParameters(h.M, h.EfConstruction, h.EfSearch, h.Seed) { Codec = codec };
                parameters.Validate();
            }
            catch (InvalidSettingException e)
            {
                throw reader.Corrupt($"invalid parameters in header ({e.Message})");
            }
            int n = h.NodeCount;
            long stride0 = 1 + 2L * h.M;
            reader.Require(n * (8L + 1 + 1) + (long)n * h.Dimensions * 4 + n * stride0 * 4, "nodes");
            bool mapped = mapVectors && codec == VectorCodec.Int8 && n > 0;
            // room for every node the log can add (each takes at least its label, state, level, vector and layer-0
            // list), so replaying it never doubles the arrays
            long logNodes = logPath is not null && logLength > 0 ? logLength / (10L + 4L * h.Dimensions + 4L * stride0) : 0;
            int capacity = (int)Math.Min(Math.Max(n + logNodes, 16), Array.MaxLength / Math.Max(h.Dimensions, (int)stride0));
            index = new HnswIndex(h.Dimensions, parameters, mapped ? 16 : capacity);
            if (mapped)
            {
                // the vector section starts after the header, labels, states and levels; the log's rows are read
                // where its records hold them
                var rows = new FileVectors(reader.Path, IndexFile.HeaderSize + n * 10L, n, h.Dimensions);
                var logRows = logNodes > 0 ? new LogVectors(logPath!, logLength, h.Dimensions) : null;
                index._graph = new Graph(capacity, h.Dimensions, index._stride0, coded: true, rows, logRows);
            }
            Graph g = index._graph;
            reader.Read(g.Labels.AsSpan(0, n), "labels");
            reader.Read(g.States.AsSpan(0, n), "states");
            reader.Read(g.Levels.AsSpan(0, n), "levels");
            if (mapped)
            {
                // read through once all the same: the checksum covers them, and their codes are made on the way
                const int Rows = 1024;
                var block = new float[Rows * h.Dimensions];
                for (int start = 0; start < n; start += Rows)
                {
                    int count = Math.Min(Rows, n - start);
                    reader.Read(block.AsSpan(0, count * h.Dimensions), "vectors");
                    for (int i = 0; i < count; i++)
                        g.Scales[start + i] = VectorMath.QuantiseInt8(block.AsSpan(i * h.Dimensions, h.Dimensions), g.Codes.AsSpan((start + i) * h.Dimensions, h.Dimensions));
                }
            }
            else
            {
                reader.Read(g.Vectors.AsSpan(0, n * h.Dimensions), "vectors");
            }
            reader.Read(g.Links0.AsSpan(0, n * index._stride0), "layer-0 links");
            for (int i = 0; i < n; i++)
            {
                int level = g.Levels[i];
                if (level == 0) continue;
                if (level > h.MaxLevel || level > MaxLevelCap) throw reader.Corrupt($"node {i} has level {level} above the maximum {h.MaxLevel}");
                reader.Require((long)level * index._strideUpper * 4, "upper links");
                g.Upper[i] = new int[level * index._strideUpper];
                reader.Read(g.Upper[i].AsSpan(), "upper links");
            }
            reader.VerifyEnd();
            index._allocated = n;
            checksum = reader.Checksum;
            maxLevel = h.MaxLevel;
            entryPoint = h.EntryPoint;
            deletedExpected = h.DeletedCount;
            blame = reader.Path;
        }
        if (logPath is not null && logLength > 0)
        {
            using var log = new ChangeLogReader(logPath, logLength, index._dims, checksum);
            blame = log.Path;
            while (log.NextRecord(out _))
            {
                index.Replay(log, out deletedExpected, out entryPoint, out maxLevel);
                log.EndRecord();
            }
        }
        index.Validate(blame, deletedExpected, entryPoint, maxLevel);
        index.MarkSaved(index._graph, index._allocated, checksum);
        index.EncodeAll();
        return index;
    }

    // Derives the int8 code of every loaded vector (in parallel: a million 384-d vectors take a fraction of a second).
    private void EncodeAll()
    {
        if (!_coded) return;
        Graph g = _graph;
        if (g.LogRows is not null) return; // every row was coded as it was read, the file's and the log's
        int first = g.VectorBase, n = _allocated, dims = _dims; // a mapped file's rows were coded as they were read
        const int Block = 4096;
        Parallel.For(0, (n - first + Block - 1) / Block, b =>
        {
            for (int i = first + b * Block, end = Math.Min(n, i + Block); i < end; i++)
                g.Scales[i] = VectorMath.QuantiseInt8(Vector(g, i), g.Codes.AsSpan(i * dims, dims));
        });
    }

    // Applies one change record: the nodes it adds, then the lists and states of the older nodes it changed.
    private void Replay(ChangeLogReader log, out int deleted, out int entryPoint, out int maxLevel)
    {
        Span<int> prefix = stackalloc int[6];
        log.Read(prefix, "record counts");
        int before = prefix[0], after = prefix[1], changed = prefix[5];
        deleted = prefix[2];
        entryPoint = prefix[3];
        maxLevel = prefix[4];
        if (before != _allocated || after < before || changed < 0 || changed > before || maxLevel > MaxLevelCap)
            throw log.Corrupt($"a record changes nodes [{before}, {after}) with {changed} older ones, but the index holds {_allocated}");
        int added = after - before;
        log.Require(added * (8L + 1 + 1 + 4L * _dims + 4L * _stride0) + changed * (4L + 1 + 4L * _stride0), "nodes");
        EnsureCapacity(after);
        Graph g = _graph;
        log.Read(g.Labels.AsSpan(before, added), "labels");
        log.Read(g.States.AsSpan(before, added), "states");
        log.Read(g.Levels.AsSpan(before, added), "levels");
        if (g.LogRows is { } rows)
        {
            // read through all the same (the record's hash covers them), coding each row on the way
            var block = new float[Math.Min(Math.Max(added, 1), 1024) * _dims];
            for (int start = 0; start < added; start += 1024)
            {
                int count = Math.Min(1024, added - start);
                long at = log.Position;
                log.Read(block.AsSpan(0, count * _dims), "vectors");
                for (int i = 0; i < count; i++)
                {
                    rows.Add(at + (long)i * _dims * sizeof(float));
                    int slot = before + start + i;
                    g.Scales[slot] = VectorMath.QuantiseInt8(block.AsSpan(i * _dims, _dims), g.Codes.AsSpan(slot * _dims, _dims));
                }
            }
            if (rows.Count != after - g.VectorBase) throw log.Corrupt($"the log's rows end at node {g.VectorBase + rows.Count}, the record at {after}");
        }
        else
        {
            log.Read(g.Vectors.AsSpan((before - g.VectorBase) * _dims, added * _dims), "vectors");
        }
        log.Read(g.Links0.AsSpan(before * _stride0, added * _stride0), "layer-0 links");
        for (int i = before; i < after; i++)
        {
            int level = g.Levels[i];
            if (level == 0) continue;
            if (level > maxLevel) throw log.Corrupt($"node {i} has level {level} above the maximum {maxLevel}");
            log.Require((long)level * _strideUpper * 4, "upper links");
            g.Upper[i] = new int[level * _strideUpper];
            log.Read(g.Upper[i].AsSpan(), "upper links");
        }
        var slots = new int[changed];
        log.Read(slots.AsSpan(), "changed nodes");
        var states = new byte[changed];
        log.Read(states.AsSpan(), "changed states");
        for (int i = 0; i < changed; i++)
        {
            if ((uint)slots[i] >= (uint)before || (i > 0 && slots[i] <= slots[i - 1]))
                throw log.Corrupt($"a record changes node {slots[i]}, not an older node in ascending order");
            g.States[slots[i]] = states[i];
            log.Read(g.Links0.AsSpan(slots[i] * _stride0, _stride0), "changed layer-0 links");
        }
        foreach (int slot in slots)
        {
            if (g.Levels[slot] > 0) log.Read(g.Upper[slot].AsSpan(), "changed upper links");
        }
        _allocated = after;
    }

    // The checksums matched; now check the structure, so a well-formed but inconsistent file cannot crash a search.
    private void Validate(string path, int deletedExpected, int entryPoint, int maxLevel)
    {
        Graph g = _graph;
        int n = _allocated;
        int deleted = 0;
        for (int i = 0; i < n; i++)
        {
            byte state = g.States[i];
            if (state == IndexFile.StateDeleted) deleted++;
            else if (state != IndexFile.StateLive) throw new CorruptDataException(path, $"node {i} has invalid state {state}");
            else if (!_map.TryAdd(g.Labels[i], i)) throw new CorruptDataException(path, $"id {g.Labels[i]} is live twice");
            int level = g.Levels[i];
            for (int l = 0; l <= level; l++)
            {
                Span<int> list = LinkList(g, i, l);
                int max = l == 0 ? _m0 : _m;
                if ((uint)list[0] > (uint)max) throw new CorruptDataException(path, $"node {i} has {list[0]} links on layer {l}, at most {max} allowed");
                foreach (int target in list.Slice(1, list[0]))
                {
                    if ((uint)target >= (uint)n || g.Levels[target] < l)
                        throw new CorruptDataException(path, $"node {i} links to invalid node {target} on layer {l}");
                }
            }
        }
        if (deleted != deletedExpected) throw new CorruptDataException(path, $"header says {deletedExpected} deleted nodes, states say {deleted}");
        if (n == 0)
        {
            if (entryPoint != -1) throw new CorruptDataException(path, "an empty index has an entry point");
        }
        else if ((uint)entryPoint >= (uint)n || g.Levels[entryPoint] != maxLevel)
        {
            throw new CorruptDataException(path, $"invalid entry point {entryPoint} at level {maxLevel}");
        }
        _live = n - deleted;
        _deleted = deleted;
        _entry = n == 0 ? EmptyEntry : Pack(maxLevel, entryPoint);
    }
}
