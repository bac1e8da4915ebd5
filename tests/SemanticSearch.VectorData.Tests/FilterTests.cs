using System.Linq.Expressions;

namespace SemanticSearch.VectorData.Tests;

/// <summary>
/// Every filter the abstraction allows, run by the engine (Lucene terms and ranges) and, as the reference, by LINQ to
/// objects over the same records: the two must select the same records.
/// </summary>
public sealed class FilterTests
{
    public static TheoryData<string> Filters() => [.. Cases.Keys];

    private static readonly DateTimeOffset Mid = new(2026, 1, 8, 0, 0, 0, TimeSpan.Zero);

    private static readonly Dictionary<string, Expression<Func<Note, bool>>> Cases = new()
    {
        ["string =="] = n => n.Category == "beta",
        ["string !="] = n => n.Category != "beta",
        ["constant on the left"] = n => "gamma" == n.Category,
        ["int <"] = n => n.Rank < -3,
        ["int <="] = n => n.Rank <= 0,
        ["int >"] = n => n.Rank > 10,
        ["int >= and <"] = n => n.Rank >= -5 && n.Rank < 5,
        ["double range across zero"] = n => n.Weight > -12.5 && n.Weight <= 20,
        ["double <"] = n => n.Weight < -30,
        ["date >"] = n => n.When > Mid,
        ["date <="] = n => n.When <= Mid,
        ["bool alone"] = n => n.Done,
        ["bool negated"] = n => !n.Done,
        ["bool =="] = n => n.Done == false,
        ["or"] = n => n.Category == "alpha" || n.Rank > 20,
        ["not of and"] = n => !(n.Category == "alpha" && n.Done),
        ["list contains"] = n => n.Tags.Contains("green"),
        ["list contains and not"] = n => n.Tags.Contains("red") && !n.Tags.Contains("blue"),
        ["any of constants"] = n => new[] { "alpha", "gamma" }.Contains(n.Category),
        ["null"] = n => n.Owner == null,
        ["not null"] = n => n.Owner != null,
        ["nested"] = n => (n.Category == "beta" || n.Done) && (n.Weight >= 0 || n.Tags.Contains("cyan")),
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task GetByFilter_SelectsWhatLinqToObjectsSelects(string name)
    {
        await using var c = await NoteCollection.CreateAsync();
        var filter = Cases[name];
        var expected = c.Notes.Where(filter.Compile()).Select(n => n.Id).Order().ToList();
        Assert.NotEmpty(expected); // every case selects something and leaves something out
        Assert.NotEqual(c.Notes.Count, expected.Count);
        var got = (await c.Collection.GetAsync(filter, top: 1000).ToListAsync()).Select(n => n.Id).Order().ToList();
        Assert.Equal(expected, got);
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task VectorSearch_WithFilter_RanksOnlyTheMatchingRecordsByCosine(string name)
    {
        await using var c = await NoteCollection.CreateAsync();
        var filter = Cases[name];
        var query = Vectors.Random(new Random(99), Note.Dimensions);
        var expected = c.Notes.Where(filter.Compile())
            .OrderByDescending(n => BruteForce.Cosine(query, n.Embedding.Span)).Take(5).Select(n => n.Id).ToList();
        var got = await c.Collection.SearchAsync(query, 5, new() { Filter = filter }).ToListAsync();
        Assert.Equal(expected, got.Select(h => h.Record.Id));
    }

    [Fact]
    public async Task Filter_OnAFullTextOnlyProperty_IsRefusedNamingIt()
    {
        await using var c = await NoteCollection.CreateAsync(count: 3);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => c.Collection.GetAsync(n => n.Text == "x", 10).ToListAsync().AsTask());
        Assert.Contains("Text", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Filter_TheEngineCannotRun_IsRefusedNotIgnored()
    {
        await using var c = await NoteCollection.CreateAsync(count: 3);
        await Assert.ThrowsAsync<NotSupportedException>(() => c.Collection.GetAsync(n => n.Category.StartsWith('a'), 10).ToListAsync().AsTask());
        await Assert.ThrowsAsync<NotSupportedException>(() => c.Collection.GetAsync(n => n.Rank + 1 == 3, 10).ToListAsync().AsTask());
    }

    [Fact]
    public async Task GetByFilter_TopSkipAndOrderBy_PageLikeLinq()
    {
        await using var c = await NoteCollection.CreateAsync();
        Expression<Func<Note, bool>> filter = n => n.Rank > -20;
        var expected = c.Notes.Where(filter.Compile()).OrderByDescending(n => n.Weight).Skip(4).Take(7).Select(n => n.Id).ToList();
        var got = await c.Collection.GetAsync(filter, 7, new() { Skip = 4, OrderBy = o => o.Descending(n => n.Weight) }).ToListAsync();
        Assert.Equal(expected, got.Select(n => n.Id));
    }
}
