// Manifest resources of a .NET assembly, read as data with System.Reflection.Metadata (ECMA-335 §II.22.24, §II.24.2.4):
// the assembly is never loaded, so none of its code can run. An embedded resource is a ManifestResource row with no
// Implementation; its Offset points into the CLI header's Resources directory, where each resource is a 4-byte
// little-endian length followed by that many bytes. Invariant: a resource is only ever returned whole; a length that
// runs past the directory is reported as damage, never read short.
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;
using SemanticSearch.Core;

namespace SemanticSearch.Embeddings.Download;

/// <summary>Reads the embedded manifest resources of an assembly file without loading it.</summary>
public static class AssemblyResources
{
    /// <summary>The names of the embedded resources of the assembly at <paramref name="path"/>, in table order.</summary>
    public static IReadOnlyList<string> Names(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = OpenPe(stream, path);
        var reader = pe.GetMetadataReader();
        var names = new List<string>();
        foreach (var handle in reader.ManifestResources)
        {
            var resource = reader.GetManifestResource(handle);
            if (resource.Implementation.IsNil)
            {
                names.Add(reader.GetString(resource.Name));
            }
        }
        return names;
    }

    /// <summary>
    /// Copies the embedded resource <paramref name="name"/> of the assembly at <paramref name="path"/> to
    /// <paramref name="destination"/> and returns the SHA-256 of its bytes (lower-case hex).
    /// </summary>
    /// <exception cref="NotFoundException">The assembly has no embedded resource of that name.</exception>
    /// <exception cref="CorruptDataException">The file is not a .NET assembly, or the resource runs past its section.</exception>
    public static string CopyTo(string path, string name, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var stream = File.OpenRead(path);
        using var pe = OpenPe(stream, path);
        var reader = pe.GetMetadataReader();
        var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
        foreach (var handle in reader.ManifestResources)
        {
            var resource = reader.GetManifestResource(handle);
            if (!resource.Implementation.IsNil || reader.GetString(resource.Name) != name)
            {
                continue;
            }

            if (!pe.PEHeaders.TryGetDirectoryOffset(directory, out var directoryStart) || resource.Offset < 0 || resource.Offset > directory.Size - 4)
            {
                throw new CorruptDataException(path, $"resource {name} lies outside the assembly's resource directory");
            }

            var start = directoryStart + resource.Offset;
            stream.Position = start;
            Span<byte> lengthBytes = stackalloc byte[4];
            stream.ReadExactly(lengthBytes);
            var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
            if (length > directory.Size - 4 - resource.Offset || start + 4 + length > stream.Length)
            {
                throw new CorruptDataException(path, $"resource {name} claims {length} bytes, more than the assembly holds");
            }

            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 20];
            var left = (long)length;
            while (left > 0)
            {
                var n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (n == 0)
                {
                    throw new CorruptDataException(path, $"resource {name} ends early");
                }
                sha.AppendData(buffer, 0, n);
                destination.Write(buffer, 0, n);
                left -= n;
            }
            return Convert.ToHexStringLower(sha.GetHashAndReset());
        }

        throw new NotFoundException($"{path}: the assembly has no embedded resource '{name}' (it has: {string.Join(", ", Names(path))})");
    }

    private static PEReader OpenPe(Stream stream, string path)
    {
        var pe = new PEReader(stream, PEStreamOptions.LeaveOpen);
        try
        {
            if (!pe.HasMetadata || pe.PEHeaders.CorHeader is null)
            {
                throw new CorruptDataException(path, "not a .NET assembly (no CLI header)");
            }
            return pe;
        }
        catch (BadImageFormatException e)
        {
            pe.Dispose();
            throw new CorruptDataException(path, $"not a readable PE file ({e.Message})", e);
        }
        catch
        {
            pe.Dispose();
            throw;
        }
    }
}
