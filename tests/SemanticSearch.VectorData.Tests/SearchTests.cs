using Microsoft.Extensions.VectorData;

namespace SemanticSearch.VectorData.Tests;

/// <summary>Vector search and hybrid search, with the behaviour the abstraction's conformance suite checks.</summary>
public sealed class SearchTests
{
    [Fact]
    public async Task VectorSearch_RanksAsBruteForceCosine_WithScoresAndSkip()
    {
        await using var c = await NoteCollection.CreateAsync(count: 80);
        var query = Vectors.Random(new Random(3), Note.Dimensions);
        var byCosine = c.Notes.Select(n => (n.Id, Score: BruteForce.Cosine(query, n.Embedding.Span))).OrderByDescending(x => x.Score).ToList();

        var top = await c.Collection.SearchAsync(query, 10).ToListAsync();
        Assert.Equal(byCosine.Take(10).Select(x => x.Id), top.Select(h => h.Record.Id));
        for (var i = 0; i < top.Count; i++)
        {
            Assert.Equal(byCosine[i].Score, top[i].Score!.Value, 4);
        }
        var skipped = await c.Collection.SearchAsync(query, 5, new() { Skip = 10 }).ToListAsync();
        Assert.Equal(byCosine.Skip(10).Take(5).Select(x => x.Id), skipped.Select(h => h.Record.Id));
    }

    [Fact]
    public async Task VectorSearch_ScoreThreshold_DropsFartherRecords()
    {
        await using var c = await NoteCollection.CreateAsync(count: 40);
        var query = Vectors.Random(new Random(5), Note.Dimensions);
        var expected = c.Notes.Where(n => BruteForce.Cosine(query, n.Embedding.Span) >= 0.3).Select(n => n.Id).ToHashSet();
        var got = await c.Collection.SearchAsync(query, 40, new() { ScoreThreshold = 0.3 }).ToListAsync();
        Assert.Equal(expected, got.Select(h => h.Record.Id).ToHashSet());
    }

    [Fact]
    public async Task VectorSearch_ByText_WithoutAModel_SaysWhatIsMissing()
    {
        await using var c = await NoteCollection.CreateAsync(count: 3);
        // as the abstraction's own providers do when no generator is configured for a text search
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => c.Collection.SearchAsync("harbor", 3).ToListAsync().AsTask());
        Assert.Contains("EmbeddingGenerator", e.Message, StringComparison.Ordinal);
    }

    // Conformance: among records of equal vectors, the one whose text holds the keyword ranks first.
    [Fact]
    public async Task Hybrid_EqualVectors_TheKeywordMatchWins()
    {
        using var dir = new TempDir();
        using var store = new SemanticSearchVectorStore(dir.Path);
        var collection = store.GetCollection<Guid, Note>("hybrid");
        var v = new float[] { 1, 2, 3, 4, 5, 6, 7, 8 };
        var notes = new[] { "apples and pears", "kiwi and mango", "plums and figs" }
            .Select(t => new Note { Id = Guid.NewGuid(), Text = t, Embedding = v }).ToList();
        await collection.UpsertAsync(notes);
        foreach (var (word, winner) in new[] { ("mango", 1), ("figs", 2), ("apples", 0) })
        {
            var hits = await collection.HybridSearchAsync(v, [word], 3).ToListAsync();
            Assert.Equal(3, hits.Count);
            Assert.Equal(notes[winner].Id, hits[0].Record.Id);
        }
    }

    // Conformance: the more of the keywords a record holds, the higher it ranks (vectors equal).
    [Fact]
    public async Task Hybrid_MoreMatchedKeywords_RankHigher()
    {
        using var dir = new TempDir();
        using var store = new SemanticSearchVectorStore(dir.Path);
        var collection = store.GetCollection<Guid, Note>("hybrid");
        var v = new float[] { 1, 0, 0, 0, 0, 0, 0, 1 };
        var texts = new[] { "lion", "lion tiger", "lion tiger bear", "owl" };
        var notes = texts.Select(t => new Note { Id = Guid.NewGuid(), Text = t, Embedding = v }).ToList();
        await collection.UpsertAsync(notes);
        var hits = await collection.HybridSearchAsync(v, ["lion", "tiger", "bear"], 4).ToListAsync();
        Assert.Equal([notes[2].Id, notes[1].Id, notes[0].Id, notes[3].Id], hits.Select(h => h.Record.Id));
    }

    // Conformance: a filter restricts hybrid results; top and Skip page them.
    [Fact]
    public async Task Hybrid_FilterTopAndSkip_RestrictAndPage()
    {
        await using var c = await NoteCollection.CreateAsync(count: 60);
        var query = Vectors.Random(new Random(11), Note.Dimensions);
        var all = await c.Collection.HybridSearchAsync(query, ["lantern"], 60, new() { Filter = n => n.Category == "beta" }).ToListAsync();
        Assert.Equal(c.Notes.Count(n => n.Category == "beta"), all.Count);
        Assert.All(all, h => Assert.Equal("beta", h.Record.Category));
        // BM25's matches and the nearest vectors both reach the top of the fused ranking
        var withWord = c.Notes.Where(n => n.Category == "beta" && n.Text.Contains("lantern", StringComparison.Ordinal)).Select(n => n.Id).ToHashSet();
        Assert.Contains(all[0].Record.Id, withWord.Append(c.Notes.Where(n => n.Category == "beta").MaxBy(n => BruteForce.Cosine(query, n.Embedding.Span))!.Id));
        var page = await c.Collection.HybridSearchAsync(query, ["lantern"], 4, new() { Filter = n => n.Category == "beta", Skip = 3 }).ToListAsync();
        Assert.Equal(all.Skip(3).Take(4).Select(h => h.Record.Id), page.Select(h => h.Record.Id));
    }

    // Conformance: AdditionalProperty chooses the full-text field the keywords are matched in.
    [Fact]
    public async Task Hybrid_AdditionalProperty_SelectsTheTextField()
    {
        using var dir = new TempDir();
        using var store = new SemanticSearchVectorStore(dir.Path);
        var collection = store.GetCollection<int, TwoTexts>("two");
        var v = new float[] { 1, 1, 1, 1 };
        await collection.UpsertAsync([
            new TwoTexts { Id = 1, Title = "walrus", Body = "penguin", Vector = v },
            new TwoTexts { Id = 2, Title = "penguin", Body = "walrus", Vector = v },
            new TwoTexts { Id = 3, Title = "heron", Body = "heron", Vector = v },
        ]);
        var byTitle = await collection.HybridSearchAsync(v, ["walrus"], 3, new() { AdditionalProperty = r => r.Title }).ToListAsync();
        var byBody = await collection.HybridSearchAsync(v, ["walrus"], 3, new() { AdditionalProperty = r => r.Body }).ToListAsync();
        Assert.Equal(1, byTitle[0].Record.Id);
        Assert.Equal(2, byBody[0].Record.Id);
        Assert.Equal(3, byTitle.Count); // every record once, whichever field ranks
        Assert.Equal([1, 2, 3], byBody.Select(h => h.Record.Id).Order());
        // a vector search lists each record once too
        Assert.Equal([1, 2, 3], (await collection.SearchAsync(v, 10).ToListAsync()).Select(h => h.Record.Id).Order());
        var one = await collection.GetAsync(2);
        Assert.Equal(("penguin", "walrus"), (one!.Title, one.Body));
    }

    // Conformance: with several full-text fields and none chosen, hybrid search cannot guess.
    [Fact]
    public async Task Hybrid_SeveralTextFieldsNoneChosen_ThrowsInvalidOperation()
    {
        using var dir = new TempDir();
        using var store = new SemanticSearchVectorStore(dir.Path);
        var collection = store.GetCollection<int, TwoTexts>("two");
        await collection.UpsertAsync(new TwoTexts { Id = 1, Title = "a", Body = "b", Vector = [1, 0, 0, 0] });
        await Assert.ThrowsAsync<InvalidOperationException>(() => collection.HybridSearchAsync(new float[] { 1, 0, 0, 0 }, ["a"], 3).ToListAsync().AsTask());
    }

    [Fact]
    public async Task Hybrid_KeywordsAreWordsNotQuerySyntax()
    {
        using var dir = new TempDir();
        using var store = new SemanticSearchVectorStore(dir.Path);
        var collection = store.GetCollection<Guid, Note>("hybrid");
        var v = new float[] { 0, 1, 0, 1, 0, 1, 0, 1 };
        var notes = new[] { "otter", "beaver" }.Select(t => new Note { Id = Guid.NewGuid(), Text = t, Embedding = v }).ToList();
        await collection.UpsertAsync(notes);
        // "-otter" would exclude otters as query syntax; as a keyword it is the word otter
        var hits = await collection.HybridSearchAsync(v, ["-otter", "\"beaver"], 2).ToListAsync();
        Assert.Equal(2, hits.Count);
    }
}
