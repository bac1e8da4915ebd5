// 'semsearch verify': every checksum and the cross-store invariant of the commit protocol.
//
// Invariant checked (docs/architecture.md, "Commit protocol"): at the manifest's generation, the set of live chunk ids
// is the same in the metadata (chunks collection, and each document's chunk list), in the Lucene commit labelled with
// that generation (its chunk entries), and in the vector file the manifest names; a Lucene commit of lexical format 2
// also holds exactly one document entry per metadata document with chunks; the manifest's counts are those of the
// metadata.
// Checksums: the manifest's CRC-32, the vector file's XxHash64 footer, Lucene's CheckIndex (codec checksums), and the
// metadata's content checksum (an order-independent sum of record hashes kept at every write).
using SemanticSearch.Core;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Lexical;
using SemanticSearch.Metadata;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.Engine.Storage;

/// <summary>One problem found by <see cref="IndexVerifier"/>.</summary>
/// <param name="Store">manifest, vectors (or "vectors (&lt;space&gt;)" on an index of several spaces), lexical, metadata or agreement (the stores disagree).</param>
/// <param name="Path">The file or directory at fault.</param>
/// <param name="Message">What is wrong.</param>
public sealed record VerificationProblem(string Store, string Path, string Message);

/// <summary>The outcome of <see cref="IndexVerifier.Verify"/>.</summary>
/// <param name="Directory">The index directory.</param>
/// <param name="Generation">The manifest's generation (-1 when the manifest is unreadable).</param>
/// <param name="Documents">Documents in the metadata.</param>
/// <param name="Chunks">Chunks in the metadata.</param>
/// <param name="Problems">Everything found; empty when the index is clean.</param>
public sealed record VerificationReport(string Directory, long Generation, long Documents, long Chunks, IReadOnlyList<VerificationProblem> Problems)
{
    /// <summary>True when nothing is wrong.</summary>
    public bool Clean => Problems.Count == 0;
}

/// <summary>Checks an index directory without changing it (safe beside a running writer).</summary>
public static class IndexVerifier
{
    /// <summary>
    /// Verifies the index at <paramref name="directory"/>: the generation its manifest names. Beside a running writer
    /// (the write lock is held) a problem may only be that writer moving on while the files were read (a commit past
    /// its decision point but not yet published, a Lucene commit or vector file of a generation it has just retired):
    /// then the check is run again on the newest generation, for up to <paramref name="settle"/> (default 30 s).
    /// Problems that remain, or any found while no writer is running, are reported.
    /// </summary>
    public static VerificationReport Verify(string directory, TimeSpan? settle = null)
    {
        if (!Directory.Exists(directory))
        {
            throw new NotFoundException($"index not found: {directory}");
        }
        var budget = settle ?? TimeSpan.FromSeconds(30);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var report = VerifyOnce(directory);
            if (report.Clean || clock.Elapsed >= budget || !WriterMovedOn(directory, report.Generation))
            {
                return report;
            }
            Thread.Sleep(50);
        }
    }

    // A writer is running (it holds the lock), or the manifest is no longer the one that was checked.
    private static bool WriterMovedOn(string directory, long checkedGeneration)
    {
        if (IndexWriteLock.IsHeld(directory))
        {
            return true;
        }
        try
        {
            return IndexManifest.Read(directory).Generation != checkedGeneration;
        }
        catch (SemanticSearchException)
        {
            return false;
        }
    }

    private static VerificationReport VerifyOnce(string directory)
    {
        var problems = new List<VerificationProblem>();
        IndexManifest? manifest = null;
        var manifestPath = Path.Combine(directory, IndexManifest.FileName);
        try
        {
            manifest = IndexManifest.Read(directory);
        }
        catch (SemanticSearchException e)
        {
            problems.Add(new("manifest", manifestPath, WithoutPath(e.Message, manifestPath)));
        }

        // metadata: readable, content checksum, generation
        HashSet<long>? metadataIds = null;
        HashSet<string>? metadataDocuments = null; // documents with chunks: each has one lexical document entry (format 2)
        long documents = 0, chunks = 0;
        var metadataPath = Path.Combine(directory, IndexStores.MetadataFile);
        try
        {
            using var metadata = MetadataStore.OpenSnapshot(metadataPath); // its reads must agree with each other: one pinned state
            metadataIds = [];
            metadataDocuments = new HashSet<string>(StringComparer.Ordinal);
            var fromDocuments = new HashSet<long>();
            foreach (var d in metadata.AllDocuments())
            {
                documents++;
                if (d.ChunkIds.Count > 0)
                {
                    metadataDocuments.Add(d.Id);
                }
                foreach (var id in d.ChunkIds)
                {
                    fromDocuments.Add(id);
                }
            }
            foreach (var c in metadata.AllChunks())
            {
                chunks++;
                metadataIds.Add(c.Id);
            }
            if (metadata.VerifyContent() is { } damage)
            {
                problems.Add(new("metadata", metadataPath, damage));
            }
            if (!fromDocuments.SetEquals(metadataIds))
            {
                problems.Add(new("metadata", metadataPath, $"documents list {fromDocuments.Count} chunk ids, the chunks collection holds {metadataIds.Count}, and they differ"));
            }
            var generation = metadata.Generation;
            if (manifest is not null && generation != 0 && generation != manifest.Generation)
            {
                problems.Add(new("agreement", metadataPath, generation == manifest.Generation + 1
                    ? $"metadata is at generation {generation}, the manifest at {manifest.Generation}: the last commit was interrupted before its manifest was written (opening the index for writing completes it)"
                    : $"metadata is at generation {generation}, the manifest at {manifest.Generation}"));
            }
            if (manifest is not null && (manifest.Counts.Documents != documents || manifest.Counts.Chunks != chunks) && generation == manifest.Generation)
            {
                problems.Add(new("agreement", manifestPath, $"manifest counts {manifest.Counts.Documents} documents and {manifest.Counts.Chunks} chunks, the metadata holds {documents} and {chunks}"));
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            metadataIds = null;
            problems.Add(new("metadata", metadataPath, $"unreadable: {e.Message}"));
        }

        // lexical: CheckIndex, then the chunk ids of the commit the manifest names
        var lexicalPath = Path.Combine(directory, IndexStores.LexicalDirectory);
        if (!Directory.Exists(lexicalPath))
        {
            problems.Add(new("lexical", lexicalPath, "missing"));
        }
        else if (LexicalIndex.Check(lexicalPath) is { } lexicalDamage)
        {
            problems.Add(new("lexical", lexicalPath, lexicalDamage));
        }
        else if (manifest is not null)
        {
            try
            {
                using var lexical = LexicalIndex.OpenReadOnly(lexicalPath, manifest.Lexical, manifest.Generation);
                CompareIds("lexical", lexicalPath, lexical.AllChunkIds(), metadataIds, problems);
                if (lexical.HasDocumentEntries && metadataDocuments is not null)
                {
                    var entries = lexical.AllDocumentEntryIds();
                    var set = new HashSet<string>(entries, StringComparer.Ordinal);
                    if (entries.Count != set.Count || !set.SetEquals(metadataDocuments))
                    {
                        problems.Add(new("agreement", lexicalPath,
                            $"lexical holds {entries.Count} document entries for {set.Count} documents; the metadata has {metadataDocuments.Count} documents with chunks, {metadataDocuments.Count(d => !set.Contains(d))} of them without an entry"));
                    }
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                problems.Add(new("lexical", lexicalPath, e.Message));
            }
        }

        // vectors: each space's file the manifest names (footer checksum, structure), then its live ids
        long vectorTotal = 0;
        var vectorsRead = true;
        foreach (var space in manifest?.Spaces ?? [])
        {
            var vectorPath = Path.Combine(directory, space.VectorFile ?? VectorFiles.Legacy);
            var store = manifest!.Spaces.Count == 1 ? "vectors" : $"vectors ({space.Name})";
            if (space.VectorFile is null && !File.Exists(vectorPath))
            {
                if (space.VectorCount > 0)
                {
                    problems.Add(new(store, vectorPath, "missing"));
                }
                vectorsRead &= space.VectorCount == 0;
                continue;
            }
            try
            {
                var vectors = HnswIndex.Open(vectorPath, space.VectorLogLength > 0 ? Path.Combine(directory, VectorFiles.LogOf(space.VectorFile ?? VectorFiles.Legacy)) : null, space.VectorLogLength, VectorCodec.Float32); // the verifier checks files, it does not search
                var ids = new HashSet<long>();
                foreach (var id in vectors.LiveIds())
                {
                    ids.Add(PassagePolicy.ChunkOfVector(space, id)); // several windows of one chunk count once
                }
                CompareIds(store, vectorPath, ids, metadataIds, problems);
                if (vectors.Dimensions != space.Model.Dimensions)
                {
                    problems.Add(new(store, vectorPath, $"holds {vectors.Dimensions}-dimensional vectors, the model of space '{space.Name}' has {space.Model.Dimensions}"));
                }
                if (vectors.Count != space.VectorCount)
                {
                    problems.Add(new("agreement", manifestPath, $"manifest counts {space.VectorCount} vectors in space '{space.Name}', {vectorPath} holds {vectors.Count}"));
                }
                vectorTotal += vectors.Count;
            }
            catch (SemanticSearchException e)
            {
                problems.Add(new(store, vectorPath, WithoutPath(e.Message, vectorPath)));
                vectorsRead = false;
            }
        }
        if (manifest is not null && vectorsRead && manifest.Spaces.Count > 0 && vectorTotal != manifest.Counts.Vectors)
        {
            problems.Add(new("agreement", manifestPath, $"manifest counts {manifest.Counts.Vectors} vectors, its spaces' files hold {vectorTotal}"));
        }
        // a vector file of a stem no space has is a leftover the next writer deletes; it is not damage
        return new VerificationReport(directory, manifest?.Generation ?? -1, documents, chunks, problems);
    }

    // CorruptDataException messages start with the file; the problem names it already.
    private static string WithoutPath(string message, string path)
    {
        var full = Path.GetFullPath(path) + ": ";
        return message.StartsWith(full, StringComparison.Ordinal) ? message[full.Length..]
            : message.StartsWith(path + ": ", StringComparison.Ordinal) ? message[(path.Length + 2)..] : message;
    }

    private static void CompareIds(string store, string path, IReadOnlyCollection<long> ids, HashSet<long>? metadataIds, List<VerificationProblem> problems)
    {
        if (metadataIds is null)
        {
            return;
        }
        var set = new HashSet<long>(ids);
        var missing = 0;
        foreach (var id in metadataIds)
        {
            if (!set.Contains(id))
            {
                missing++;
            }
        }
        var extra = 0;
        foreach (var id in set)
        {
            if (!metadataIds.Contains(id))
            {
                extra++;
            }
        }
        if (missing > 0 || extra > 0 || set.Count != ids.Count)
        {
            problems.Add(new("agreement", path,
                $"{store} holds {set.Count} chunk ids: {missing} chunk(s) of the metadata are missing, {extra} are not in the metadata" + (set.Count != ids.Count ? $", {ids.Count - set.Count} duplicated" : "")));
        }
    }
}
