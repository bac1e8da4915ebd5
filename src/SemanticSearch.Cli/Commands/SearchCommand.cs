using System.CommandLine;
using SemanticSearch.Core;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;
using Spectre.Console;

namespace SemanticSearch.Cli.Commands;

/// <summary><c>semsearch search "&lt;query&gt;" --index &lt;name&gt; [-k 10] [--json]</c></summary>
internal static class SearchCommand
{
    public static Command Create()
    {
        var query = new Argument<string>("query") { Description = "What to search for, in plain words." };
        var index = CommonOptions.Index();
        var json = CommonOptions.Json();
        var k = new Option<int>("-k", "--top") { Description = "Number of results.", DefaultValueFactory = _ => 10 };
        var offset = new Option<int>("--offset") { Description = "Results to skip (paging).", DefaultValueFactory = _ => 0 };
        var mode = new Option<string>("--mode", "-m") { Description = "lexical, dense or hybrid.", DefaultValueFactory = _ => "lexical" };
        var perChunk = new Option<bool>("--per-chunk") { Description = "List matching chunks instead of one result per document." };
        var type = new Option<string[]>("--type") { Description = "Only files of these types (e.g. --type .pdf --type .md).", AllowMultipleArgumentsPerToken = true };
        var pathPrefix = new Option<string?>("--path-prefix") { Description = "Only files whose full path starts with this." };

        var cmd = new Command("search", "Search an index and print the best matches.") { query, index, json, k, offset, mode, perChunk, type, pathPrefix };
        cmd.SetAction(parse => CommonOptions.Run(parse, _ =>
        {
            var directory = IndexLocation.Resolve(parse.GetValue(index)!);
            using var semanticIndex = SemanticIndex.OpenReadOnly(directory);
            var types = parse.GetValue(type);
            var filter = types is { Length: > 0 } || parse.GetValue(pathPrefix) is not null
                ? new SearchFilter(parse.GetValue(pathPrefix), types is { Length: > 0 } ? types.Select(t => t.StartsWith('.') ? t : "." + t).ToList() : null)
                : null;
            var request = new SearchRequest(parse.GetValue(query)!, parse.GetValue(k), parse.GetValue(offset), ParseMode(parse.GetValue(mode)!), filter, parse.GetValue(perChunk));
            var response = new Searcher(semanticIndex).Search(request);

            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new
                {
                    hits = response.Hits.Select(h => new { h.DocId, h.ChunkId, h.Path, h.Title, h.Score, h.Text, lexical = h.Lexical, dense = h.Dense }),
                    mode = response.Mode,
                    tookMs = Math.Round(response.TookMs, 3),
                });
                return ExitCodes.Ok;
            }
            if (response.Hits.Count == 0)
            {
                Console.WriteLine("no results");
                return ExitCodes.Ok;
            }
            var rank = request.Offset;
            foreach (var h in response.Hits)
            {
                rank++;
                AnsiConsole.MarkupLine($"[bold]{rank,2}.[/] [green]{h.Score:F3}[/]  [bold]{Markup.Escape(h.Title)}[/]");
                AnsiConsole.MarkupLine($"    [blue]{Markup.Escape(h.Path.Length > 0 ? h.Path : h.DocId)}[/]");
                AnsiConsole.MarkupLine($"    {Markup.Escape(h.Snippet)}");
            }
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    internal static SearchMode ParseMode(string value) => value.ToLowerInvariant() switch
    {
        "lexical" => SearchMode.Lexical,
        "dense" => SearchMode.Dense,
        "hybrid" => SearchMode.Hybrid,
        _ => throw new InvalidSettingException("--mode", $"unknown mode '{value}' (use lexical, dense or hybrid)."),
    };
}
