using System.Globalization;

namespace ScaleBench;

/// <summary><c>--name value</c> options and the positional arguments between them.</summary>
internal sealed class Args
{
    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);

    public Args(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                if (i + 1 >= args.Length)
                {
                    throw new ArgumentException($"option {args[i]} needs a value");
                }
                _options[args[i][2..]] = args[++i];
            }
            else
            {
                Positional.Add(args[i]);
            }
        }
    }

    public List<string> Positional { get; } = [];

    public string Get(string name) => _options.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");

    public string? Find(string name) => _options.GetValueOrDefault(name);

    public int Int(string name, int? fallback = null) =>
        _options.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback ?? throw new ArgumentException($"--{name} is required");

    public double Double(string name, double fallback) =>
        _options.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
