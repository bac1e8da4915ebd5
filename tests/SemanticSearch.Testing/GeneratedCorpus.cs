using System.Text;

namespace SemanticSearch.Testing;

/// <summary>Deterministic generated notes over a 40-word vocabulary, for the reliability and soak tests.</summary>
public static class GeneratedCorpus
{
    private static readonly string[] Words =
    [
        "river", "mountain", "honey", "engine", "signal", "garden", "protein", "harbour", "violin", "glacier",
        "lantern", "orbit", "copper", "meadow", "circuit", "falcon", "pepper", "canyon", "ledger", "quartz",
        "turbine", "willow", "compass", "bakery", "thunder", "saddle", "vaccine", "pixel", "marble", "ember",
        "tractor", "coral", "rocket", "velvet", "harvest", "beacon", "prism", "tundra", "anchor", "sonnet",
    ];

    /// <summary>Writes <paramref name="count"/> deterministic text files (one to two chunks each) under <paramref name="folder"/>.</summary>
    public static void Write(string folder, int count, int seed = 7)
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

}
