using SemanticSearch.Core.Text;

namespace SemanticSearch.Tests.Text;

/// <summary>Locating offsets in an outline, against positions worked out by hand.</summary>
public sealed class DocumentOutlineTests
{
    // h1 A @0, h2 B @10, h3 C @20 (no anchor), h2 D @30, h1 E @40; pages 1 @0, 2 @25, 5 @35
    private static readonly DocumentOutline Outline = new(
        [new PageStart(0, 1), new PageStart(25, 2), new PageStart(35, 5)],
        [new SectionHeading(0, 1, "A", "a"), new SectionHeading(10, 2, "B", "b"), new SectionHeading(20, 3, "C", null),
         new SectionHeading(30, 2, "D", "d"), new SectionHeading(40, 1, "E", null)]);

    [Theory]
    [InlineData(0, 1, "A", "a")]
    [InlineData(9, 1, "A", "a")]
    [InlineData(10, 1, "A/B", "b")]
    [InlineData(24, 1, "A/B/C", "b")]
    [InlineData(25, 2, "A/B/C", "b")]
    [InlineData(31, 2, "A/D", "d")]
    [InlineData(36, 5, "A/D", "d")]
    [InlineData(1000, 5, "E", null)]
    public void Locate_GivesPageTrailAndNearestAnchor(int offset, int page, string trail, string? anchor)
    {
        var at = Outline.Locate(offset);
        Assert.Equal(page, at.Page);
        Assert.Equal(trail, string.Join('/', at.Sections.Select(s => s.Text)));
        Assert.Equal(anchor, at.Anchor);
    }

    [Fact]
    public void Locate_BeforeTheFirstHeading_HasNoSections()
    {
        var outline = new DocumentOutline([], [new SectionHeading(50, 2, "Later", "later")]);
        var at = outline.Locate(10);
        Assert.Empty(at.Sections);
        Assert.Null(at.Page);
        Assert.Null(at.Anchor);
    }

    [Fact]
    public void Constructor_RefusesUnorderedOrInvalidEntries()
    {
        Assert.Throws<ArgumentException>(() => new DocumentOutline([new PageStart(10, 1), new PageStart(5, 2)], []));
        Assert.Throws<ArgumentException>(() => new DocumentOutline([new PageStart(0, 2), new PageStart(5, 2)], []));
        Assert.Throws<ArgumentException>(() => new DocumentOutline([new PageStart(0, 0)], []));
        Assert.Throws<ArgumentException>(() => new DocumentOutline([], [new SectionHeading(5, 1, "x", null), new SectionHeading(4, 1, "y", null)]));
        Assert.Throws<ArgumentException>(() => new DocumentOutline([], [new SectionHeading(0, 7, "x", null)]));
        Assert.True(DocumentOutline.Empty.IsEmpty);
    }
}
