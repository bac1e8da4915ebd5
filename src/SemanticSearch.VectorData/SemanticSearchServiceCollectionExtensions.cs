using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.VectorData;
using SemanticSearch.Core;
using SemanticSearch.VectorData;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the SemanticSearch VectorData store.</summary>
public static class SemanticSearchServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="SemanticSearchVectorStore"/> (also as <see cref="VectorStore"/>) with options from
    /// <paramref name="configure"/>, validated when the host starts (errors name the setting: <c>SemanticSearch:IndexesRoot</c>, …).
    /// When no <see cref="SemanticSearchVectorStoreOptions.EmbeddingGenerator"/> is set, a registered
    /// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of strings is used.
    /// </summary>
    public static IServiceCollection AddSemanticSearch(this IServiceCollection services, Action<SemanticSearchVectorStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<SemanticSearchVectorStoreOptions>()
            .Configure(configure)
            .Validate(o => Check(o) is null, "SemanticSearch options are invalid")
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SemanticSearchVectorStoreOptions>, OptionsValidator>());
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<SemanticSearchVectorStoreOptions>>().Value;
            options.EmbeddingGenerator ??= sp.GetService<IEmbeddingGenerator<string, Embedding<float>>>();
            return new SemanticSearchVectorStore(options.IndexesRoot!, options);
        });
        services.TryAddSingleton<VectorStore>(sp => sp.GetRequiredService<SemanticSearchVectorStore>());
        return services;
    }

    /// <summary>As <see cref="AddSemanticSearch(IServiceCollection, Action{SemanticSearchVectorStoreOptions})"/> with the indexes root given.</summary>
    public static IServiceCollection AddSemanticSearch(this IServiceCollection services, string indexesRoot, Action<SemanticSearchVectorStoreOptions>? configure = null) =>
        services.AddSemanticSearch(o =>
        {
            o.IndexesRoot = indexesRoot;
            configure?.Invoke(o);
        });

    private static string? Check(SemanticSearchVectorStoreOptions o)
    {
        try
        {
            if (o.IndexesRoot is null)
            {
                SemanticSearchVectorStoreOptions.ValidateRoot(string.Empty);
            }
            o.Validate();
            return null;
        }
        catch (InvalidSettingException e)
        {
            return e.Message;
        }
    }

    // The failure names the setting (the default Validate message cannot).
    private sealed class OptionsValidator : IValidateOptions<SemanticSearchVectorStoreOptions>
    {
        public ValidateOptionsResult Validate(string? name, SemanticSearchVectorStoreOptions options) =>
            Check(options) is { } failure ? ValidateOptionsResult.Fail(failure) : ValidateOptionsResult.Success;
    }
}
