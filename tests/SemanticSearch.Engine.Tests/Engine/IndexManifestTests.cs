using SemanticSearch.Core;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Storage;

namespace SemanticSearch.Tests.Engine;

public sealed class IndexManifestTests
{
    private static string NewIndex(TempDir dir)
    {
        using var index = SemanticIndex.OpenOrCreate(dir.Path, new IndexSettings());
        index.BeginBatch();
        index.Commit();
        return Path.Combine(dir.Path, IndexManifest.FileName);
    }

    [Fact]
    public void Read_AfterCommit_RoundTripsSettingsAndCounts()
    {
        using var dir = new TempDir();
        NewIndex(dir);
        var m = IndexManifest.Read(dir.Path);
        Assert.Equal(IndexManifest.CurrentFormatVersion, m.FormatVersion);
        Assert.Equal(new IndexSettings().Chunking, m.Chunking);
        Assert.Equal(0.9f, m.Lexical.K1);
        Assert.Equal(1, m.Generation);
        Assert.Matches("^[0-9a-f]{8}$", m.Checksum);
    }

    [Fact]
    public void Read_EditedContent_FailsChecksum()
    {
        using var dir = new TempDir();
        var path = NewIndex(dir);
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"k1\": 0.9", "\"k1\": 1.2", StringComparison.Ordinal));
        var e = Assert.Throws<CorruptDataException>(() => IndexManifest.Read(dir.Path));
        Assert.Contains("checksum", e.Message);
        Assert.Equal(path, e.Path);
    }

    [Fact]
    public void Read_FutureVersion_IsRefusedWithTheVersion()
    {
        using var dir = new TempDir();
        var path = NewIndex(dir);
        File.WriteAllText(path, File.ReadAllText(path).Replace($"\"formatVersion\": {IndexManifest.CurrentFormatVersion}", "\"formatVersion\": 99", StringComparison.Ordinal));
        Assert.Contains("99", Assert.Throws<CorruptDataException>(() => IndexManifest.Read(dir.Path)).Message);
    }

    [Fact]
    public void Read_Truncated_IsCorrupt()
    {
        using var dir = new TempDir();
        var path = NewIndex(dir);
        File.WriteAllText(path, File.ReadAllText(path)[..40]);
        Assert.Throws<CorruptDataException>(() => IndexManifest.Read(dir.Path));
    }

    [Fact]
    public void OpenReadOnly_NoIndex_SaysHowToCreateOne()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<NotFoundException>(() => SemanticIndex.OpenReadOnly(Path.Combine(dir.Path, "missing")));
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void Resolve_NameVersusPath()
    {
        Assert.Equal(Path.Combine(IndexLocation.Root, "docs"), IndexLocation.Resolve("docs"));
        Assert.Equal(Path.GetFullPath("./x/y"), IndexLocation.Resolve("./x/y"));
        Assert.Throws<InvalidSettingException>(() => IndexLocation.Resolve(" "));
    }
}
