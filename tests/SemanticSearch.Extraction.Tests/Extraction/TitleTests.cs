using System.Text;
using SemanticSearch.Extraction;

namespace SemanticSearch.Tests.Extraction;

/// <summary>reStructuredText titles: directives, labels and comments are not titles; adorned section titles are.</summary>
public sealed class TitleTests
{
    private readonly DocumentExtractor _extractor = new();

    private string TitleOf(string text, string name) => _extractor.Extract(Encoding.UTF8.GetBytes(text), name).Title;

    [Fact]
    public void Extract_RestLabelBeforeUnderlinedTitle_TitleIsTheSectionTitle()
    {
        var text = ".. _pkgs:\n\nPackage management\n==================\n\nPackages are installed with apt.\n";
        Assert.Equal("Package management", TitleOf(text, "pkgs.txt"));
    }

    [Fact]
    public void Extract_RestOverlinedTitleAfterComment_TitleIsTheSectionTitle()
    {
        var text = ".. This file is generated; do not edit.\n   Run make docs instead.\n\n=============\n The Handbook\n=============\n\nIntro.\n";
        Assert.Equal("The Handbook", TitleOf(text, "handbook.rst"));
    }

    [Fact]
    public void Extract_RestDirectivesOnly_TitleIsTheFileName()
    {
        var text = ".. _top:\n\n.. contents::\n   :depth: 2\n\nplain paragraph text that runs on and on\nand has no heading\n";
        Assert.Equal("directives", TitleOf(text, "directives.rst"));
    }

    [Fact]
    public void Extract_RestTitleAfterIntroParagraph_RstFindsTheFirstSectionTitle()
    {
        var text = ".. _intro:\n\nSome words before the first section.\n\nInstalling\n----------\n\nRun it.\n";
        Assert.Equal("Installing", TitleOf(text, "intro.rst"));
    }

    [Fact]
    public void Extract_PlainTextHeadingLine_StillTheTitle()
    {
        Assert.Equal("Meeting notes", TitleOf("Meeting notes\n\nWe met.\n", "notes.txt"));
    }

    [Fact]
    public void Extract_PlainTextLabelLine_IsNeverTheTitle()
    {
        Assert.Equal("labels", TitleOf(".. _pkgs:\n\nplain words with no heading at all, long enough to be a paragraph and not a title line because it runs past the limit of one hundred and twenty characters\n", "labels.txt"));
    }
}
