using System.IO.Compression;
using System.Text;
using SemanticSearch.Extraction;

namespace SemanticSearch.Tests.Extraction;

public sealed class ExtractorTests
{
    private readonly DocumentExtractor _extractor = new();

    private ExtractedText ExtractSample(string relative) =>
        _extractor.Extract(File.ReadAllBytes(Path.Combine(RepoPaths.SampleDocs, relative)), relative);

    [Fact]
    public void Extract_Pdf_ReturnsPageTextAndInfoTitle()
    {
        var result = ExtractSample("bicycle-maintenance.pdf");
        Assert.Equal("Basic Bicycle Maintenance", result.Title);
        Assert.Contains("Replace the brake pads when the grooves in the rubber are worn away", result.Text);
        Assert.Contains("chain oil", result.Text);
    }

    [Fact]
    public void Extract_Docx_ReturnsParagraphsAndTitle()
    {
        var result = ExtractSample("team-handbook.docx");
        Assert.Equal("Team Handbook: Working Hours and Leave", result.Title);
        Assert.Contains("Parental leave is sixteen weeks at full pay", result.Text);
        Assert.Contains("\n\n", result.Text);
    }

    [Fact]
    public void Extract_Html_DropsScriptsStylesAndUsesTitleElement()
    {
        var result = ExtractSample("tide-pools.html");
        Assert.Equal("Exploring Rocky Tide Pools", result.Title);
        Assert.Contains("sea anemones, hermit crabs, starfish", result.Text);
        Assert.Contains("Check the tide table", result.Text);
        Assert.DoesNotContain("console.log", result.Text);
        Assert.DoesNotContain("font-family", result.Text);
    }

    [Fact]
    public void Extract_Markdown_TitleIsFirstHeading()
    {
        var result = ExtractSample("solar-eclipse.md");
        Assert.Equal("Watching a Total Solar Eclipse", result.Title);
        Assert.Contains("certified eclipse glasses", result.Text);
    }

    [Fact]
    public void Extract_Json_FlattensKeysAndValuesAndUsesTitleField()
    {
        var result = ExtractSample("coffee-brewing.json");
        Assert.Equal("Coffee Brewing Ratios", result.Title);
        Assert.Contains("methods.name: french press", result.Text);
        Assert.DoesNotContain("{", result.Text);
    }

    [Fact]
    public void Extract_InvalidJson_FallsBackToPlainText()
    {
        var result = _extractor.Extract(Encoding.UTF8.GetBytes("{ \"a\": broken"), "x.json");
        Assert.Equal("{ \"a\": broken", result.Text);
    }

    [Fact]
    public void Extract_TextWithHeadingLine_UsesItAsTitle()
    {
        Assert.Equal("How Honeybee Colonies Work", ExtractSample("honeybees.txt").Title);
        Assert.Equal("notes", _extractor.Extract(Encoding.UTF8.GetBytes("a first line that runs straight\ninto the second"), "notes.txt").Title);
    }

    [Fact]
    public void Extract_Html_DropsNavigation()
    {
        Assert.DoesNotContain("Home", ExtractSample("tide-pools.html").Text);
    }

    [Fact]
    public void Extract_Csv_IsText()
    {
        var result = ExtractSample("city-populations.csv");
        Assert.Contains("São Paulo,Brazil", result.Text);
        Assert.Equal("city-populations", result.Title);
    }

    [Fact]
    public void Extract_CorruptPdf_ThrowsExtractionExceptionNamingPdf()
    {
        var pdf = File.ReadAllBytes(Path.Combine(RepoPaths.SampleDocs, "bicycle-maintenance.pdf"));
        var truncated = pdf[..(pdf.Length / 3)];
        var e = Assert.Throws<ExtractionException>(() => _extractor.Extract(truncated, "broken.pdf"));
        Assert.Contains("PDF", e.Message);

        var garbage = new byte[2048];
        new Random(1).NextBytes(garbage);
        Assert.Throws<ExtractionException>(() => _extractor.Extract(garbage, "noise.pdf"));
    }

    [Fact]
    public void Extract_BinaryWithTxtName_IsRefusedAsBinary()
    {
        var binary = new byte[4096];
        new Random(2).NextBytes(binary);
        binary[0] = 0x7F;
        binary[1] = (byte)'E';
        binary[10] = 0;
        var e = Assert.Throws<ExtractionException>(() => _extractor.Extract(binary, "program.txt"));
        Assert.Contains("binary", e.Message);
    }

    [Fact]
    public void Extract_Utf16WithBom_IsDecoded()
    {
        var bytes = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("Grüße aus Köln — ünïcödé")).ToArray();
        Assert.Equal("Grüße aus Köln — ünïcödé", _extractor.Extract(bytes, "u16.txt").Text);
    }

    [Fact]
    public void Extract_InvalidUtf8_IsDecodedAsWindows1252WithoutReplacementCharacters()
    {
        var bytes = Encoding.UTF8.GetBytes("before ").Concat(new byte[] { 0xC3, 0x28, 0xFF }).Concat(Encoding.UTF8.GetBytes(" after")).ToArray();
        var result = _extractor.Extract(bytes, "bad.txt");
        Assert.Equal("before \u00c3(\u00ff after", result.Text);
        Assert.True(result.Encoding!.IsFallback);
    }

    [Fact]
    public void Extract_ZipBombNamedDocx_IsRefusedBeforeInflating()
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            var entry = zip.CreateEntry("word/document.xml", CompressionLevel.SmallestSize);
            using var s = entry.Open();
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 20; i++)
            {
                s.Write(zeros);
            }
        }
        var e = Assert.Throws<ExtractionException>(() => _extractor.Extract(ms.ToArray(), "bomb.docx"));
        Assert.Contains("zip bomb", e.Message);
    }

    [Fact]
    public void Extract_NotAZipNamedDocx_ThrowsCorruptDocx()
    {
        var e = Assert.Throws<ExtractionException>(() => _extractor.Extract(Encoding.UTF8.GetBytes("plain text, not a package"), "fake.docx"));
        Assert.Contains("DOCX", e.Message);
    }

    [Fact]
    public void Extract_DeeplyNestedHtml_DoesNotOverflowTheStack()
    {
        var depth = 20_000;
        var html = string.Concat(Enumerable.Repeat("<div>", depth)) + "deep words" + string.Concat(Enumerable.Repeat("</div>", depth));
        var result = _extractor.Extract(Encoding.UTF8.GetBytes(html), "deep.html");
        Assert.Contains("deep words", result.Text);
    }

    [Theory]
    [InlineData("a.exe", false)]
    [InlineData("a.PDF", true)]
    [InlineData("notes.Md", true)]
    [InlineData("archive.zip", false)]
    [InlineData("page.htm", true)]
    public void Supports_ByExtension_CaseInsensitive(string name, bool expected) => Assert.Equal(expected, _extractor.Supports(name));
}
