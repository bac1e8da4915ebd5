namespace SemanticSearch.VectorData.Tests;

/// <summary>A store in a temporary folder and a generated set of notes, kept in memory too as the reference.</summary>
internal sealed class NoteCollection : IAsyncDisposable
{
    private readonly TempDir _dir = new();

    private NoteCollection(int count, int seed)
    {
        Store = new SemanticSearchVectorStore(_dir.Path);
        Collection = Store.GetCollection<Guid, Note>("notes");
        var rng = new Random(seed);
        string[] categories = ["alpha", "beta", "gamma"];
        string[] tags = ["red", "green", "blue", "cyan"];
        string[] words = ["harbor", "lantern", "meadow", "quartz", "river", "saffron", "tundra", "violet"];
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < count; i++)
        {
            Notes.Add(new Note
            {
                Id = new Guid(i + 1, 0, 0, new byte[8]),
                Text = string.Join(' ', Enumerable.Range(0, 6).Select(_ => words[rng.Next(words.Length)])),
                Category = categories[i % categories.Length],
                Rank = i - count / 2,               // negative and positive
                Weight = Math.Round((rng.NextDouble() - 0.5) * 100, 3),
                Done = i % 4 == 0,
                When = start.AddHours(i * 7),
                Tags = tags.Where((_, t) => (i >> t & 1) == 1).ToList(),
                Owner = i % 5 == 0 ? null : "user" + (i % 3),
                Embedding = Vectors.Random(rng, Note.Dimensions),
            });
        }
    }

    public SemanticSearchVectorStore Store { get; }

    public SemanticSearchCollection<Guid, Note> Collection { get; }

    public List<Note> Notes { get; } = [];

    public string Root => _dir.Path;

    public static async Task<NoteCollection> CreateAsync(int count = 60, int seed = 7)
    {
        var c = new NoteCollection(count, seed);
        await c.Collection.EnsureCollectionExistsAsync();
        await c.Collection.UpsertAsync(c.Notes);
        return c;
    }

    public async ValueTask DisposeAsync()
    {
        Store.Dispose();
        _dir.Dispose();
        await Task.CompletedTask;
    }
}
