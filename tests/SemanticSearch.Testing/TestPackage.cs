using System.IO.Compression;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;
using System.Text;
using SemanticSearch.Models;

namespace SemanticSearch.Testing;

/// <summary>
/// Builds NuGet packages shaped like the SentenceTransformers model packages: a resource-only assembly (written with
/// System.Reflection.Metadata's PE builder) whose manifest resources are a model's files, zipped with a nuspec.
/// </summary>
public static class TestPackage
{
    public const string Version = "1.2.3";

    /// <summary>A resource-only .NET assembly named <paramref name="name"/> carrying <paramref name="resources"/>.</summary>
    public static byte[] Assembly(string name, IReadOnlyList<(string Name, byte[] Data)> resources)
    {
        var metadata = new MetadataBuilder();
        metadata.AddModule(0, metadata.GetOrAddString(name + ".dll"), metadata.GetOrAddGuid(Guid.NewGuid()), default, default);
        metadata.AddAssembly(metadata.GetOrAddString(name), new Version(1, 0, 0, 0), default, default, default, AssemblyHashAlgorithm.Sha1);
        metadata.AddTypeDefinition(default, default, metadata.GetOrAddString("<Module>"), default,
            MetadataTokens.FieldDefinitionHandle(1), MetadataTokens.MethodDefinitionHandle(1));
        var blob = new BlobBuilder();
        foreach (var (resourceName, data) in resources)
        {
            metadata.AddManifestResource(ManifestResourceAttributes.Public, metadata.GetOrAddString(resourceName), default, (uint)blob.Count);
            blob.WriteInt32(data.Length);
            blob.WriteBytes(data);
            blob.Align(8);
        }

        var pe = new ManagedPEBuilder(PEHeaderBuilder.CreateLibraryHeader(), new MetadataRootBuilder(metadata), new BlobBuilder(), managedResources: blob);
        var output = new BlobBuilder();
        pe.Serialize(output);
        return output.ToArray();
    }

    /// <summary>A .nupkg holding a nuspec and <paramref name="assembly"/> at <c>lib/netstandard2.1/{assemblyName}.dll</c>.</summary>
    public static byte[] Nupkg(string id, string assemblyName, byte[] assembly)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, $"{id}.nuspec", Encoding.UTF8.GetBytes(
                $"<?xml version=\"1.0\"?><package xmlns=\"http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd\"><metadata><id>{id}</id><version>{Version}</version><authors>tests</authors><description>test model package</description></metadata></package>"));
            Write(zip, $"lib/netstandard2.1/{assemblyName}.dll", assembly);
        }
        return memory.ToArray();
    }

    /// <summary>
    /// A package carrying the model directory <paramref name="modelDirectory"/> (its model.onnx, and its vocab.txt with
    /// CRLF line ends as the real packages ship it), and the profile that pins it.
    /// </summary>
    public static (byte[] Nupkg, ModelProfile Profile) ForModel(string id, string modelDirectory, bool includeVocab = true)
    {
        var onnx = File.ReadAllBytes(Path.Combine(modelDirectory, "model.onnx"));
        var vocab = Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(modelDirectory, "vocab.txt")).Replace("\n", "\r\n", StringComparison.Ordinal));
        var resources = new List<(string, byte[])> { ($"{id}.Resources.model.onnx", onnx) };
        if (includeVocab)
        {
            resources.Add(($"{id}.Resources.vocab.txt", vocab));
        }

        var nupkg = Nupkg(id, id, Assembly(id, resources));
        var profile = new ModelProfile
        {
            Id = "nuget-test",
            Dimensions = 32,
            Pooling = PoolingMode.Mean,
            MaxTokens = 128,
            Source = new NuGetSource(id, Version, Convert.ToBase64String(SHA512.HashData(nupkg)), nupkg.Length, $"lib/netstandard2.1/{id}.dll",
                new NuGetResource($"{id}.Resources.model.onnx", Convert.ToHexStringLower(SHA256.HashData(onnx))),
                new NuGetResource($"{id}.Resources.vocab.txt", Convert.ToHexStringLower(SHA256.HashData(vocab)))),
        };
        return (nupkg, profile);
    }

    private static void Write(ZipArchive zip, string name, byte[] content)
    {
        using var stream = zip.CreateEntry(name, CompressionLevel.Fastest).Open();
        stream.Write(content);
    }
}
