using System.Text;
using SemanticSearch.Extraction;

namespace SemanticSearch.Tests.Extraction;

/// <summary>Encoding detection: a byte-order mark, else strict UTF-8, else Windows-1252 — and the choice reported.</summary>
public sealed class TextDecodingTests
{
    private readonly DocumentExtractor _extractor = new();

    private static byte[] Latin1(string s) => Encoding.Latin1.GetBytes(s);

    [Fact]
    public void Extract_Latin1Text_DecodesAccentsAndReportsTheFallback()
    {
        var result = _extractor.Extract(Latin1("Caf\u00e9 menu: cr\u00e8me br\u00fbl\u00e9e, na\u00efve sole"), "menu.txt");
        Assert.Contains("Caf\u00e9 menu", result.Text);
        Assert.Contains("cr\u00e8me br\u00fbl\u00e9e", result.Text);
        Assert.DoesNotContain('\uFFFD', result.Text);
        Assert.NotNull(result.Encoding);
        Assert.Equal("windows-1252", result.Encoding!.Name);
        Assert.True(result.Encoding.IsFallback);
    }

    [Fact]
    public void Extract_Windows1252PunctuationBytes_BecomeTheirCharacters()
    {
        // 0x80 euro, 0x93/0x94 curly quotes, 0x96 en dash: not Latin-1 control codes
        byte[] bytes = [.. Encoding.ASCII.GetBytes("price "), 0x80, (byte)'5', (byte)' ', 0x93, (byte)'q', 0x94, (byte)' ', 0x96, (byte)' ', (byte)'x'];
        var result = _extractor.Extract(bytes, "price.md");
        Assert.Equal("price \u20ac5 \u201cq\u201d \u2013 x", result.Text);
        Assert.True(result.Encoding!.IsFallback);
    }

    [Fact]
    public void Extract_ValidUtf8WithoutBom_IsUtf8AndNotAFallback()
    {
        var result = _extractor.Extract(Encoding.UTF8.GetBytes("Caf\u00e9 \u65e5\u672c"), "a.txt");
        Assert.Equal("Caf\u00e9 \u65e5\u672c", result.Text);
        Assert.Equal(new TextEncodingChoice("utf-8", "valid"), result.Encoding);
        Assert.False(result.Encoding!.IsFallback);
    }

    [Theory]
    [InlineData("utf-8")]
    [InlineData("utf-16le")]
    [InlineData("utf-16be")]
    public void Extract_ByteOrderMark_NamesTheEncodingFromTheMark(string name)
    {
        var encoding = name switch
        {
            "utf-8" => (Encoding)new UTF8Encoding(true),
            "utf-16le" => new UnicodeEncoding(false, true),
            _ => new UnicodeEncoding(true, true),
        };
        byte[] bytes = [.. encoding.GetPreamble(), .. encoding.GetBytes("Caf\u00e9 menu")];
        var result = _extractor.Extract(bytes, "bom.txt");
        Assert.Equal("Caf\u00e9 menu", result.Text);
        Assert.Equal(new TextEncodingChoice(name, "bom"), result.Encoding);
    }

    [Fact]
    public void Extract_Latin1Html_IsDecodedByTheFallbackToo()
    {
        var result = _extractor.Extract(Latin1("<html><head><title>Caf\u00e9</title></head><body><p>cr\u00e8me</p></body></html>"), "p.html");
        Assert.Equal("Caf\u00e9", result.Title);
        Assert.Equal("cr\u00e8me", result.Text);
        Assert.True(result.Encoding!.IsFallback);
    }

    [Fact]
    public void Extract_Pdf_HasNoTextEncoding()
    {
        var result = _extractor.Extract(HostileCorpus.Pdf("plain words"), "p.pdf");
        Assert.Null(result.Encoding);
    }
}
