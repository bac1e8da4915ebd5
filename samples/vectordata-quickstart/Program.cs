// Upserts a few notes into a SemanticSearch collection and prints a hybrid search: BM25 over the text, fused with
// the embedding model's vectors. Arguments: [indexes-folder] [model] [dimensions]; by default a folder under the
// temp directory and the engine's default model (snowflake-arctic-embed-xs, 384 dimensions).
using Microsoft.Extensions.VectorData;
using SemanticSearch.VectorData;

var root = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "semsearch-quickstart");
var model = args.Length > 1 ? args[1] : null;
var dimensions = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 384;

using var store = new SemanticSearchVectorStore(root, new SemanticSearchVectorStoreOptions { Model = model });

// The record's vector is its text: the collection's model embeds it (a definition, so the size can follow the model).
var definition = new VectorStoreCollectionDefinition
{
    Properties =
    [
        new VectorStoreKeyProperty(nameof(Note.Id), typeof(string)),
        new VectorStoreDataProperty(nameof(Note.Text), typeof(string)) { IsFullTextIndexed = true },
        new VectorStoreDataProperty(nameof(Note.Topic), typeof(string)) { IsIndexed = true },
        new VectorStoreVectorProperty(nameof(Note.Embedding), typeof(string), dimensions),
    ],
};
var notes = store.GetCollection<string, Note>("notes", definition);
await notes.EnsureCollectionDeletedAsync(); // start fresh on every run
Note[] records =
[
    new("tide-pools", "Sea anemones and small crabs live in tide pools when the ocean retreats.", "nature"),
    new("sourdough", "Sourdough bread rises slowly thanks to a wild yeast starter.", "cooking"),
    new("glaciers", "Glaciers carve deep valleys over thousands of years.", "nature"),
    new("espresso", "Espresso forces hot water through finely ground coffee.", "cooking"),
    new("violins", "The orchestra tuned its violins before the symphony began.", "music"),
];
await notes.UpsertAsync(records);

const string query = "little creatures living among seaside rocks at low water";
Console.WriteLine($"hybrid: \"{query}\" + keyword \"tide\"");
await foreach (var hit in notes.HybridSearchAsync(query, ["tide"], top: 3))
{
    Console.WriteLine($"{hit.Score:F4}  {hit.Record.Id,-11} {hit.Record.Text}");
}
Console.WriteLine("nature only:");
await foreach (var hit in notes.SearchAsync(query, top: 2, new() { Filter = n => n.Topic == "nature" }))
{
    Console.WriteLine($"{hit.Score:F4}  {hit.Record.Id,-11} {hit.Record.Text}");
}

/// <summary>A note: its id, text and topic; the text is also what is embedded.</summary>
internal sealed class Note
{
    public Note()
    {
    }

    public Note(string id, string text, string topic) => (Id, Text, Topic, Embedding) = (id, text, topic, text);

    public string Id { get; set; } = string.Empty;

    public string Text { get; set; } = string.Empty;

    public string Topic { get; set; } = string.Empty;

    public string? Embedding { get; set; }
}
