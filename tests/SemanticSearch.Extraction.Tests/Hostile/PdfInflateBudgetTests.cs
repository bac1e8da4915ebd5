using System.IO.Compression;
using System.Text;
using SemanticSearch.Extraction;

namespace SemanticSearch.Tests.Hostile;

public sealed class PdfInflateBudgetTests
{
    private static byte[] Zlib(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(data);
        }
        return ms.ToArray();
    }

    [Fact]
    public void InflatedBytes_ContentStreamUnderTheLimit_CountsItsExactLength()
    {
        var content = Encoding.ASCII.GetBytes("BT /F1 12 Tf 72 712 Td (counted) Tj ET\n" + new string(' ', 100_000));
        var pdf = HostileCorpus.FlatePdf(Zlib(content), image: null);
        Assert.Equal(content.Length, PdfInflateBudget.InflatedBytes(pdf, 1 << 20));
    }

    [Fact]
    public void InflatedBytes_ImageStream_IsNotCounted()
    {
        // Text extraction never decodes images, so a large image must not make a PDF look like a bomb.
        var content = Encoding.ASCII.GetBytes("BT /F1 12 Tf 72 712 Td (text) Tj ET\n");
        var pdf = HostileCorpus.FlatePdf(Zlib(content), image: Zlib(new byte[2_000_000]));
        Assert.Equal(content.Length, PdfInflateBudget.InflatedBytes(pdf, 1 << 20));
    }

    [Fact]
    public void InflatedBytes_OverTheLimit_StopsJustPastIt()
    {
        var pdf = HostileCorpus.FlatePdf(HostileCorpus.PdfBombContent(8 << 20), image: null);
        var counted = PdfInflateBudget.InflatedBytes(pdf, 1 << 20);
        Assert.InRange(counted, (1 << 20) + 1, (1 << 20) + 64 * 1024); // at most one read buffer past the limit
    }

    [Fact]
    public void Extract_HandWrittenFlatePdf_ReadsTheTextSoTheGuardLetsGoodFilesThrough()
    {
        var content = Encoding.ASCII.GetBytes("BT /F1 12 Tf 72 712 Td (guardpassesthis) Tj ET\n");
        var result = new PdfTextExtractor().Extract(HostileCorpus.FlatePdf(Zlib(content), image: Zlib(new byte[1000])), "ok.pdf");
        Assert.Contains("guardpassesthis", result.Text);
    }

    [Fact]
    public void Extract_PdfBomb_RefusedNamingTheBomb()
    {
        var pdf = HostileCorpus.FlatePdf(HostileCorpus.PdfBombContent(PdfTextExtractor.MaxInflatedBytes + (1 << 20)), image: null);
        var e = Assert.Throws<ExtractionException>(() => new PdfTextExtractor().Extract(pdf, "bomb.pdf"));
        Assert.Contains("decompression bomb", e.Message);
    }
}
