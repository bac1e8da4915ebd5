// A binary max-heap of (key, node) pairs in two parallel arrays, reused across searches so that the graph walk
// allocates nothing. The HNSW candidate queue uses key = similarity (best first); the bounded result set uses
// key = -similarity so that its top is the worst result, the one to evict.
namespace SemanticSearch.VectorIndex;

internal sealed class ScoredHeap
{
    private float[] _keys;
    private int[] _nodes;
    private int _count;

    public ScoredHeap(int capacity)
    {
        _keys = new float[Math.Max(capacity, 16)];
        _nodes = new int[_keys.Length];
    }

    public int Count => _count;
    public float TopKey => _keys[0];
    public int TopNode => _nodes[0];

    public void Clear() => _count = 0;

    public void Push(float key, int node)
    {
        if (_count == _keys.Length)
        {
            Array.Resize(ref _keys, _count * 2);
            Array.Resize(ref _nodes, _count * 2);
        }
        float[] keys = _keys;
        int[] nodes = _nodes;
        int i = _count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (keys[parent] >= key) break;
            keys[i] = keys[parent];
            nodes[i] = nodes[parent];
            i = parent;
        }
        keys[i] = key;
        nodes[i] = node;
    }

    public void Pop()
    {
        int last = --_count;
        if (last == 0) return;
        float[] keys = _keys;
        int[] nodes = _nodes;
        float key = keys[last];
        int node = nodes[last];
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= last) break;
            if (child + 1 < last && keys[child + 1] > keys[child]) child++;
            if (keys[child] <= key) break;
            keys[i] = keys[child];
            nodes[i] = nodes[child];
            i = child;
        }
        keys[i] = key;
        nodes[i] = node;
    }
}
