// The sentences the generated documents are recombined from: every sentence of the SciFact and NFCorpus abstracts
// (BEIR corpus.jsonl files, read where they lie, never copied), in corpus order, so that sentences near each other in
// the pool come from the same or neighbouring abstracts and a document drawn from a neighbourhood stays on one topic.
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ScaleBench;

/// <summary>One sentence of the pool: its text, the corpus it came from, the title of its abstract and that abstract's number (0, 1, … over both corpora).</summary>
internal sealed record PoolSentence(string Text, string Corpus, string Title, int Abstract);

/// <summary>The sentence pool and each word's inverse document frequency over it.</summary>
internal sealed partial class SentencePool
{
    private SentencePool(List<PoolSentence> sentences, Dictionary<string, float> idf)
    {
        Sentences = sentences;
        Idf = idf;
    }

    /// <summary>The sentences, in corpus order (SciFact, then NFCorpus).</summary>
    public IReadOnlyList<PoolSentence> Sentences { get; }

    /// <summary>How many abstracts the sentences came from.</summary>
    public int Abstracts { get; private init; }

    /// <summary>ln(1 + sentences / sentences containing the word), by lower-case word.</summary>
    public IReadOnlyDictionary<string, float> Idf { get; }

    /// <summary>Reads <c>scifact/corpus.jsonl</c> and <c>nfcorpus/corpus.jsonl</c> under <paramref name="datasets"/>.</summary>
    public static SentencePool Load(string datasets)
    {
        var sentences = new List<PoolSentence>();
        var abstracts = 0;
        foreach (var corpus in new[] { "scifact", "nfcorpus" })
        {
            var path = Path.Combine(datasets, corpus, "corpus.jsonl");
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"the scale benchmark reads its sentences from {path}, which is missing", path);
            }
            foreach (var line in File.ReadLines(path))
            {
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }
                using var doc = JsonDocument.Parse(line);
                var title = doc.RootElement.TryGetProperty("title", out var t) ? t.GetString() ?? string.Empty : string.Empty;
                var text = doc.RootElement.GetProperty("text").GetString() ?? string.Empty;
                foreach (var s in SentenceBreak().Split(text))
                {
                    var sentence = s.Trim();
                    if (sentence.Length is >= 40 and <= 400)
                    {
                        sentences.Add(new PoolSentence(sentence, corpus, title, abstracts));
                    }
                }
                abstracts++;
            }
        }
        var df = new Dictionary<string, int>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in sentences)
        {
            seen.Clear();
            foreach (var w in Words(s.Text))
            {
                if (seen.Add(w))
                {
                    df[w] = df.GetValueOrDefault(w) + 1;
                }
            }
        }
        var idf = df.ToDictionary(p => p.Key, p => (float)Math.Log(1.0 + (double)sentences.Count / p.Value), StringComparer.Ordinal);
        return new SentencePool(sentences, idf) { Abstracts = abstracts };
    }

    /// <summary>The lower-case words (letters and digits, two or more) of <paramref name="text"/>, in order.</summary>
    public static IEnumerable<string> Words(string text)
    {
        foreach (Match m in WordPattern().Matches(text))
        {
            if (m.Length >= 2)
            {
                yield return m.Value.ToLowerInvariant();
            }
        }
    }

    [GeneratedRegex(@"(?<=[.!?])\s+(?=[A-Z(\[])")]
    private static partial Regex SentenceBreak();

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex WordPattern();
}
