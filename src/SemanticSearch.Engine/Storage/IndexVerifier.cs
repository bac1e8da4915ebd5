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
    /// Verifies the index at <paramref name="directory"/> at one generation. Every store is first pinned at the
    /// generation the manifest names (a private copy of the metadata, the Lucene commit of that generation opened with
    /// all its files, the vector files and the log length it names), then checked: a writer committing beside it
    /// cannot change what is checked, so every problem reported is in the files. When the writer moves on while the
    /// stores are being pinned (it retired a commit or a vector file before it was opened), pinning starts again, for
    /// up to <paramref name="settle"/> (default 30 s).
    /// </summary>
    /// <exception cref="NotFoundException">There is no directory at <paramref name="directory"/>.</exception>
    /// <exception cref="StoreBusyException">A writer moved on during every attempt to pin a generation for the whole budget.</exception>
    public static VerificationReport Verify(string directory, TimeSpan? settle = null)
    {
        if (!Directory.Exists(directory))
        {
            throw new NotFoundException($"index not found: {directory}");
        }
        var budget = settle ?? TimeSpan.FromSeconds(30);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var attempts = 0;
        while (true)
        {
            attempts++;
            if (VerifyOnce(directory) is { } report)
            {
                return report;
            }
            if (clock.Elapsed >= budget)
            {
                throw new StoreBusyException(directory, $"a writer committed during each of {attempts} attempts in {budget.TotalSeconds:0} s to read one generation of every store; run 'verify' again when it pauses");
            }
            Thread.Sleep(20);
        }
    }

    // How long the verifier waits for a writer that has committed its metadata to publish the manifest of that commit.
    private static readonly TimeSpan ManifestWait = TimeSpan.FromSeconds(5);

    private static long? ManifestGeneration(string directory)
    {
        try
        {
            return IndexManifest.Read(directory).Generation;
        }
        catch (SemanticSearchException)
        {
            return null;
        }
    }

    // One pass: pin every store at one generation, then check them. Null when a writer moved on while pinning.
    private static VerificationReport? VerifyOnce(string directory)
    {
        var problems = new List<VerificationProblem>();
        var manifestPath = Path.Combine(directory, IndexManifest.FileName);
        var metadataPath = Path.Combine(directory, IndexStores.MetadataFile);

        // pin the metadata: a private copy of one committed state (its reads must agree with each other)
        MetadataStore? metadata = null;
        try
        {
            metadata = MetadataStore.OpenSnapshot(metadataPath);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not StoreBusyException)
        {
            problems.Add(new("metadata", metadataPath, $"unreadable: {e.Message}"));
        }
        using var pinnedMetadata = metadata;
        long metadataGeneration = 0;
        try
        {
            metadataGeneration = metadata?.Generation ?? 0;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            problems.Add(new("metadata", metadataPath, $"unreadable: {e.Message}"));
            metadata = null;
        }

        // the manifest of the same generation: a writer commits its metadata first and publishes the manifest last,
        // so a copy one generation ahead of the manifest beside a writer is a commit in flight: wait for its manifest
        IndexManifest? manifest = null;
        try
        {
            manifest = IndexManifest.Read(directory);
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (metadataGeneration == manifest.Generation + 1 && IndexWriteLock.IsHeld(directory) && waited.Elapsed < ManifestWait)
            {
                Thread.Sleep(1);
                manifest = IndexManifest.Read(directory);
            }
            if (metadataGeneration != 0 && manifest.Generation != metadataGeneration && IndexWriteLock.IsHeld(directory))
            {
                return null; // the writer moved past the copy (or is stuck in a commit): copy again
            }
        }
        catch (SemanticSearchException e)
        {
            problems.Add(new("manifest", manifestPath, WithoutPath(e.Message, manifestPath)));
        }
        var generation = manifest?.Generation;

        // pin the lexical commit of that generation (its segment files are opened with it)
        var lexicalPath = Path.Combine(directory, IndexStores.LexicalDirectory);
        LexicalIndex? lexical = null;
        string? lexicalProblem = null;
        if (!Directory.Exists(lexicalPath))
        {
            lexicalProblem = "missing";
        }
        else if (manifest is null)
        {
            lexicalProblem = LexicalIndex.Check(lexicalPath); // no generation to pin: the newest commit
        }
        else
        {
            try
            {
                lexical = LexicalIndex.OpenReadOnly(lexicalPath, manifest.Lexical, manifest.Generation);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                if (ManifestGeneration(directory) != generation)
                {
                    return null; // the writer retired that commit after publishing a newer manifest
                }
                lexicalProblem = LexicalIndex.Check(lexicalPath) ?? e.Message;
            }
        }
        using var pinnedLexical = lexical;

        // pin each space's vector file at the log length the manifest names
        var vectorFiles = new List<(SpaceManifest Space, string Path, string Store, HnswIndex? Index, string? Problem)>();
        foreach (var space in manifest?.Spaces ?? [])
        {
            var vectorPath = Path.Combine(directory, space.VectorFile ?? VectorFiles.Legacy);
            var store = manifest!.Spaces.Count == 1 ? "vectors" : $"vectors ({space.Name})";
            if (space.VectorFile is null && !File.Exists(vectorPath))
            {
                vectorFiles.Add((space, vectorPath, store, null, space.VectorCount > 0 ? "missing" : null));
                continue;
            }
            try
            {
                var log = space.VectorLogLength > 0 ? Path.Combine(directory, VectorFiles.LogOf(space.VectorFile ?? VectorFiles.Legacy)) : null;
                vectorFiles.Add((space, vectorPath, store, HnswIndex.Open(vectorPath, log, space.VectorLogLength, VectorCodec.Float32), null)); // the verifier checks files, it does not search
            }
            catch (SemanticSearchException e)
            {
                if (ManifestGeneration(directory) != generation)
                {
                    return null; // the writer replaced that file after publishing a newer manifest
                }
                vectorFiles.Add((space, vectorPath, store, null, WithoutPath(e.Message, vectorPath)));
            }
        }

        // everything is pinned: what follows reads only the copies and open files, whatever the writer does now
        HashSet<long>? metadataIds = null;
        HashSet<string>? metadataDocuments = null; // documents with chunks: each has one lexical document entry (format 2)
        long documents = 0, chunks = 0;
        if (metadata is not null)
        {
            try
            {
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
                if (manifest is not null && metadataGeneration != 0 && metadataGeneration != manifest.Generation)
                {
                    problems.Add(new("agreement", metadataPath, metadataGeneration == manifest.Generation + 1
                        ? $"metadata is at generation {metadataGeneration}, the manifest at {manifest.Generation}: the last commit was interrupted before its manifest was written (opening the index for writing completes it)"
                        : $"metadata is at generation {metadataGeneration}, the manifest at {manifest.Generation}"));
                }
                if (manifest is not null && (manifest.Counts.Documents != documents || manifest.Counts.Chunks != chunks) && metadataGeneration == manifest.Generation)
                {
                    problems.Add(new("agreement", manifestPath, $"manifest counts {manifest.Counts.Documents} documents and {manifest.Counts.Chunks} chunks, the metadata holds {documents} and {chunks}"));
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                metadataIds = null;
                problems.Add(new("metadata", metadataPath, $"unreadable: {e.Message}"));
            }
        }

        // lexical: the pinned commit checked segment by segment, then its chunk ids and document entries
        if (lexicalProblem is not null)
        {
            problems.Add(new("lexical", lexicalPath, lexicalProblem));
        }
        else if (lexical is not null)
        {
            try
            {
                if (lexical.CheckOpenedCommit() is { } damage)
                {
                    problems.Add(new("lexical", lexicalPath, damage));
                }
                else
                {
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
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                problems.Add(new("lexical", lexicalPath, e.Message));
            }
        }

        // vectors: each pinned file's live ids, dimensions and count
        long vectorTotal = 0;
        var vectorsRead = true;
        foreach (var (space, vectorPath, store, vectors, problem) in vectorFiles)
        {
            if (problem is not null)
            {
                problems.Add(new(store, vectorPath, problem));
            }
            if (vectors is null)
            {
                vectorsRead &= problem is null;
                continue;
            }
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
