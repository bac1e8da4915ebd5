// A visited-node set that is reset in O(1) by bumping a generation tag (as hnswlib's VisitedList): a node is
// visited when its slot holds the current generation. The array is cleared only when the tag wraps around.
namespace SemanticSearch.VectorIndex;

internal sealed class VisitedSet
{
    private ushort[] _marks;
    private ushort _generation = 1;

    public VisitedSet(int capacity) => _marks = new ushort[Math.Max(capacity, 16)];

    /// <summary>Starts a new search over at least <paramref name="capacity"/> nodes.</summary>
    public void Reset(int capacity)
    {
        if (_marks.Length < capacity)
        {
            _marks = new ushort[Math.Max(capacity, _marks.Length * 2)];
            _generation = 1;
            return;
        }
        _generation++;
        if (_generation == 0)
        {
            Array.Clear(_marks);
            _generation = 1;
        }
    }

    /// <summary>Marks <paramref name="node"/>; returns false when it was already marked in this generation.</summary>
    public bool TryVisit(int node)
    {
        ref ushort slot = ref _marks[node];
        if (slot == _generation) return false;
        slot = _generation;
        return true;
    }
}
