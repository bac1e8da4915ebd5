using System.CommandLine;
using System.Text.Json;
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Engine.Models;

namespace SemanticSearch.Cli.Commands;

/// <summary><c>semsearch embed --model &lt;id&gt; [--as query|passage] "&lt;text&gt;"...</c></summary>
internal static class EmbedCommand
{
    public static Command Create()
    {
        var texts = new Argument<string[]>("texts") { Description = "Texts to embed.", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string?>("--model") { Description = "A model id or directory (default: the default model)." };
        var role = new Option<string>("--as") { Description = "query or passage: which prefix the model applies.", DefaultValueFactory = _ => "query" };
        var cmd = new Command("embed", "Print one JSON object per text: {\"text\",\"vector\"} (for checking a model).") { texts, model, role };
        cmd.SetAction(parse => CommonOptions.Run(parse, ct =>
        {
            var textRole = parse.GetValue(role)!.ToLowerInvariant() switch
            {
                "query" => TextRole.Query,
                "passage" => TextRole.Passage,
                var r => throw new UsageException("--as", $"unknown role '{r}' (use query or passage)."),
            };
            using var encoder = ModelLoading.OpenEncoder(new ModelResolver(), parse.GetValue(model) ?? null, quiet: true, ct)
                ?? throw new UsageException("--model", "'none' has no vectors.");
            var input = parse.GetValue(texts)!;
            var output = new float[input.Length * encoder.Info.Dimensions];
            encoder.Encode(input, textRole, output);
            for (var i = 0; i < input.Length; i++)
            {
                var vector = output.AsSpan(i * encoder.Info.Dimensions, encoder.Info.Dimensions).ToArray();
                Console.WriteLine(JsonSerializer.Serialize(new { text = input[i], vector }));
            }
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
