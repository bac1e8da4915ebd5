using System.Diagnostics;
using System.Text;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine;
using SemanticSearch.VectorIndex;

namespace SemanticSearch.Tests.Reliability;

/// <summary>Generated corpora, the real CLI as a killable child process, and the cross-store agreement check.</summary>
internal static class ReliabilityKit
{
    private static readonly string[] Words =
    [
        "river", "mountain", "honey", "engine", "signal", "garden", "protein", "harbour", "violin", "glacier",
        "lantern", "orbit", "copper", "meadow", "circuit", "falcon", "pepper", "canyon", "ledger", "quartz",
        "turbine", "willow", "compass", "bakery", "thunder", "saddle", "vaccine", "pixel", "marble", "ember",
        "tractor", "coral", "rocket", "velvet", "harvest", "beacon", "prism", "tundra", "anchor", "sonnet",
    ];

    /// <summary>Writes <paramref name="count"/> deterministic text files (one to two chunks each) under <paramref name="folder"/>.</summary>
    public static void WriteCorpus(string folder, int count, int seed = 7)
    {
        var rng = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var sb = new StringBuilder();
            sb.Append("Note ").Append(i).Append(' ').Append(Words[i % Words.Length]).Append("\n\n");
            var n = 30 + rng.Next(60);
            for (var w = 0; w < n; w++)
            {
                sb.Append(Words[rng.Next(Words.Length)]).Append(w % 12 == 11 ? ".\n" : " ");
            }
            var sub = Path.Combine(folder, $"d{i / 100:D2}");
            Directory.CreateDirectory(sub);
            File.WriteAllText(Path.Combine(sub, $"note{i:D4}.txt"), sb.ToString());
        }
    }

    /// <summary>Queries over the corpus vocabulary.</summary>
    public static readonly string[] Queries = ["river honey", "engine signal garden", "copper meadow falcon", "quartz turbine", "violin glacier lantern orbit"];

    /// <summary>Starts <c>semsearch</c> (built beside the tests) without waiting; output is drained and kept.</summary>
    public static Process Start(string indexesRoot, params string[] args)
    {
        var psi = Cli.CliRunner.StartInfo(indexesRoot, null, args);
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
