using System.Diagnostics;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.Tests.Reliability;

/// <summary>
/// The real CLI as a killable child process, and the cross-store agreement check (the same check as the engine
/// tests' ReliabilityKit: a separate test assembly cannot share it without the engine's internals in SemanticSearch.Testing).
/// </summary>
internal static class ReliabilityKit
{
    /// <summary>Starts <c>semsearch</c> (built beside the tests) without waiting; output is drained and kept.</summary>
    public static Process Start(string indexesRoot, params string[] args)
    {
        var psi = SemanticSearch.Tests.Cli.CliRunner.StartInfo(indexesRoot, null, args);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>
    /// Opens the index read-only (as a searcher would) and checks that the three stores hold the same live chunk ids,
    /// independently of the verifier: metadata chunks, Lucene's live documents, the vector file's live ids.
    /// </summary>
    /// <returns>The committed document count.</returns>
    public static long AssertStoresAgree(string directory, ITextEncoder? encoder)
    {
        using var index = SemanticIndex.OpenReadOnly(directory, encoder is null ? null : _ => encoder);
        var metadataIds = index.Metadata.AllChunks().Select(c => c.Id).Order().ToArray();
        var lexicalIds = index.Lexical.AllChunkIds().Order().ToArray();
        Assert.Equal(metadataIds, lexicalIds);
        if (encoder is not null)
        {
            var vectorIds = ((HnswIndex)index.Vectors!).LiveIds().Order().ToArray();
            Assert.Equal(metadataIds, vectorIds);
        }
        var counts = index.Metadata.Counts();
        Assert.Equal(index.Manifest.Counts.Documents, counts.Documents);
        Assert.Equal(index.Manifest.Counts.Chunks, counts.Chunks);
        return counts.Documents;
    }
}
