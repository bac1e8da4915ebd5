// Filling one vector space from the metadata: every chunk of every document is embedded as the space's passage policy
// says and inserted into its graph, in batches. Adding a space to an index and a repair's rebuild of a space's
// vectors both do this; neither touches the metadata, BM25 or the other spaces, and nothing is visible until the
// commit that follows publishes the space.
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Engine.Indexing;

/// <summary>Progress of filling a vector space: chunks embedded so far, of all the index holds.</summary>
public sealed record SpaceProgress(string Space, long Done, long Total);

internal static class SpaceFill
{
    // Passages embedded per encoder call: enough for one run per core at the encoder's token budget.
    private const int Batch = 256;

    /// <summary>Embeds every chunk of the metadata into <paramref name="space"/>'s (empty) graph; returns the passages embedded.</summary>
    public static long Run(IndexStores stores, SpaceStore space, IProgress<SpaceProgress>? progress, CancellationToken ct)
    {
        var encoder = space.Encoder ?? throw new Core.ModelMismatchException($"space '{space.Name}' needs its model {space.Manifest.Model.ModelId} to embed its chunks");
        var total = stores.Metadata.Counts().Chunks;
        var batch = new PassageBatch();
        long done = 0, embedded = 0, chunksInBatch = 0;
        progress?.Report(new SpaceProgress(space.Name, 0, total));
        void Flush()
        {
            if (batch.Texts.Count > 0)
            {
                IndexStores.AddVectors(space, batch.VectorIds, batch.Embed(encoder, ct));
                embedded += batch.Texts.Count;
                batch.Clear();
            }
            done += chunksInBatch;
            chunksInBatch = 0;
            progress?.Report(new SpaceProgress(space.Name, done, total));
        }
        foreach (var doc in stores.Metadata.AllDocuments())
        {
            ct.ThrowIfCancellationRequested();
            var chunks = stores.Metadata.GetChunks(doc.ChunkIds);
            var title = space.Policy.EmbeddingTitle(doc.Title);
            foreach (var id in doc.ChunkIds)
            {
                if (chunks.TryGetValue(id, out var chunk))
                {
                    space.Policy.AddPassages(batch, title, chunk.Id, chunk.Length, chunk.Text);
                    chunksInBatch++;
                }
            }
            if (batch.Texts.Count >= Batch)
            {
                Flush();
            }
        }
        Flush();
        return embedded;
    }
}
