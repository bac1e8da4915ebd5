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
        var query = new Argument<string?>("query")
        {
            Description = "What to search for: words, \"exact phrase\", +required, -excluded (anything else is plain text). With --vector-file: hybrid's BM25 text (leave it out for a dense search).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var vectorFile = new Option<string?>("--vector-file")
        {
            Description = "Search by this query vector instead of embedding the query: a JSON file holding one array of numbers, of the dimension of the index's vector space (one space; name it with --spaces when the index has several). Dense mode, or hybrid with a query for BM25.",
        };
        var index = CommonOptions.Index();
        var json = CommonOptions.Json();
        var k = new Option<int>("-k", "--top") { Description = "Number of results.", DefaultValueFactory = _ => 10 };
        var offset = new Option<int>("--offset") { Description = "Results to skip (paging).", DefaultValueFactory = _ => 0 };
        var mode = new Option<string?>("--mode", "-m") { Description = "hybrid, dense or lexical. Default: hybrid when the index has an embedding model, else lexical." };
        var model = new Option<string?>("--model") { Description = "Where to find the index's model when it is not in the model cache (a model directory)." };
        var rrfK = new Option<double?>("--rrf-k") { Description = "Hybrid: RRF rank constant (default from the index, usually 60)." };
        var weights = new Option<string?>("--weights")
        {
            Description = "Hybrid: lexical,dense weights, e.g. 1,0.5, or per retriever, e.g. lexical=1,arctic-embed-xs=1,all-MiniLM-L6-v2=0.5 (default from the index).",
        };
        var spaces = new Option<string?>("--spaces") { Description = "Dense and hybrid: only these vector spaces, comma-separated (default: every space of the index)." };
        var fusionMethod = new Option<string?>("--fusion") { Description = "Hybrid: rrf or convex (default from the index)." };
        var depth = new Option<int?>("--depth") { Description = "Hybrid: candidates taken from each retriever (default from the index)." };
        var perChunk = new Option<bool>("--per-chunk") { Description = "List matching chunks instead of one result per document." };
        var showDuplicates = new Option<bool>("--show-duplicates") { Description = "List documents with identical text separately (default: one result, naming the copies)." };
        var noFloor = new Option<bool>("--no-floor") { Description = "Hybrid: keep every fused candidate, also vector hits no closer than the index's unrelated documents (default: drop them)." };
        var type = new Option<string[]>("--type") { Description = "Only files of these types (e.g. --type .pdf --type .md).", AllowMultipleArgumentsPerToken = true };
        var pathPrefix = new Option<string?>("--path-prefix") { Description = "Only files whose full path, or id (the path relative to the indexed folder, e.g. guides/), starts with this." };
        var modifiedAfter = new Option<string?>("--modified-after") { Description = "Only files modified after this instant (ISO 8601, e.g. 2024-05-01 or 2024-05-01T10:00:00Z; UTC unless it names an offset)." };
        var modifiedBefore = new Option<string?>("--modified-before") { Description = "Only files modified before this instant (ISO 8601, as --modified-after)." };
        var meta = new Option<string[]>("--meta")
        {
            Description = "Only documents whose metadata has key=value; repeat a key to allow any of its values (--meta team=geo --meta team=sea).",
            AllowMultipleArgumentsPerToken = true,
        };
        var facets = new Option<bool>("--facets") { Description = "Count the hits by file type, top-level folder and source." };

        var cmd = new Command("search", "Search an index and print the best matches.") { query, vectorFile, index, json, k, offset, mode, model, spaces, perChunk, showDuplicates, noFloor, type, pathPrefix, modifiedAfter, modifiedBefore, meta, facets, fusionMethod, rrfK, weights, depth };
        cmd.Validators.Add(r =>
        {
            if (r.GetResult(query) is not { Tokens.Count: > 0 } && r.GetResult(vectorFile) is not { Implicit: false })
            {
                r.AddError("<query> is missing.");
            }
        });
        cmd.SetAction(parse => CommonOptions.Run(parse, ct =>
        {
            // The command line is checked whole before the index is touched: a refused value is a usage error.
            var explicitMode = parse.GetValue(mode) is { } m ? ParseMode(m) : (SearchMode?)null;
            var fusion = FusionFlags(parse.GetValue(fusionMethod), parse.GetValue(rrfK), parse.GetValue(weights), parse.GetValue(depth));
            var types = parse.GetValue(type);
            var after = Instant(parse.GetValue(modifiedAfter), "--modified-after");
            var before = Instant(parse.GetValue(modifiedBefore), "--modified-before");
            var metadata = MetadataFilter(parse.GetValue(meta));
            var filter = types is { Length: > 0 } || parse.GetValue(pathPrefix) is not null || after is not null || before is not null || metadata is not null
                ? new SearchFilter(parse.GetValue(pathPrefix), types is { Length: > 0 } ? types.Select(t => t.StartsWith('.') ? t : "." + t).ToList() : null,
                    after, null, before, metadata)
                : null;
            var spaceNames = parse.GetValue(spaces)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var queryVector = parse.GetValue(vectorFile) is { } vf ? ReadVectorFile(vf) : null;
            var queryText = parse.GetValue(query) ?? string.Empty;
            if (queryVector is not null)
            {
                // a vector alone is a dense search; with a query, hybrid (the query ranks BM25, the vector the dense side)
                explicitMode ??= queryText.Length == 0 ? SearchMode.Dense : SearchMode.Hybrid;
                if (explicitMode == SearchMode.Lexical)
                {
                    throw new UsageException("--vector-file", "is for dense and hybrid searches; a lexical search ranks text only.");
                }
                if (explicitMode == SearchMode.Dense && queryText.Length > 0)
                {
                    throw new UsageException("--vector-file", "a dense search by vector takes no query text (it would be ignored); leave the query out, or use --mode hybrid to rank it by BM25.");
                }
                if (explicitMode == SearchMode.Hybrid && string.IsNullOrWhiteSpace(queryText))
                {
                    throw new UsageException("--vector-file", "a hybrid search by vector needs a query for BM25; leave --mode out for a dense search by the vector alone.");
                }
            }
            var request = new SearchRequest(queryText, parse.GetValue(k), parse.GetValue(offset), explicitMode ?? SearchMode.Lexical, filter, parse.GetValue(perChunk), fusion, spaceNames)
            {
                QueryVector = queryVector is { } given ? (ReadOnlyMemory<float>?)given : null, // a null array would convert to an empty vector, not to none
                CollapseDuplicates = !parse.GetValue(showDuplicates),
                RelevanceFloor = !parse.GetValue(noFloor),
                Facets = parse.GetValue(facets),
            };
            Refuse(request);

            var directory = IndexLocation.Resolve(parse.GetValue(index)!);
            if (!Directory.Exists(directory))
            {
                throw new NotFoundException($"index not found: {directory}");
            }
            var searchMode = explicitMode ?? (ModelLoading.HasModel(directory) ? SearchMode.Hybrid : SearchMode.Lexical);
            request = request with { Mode = searchMode };
            using var semanticIndex = ModelLoading.OpenIndexForSearch(directory, searchMode != SearchMode.Lexical, parse.GetValue(model), ct);
            var response = new Searcher(semanticIndex).Search(request);

            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new
                {
                    hits = response.Hits.Select(h => new { h.DocId, h.ChunkId, h.Path, h.Title, h.Score, h.Text, h.Snippet, snippetHighlights = h.SnippetHighlights, titleHighlights = h.TitleHighlights, lexical = h.Lexical, dense = h.Dense, spaces = h.Spaces, alsoAt = h.AlsoAt, metadata = h.Metadata, location = h.Location }),
                    total = response.Total,
                    totalExact = response.TotalExact,
                    facets = response.Facets,
                    mode = response.Mode,
                    fusion = response.Fusion,
                    spaces = response.Spaces,
                    understood = response.Understood,
                    didYouMean = response.DidYouMean,
                    tookMs = Math.Round(response.TookMs, 3),
                });
                return ExitCodes.Ok;
            }
            if (response.DidYouMean is { } suggestion)
            {
                AnsiConsole.MarkupLine($"[yellow]did you mean: {Markup.Escape(suggestion)}[/] [grey](no match for the query as typed; showing these results)[/]");
            }
            if (response.Understood is { } u && (u.Required.Count > 0 || u.Excluded.Count > 0 || u.Notes.Count > 0))
            {
                AnsiConsole.MarkupLine($"[grey]query: {Markup.Escape(u.Description)}[/]");
            }
            if (response.Hits.Count == 0)
            {
                Console.WriteLine("no results");
                return ExitCodes.Ok;
            }
            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(TotalLine(response, request.Offset))}[/]");
            if (response.Facets is { } counted)
            {
                AnsiConsole.MarkupLine($"[grey]{Markup.Escape(FacetLine(counted))}[/]");
            }
            var rank = request.Offset;
            foreach (var h in response.Hits)
            {
                rank++;
                AnsiConsole.MarkupLine($"[bold]{rank,2}.[/] [green]{h.Score:F3}[/]  [bold]{Markup.Escape(h.Title)}[/]");
                AnsiConsole.MarkupLine($"    [blue]{Markup.Escape(h.Path.Length > 0 ? h.Path : h.DocId)}[/]{Where(h.Location)}");
                AnsiConsole.MarkupLine($"    {Emphasised(h.Snippet, h.SnippetHighlights)}");
                if (h.AlsoAt is { Count: > 0 } copies)
                {
                    AnsiConsole.MarkupLine($"    [grey]also at: {Markup.Escape(string.Join(", ", copies.Select(c => c.Path.Length > 0 ? c.Path : c.DocId)))}[/]");
                }
                if (response.Spaces is { Count: > 1 })
                {
                    var parts = response.Spaces.Select(name => $"{name} {Rank(h.Spaces?.GetValueOrDefault(name))}");
                    AnsiConsole.MarkupLine($"    [grey]{Markup.Escape(string.Join(" · ", (response.Mode == SearchMode.Hybrid ? [$"lexical {Rank(h.Lexical)}"] : Array.Empty<string>()).Concat(parts)))}[/]");
                }
                else if (response.Mode == SearchMode.Hybrid)
                {
                    AnsiConsole.MarkupLine($"    [grey]lexical {Rank(h.Lexical)} · dense {Rank(h.Dense)}[/]");
                }
            }
            if (response.Fusion is { } f)
            {
                var weightsText = response.Spaces is { Count: > 1 } names
                    ? string.Join(" / ", (response.Mode == SearchMode.Hybrid ? [$"lexical {f.LexicalWeight}"] : Array.Empty<string>()).Concat(names.Select(n => $"{n} {f.WeightOf(n)}")))
                    : $"lexical {f.LexicalWeight} / dense {f.DenseWeight}";
                AnsiConsole.MarkupLine($"[grey]fusion: {f.Method.ToString().ToLowerInvariant()}, k={f.K}, weights {Markup.Escape(weightsText)}[/]");
            }
            return ExitCodes.Ok;
        }));
        return cmd;
    }

    // The engine's own rule for a request (SearchRequest.Validate: an empty query, k, offset, spaces), said in the
    // command line's words: its fields are this command's argument and options.
    private static void Refuse(SearchRequest request)
    {
        try
        {
            request.Validate();
        }
        catch (InvalidSettingException e)
        {
            var option = e.Setting switch
            {
                "k" => "-k",
                "offset" => "--offset",
                "spaces" => "--spaces",
                "vector" => "--vector-file",
                var other => other,
            };
            throw UsageException.From(e, option);
        }
    }

    // --vector-file: a JSON array of finite numbers (checked here, so a bad file is a usage error naming the option).
    private static float[] ReadVectorFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new UsageException("--vector-file", Directory.Exists(path) ? $"not a file: {path}" : $"file not found: {path}");
        }
        try
        {
            using var stream = File.OpenRead(path);
            using var document = System.Text.Json.JsonDocument.Parse(stream);
            var root = document.RootElement;
            if (root.ValueKind != System.Text.Json.JsonValueKind.Array || root.GetArrayLength() == 0)
            {
                throw new UsageException("--vector-file", $"{path} must hold a non-empty JSON array of numbers.");
            }
            var v = new float[root.GetArrayLength()];
            var i = 0;
            foreach (var item in root.EnumerateArray())
            {
                if (item.ValueKind != System.Text.Json.JsonValueKind.Number || !float.IsFinite((float)item.GetDouble()))
                {
                    throw new UsageException("--vector-file", $"{path}: element {i} is not a finite number.");
                }
                v[i++] = (float)item.GetDouble();
            }
            return v;
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new UsageException("--vector-file", $"{path} is not valid JSON ({e.Message}).");
        }
    }

    // The query's words in bold (plain emphasis: redirected output gets the bare text), the rest escaped.
    private static string Emphasised(string text, IReadOnlyList<TextHighlight> spans)
    {
        var sb = new System.Text.StringBuilder();
        var last = 0;
        foreach (var s in spans.OrderBy(s => s.Start))
        {
            if (s.Start < last || s.Start + s.Length > text.Length)
            {
                continue;
            }
            sb.Append(Markup.Escape(text[last..s.Start])).Append("[bold]").Append(Markup.Escape(text.Substring(s.Start, s.Length))).Append("[/]");
            last = s.Start + s.Length;
        }
        return sb.Append(Markup.Escape(text[last..])).ToString();
    }

    /// <summary>"hits 1–10 of 42" (exact) or "hits 1–10 of at least 120" (a lower bound).</summary>
    internal static string TotalLine(SearchResponse response, int offset) =>
        $"hits {offset + 1}–{offset + response.Hits.Count} of {(response.TotalExact ? "" : "at least ")}{response.Total:N0}";

    /// <summary>"types: .md 7, .pdf 2 · folders: guides 6, (top) 3 · sources: /data/docs 9", each facet's five most frequent values.</summary>
    internal static string FacetLine(SearchFacets facets)
    {
        static string Part(string name, IReadOnlyList<FacetCount> counts, string empty) =>
            $"{name}: " + (counts.Count == 0 ? "none" : string.Join(", ", counts.Take(5).Select(c => $"{(c.Value.Length == 0 ? empty : c.Value)} {c.Count:N0}"))
                + (counts.Count > 5 ? $", … ({counts.Count - 5} more)" : ""));
        return string.Join(" · ", Part("types", facets.FileTypes, "(none)"), Part("folders", facets.Folders, "(top)"), Part("sources", facets.Sources, "(none)"));
    }

    // An instant given on the command line: ISO 8601, UTC unless it carries an offset.
    private static DateTime? Instant(string? value, string option)
    {
        if (value is null)
        {
            return null;
        }
        if (!DateTime.TryParse(value, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var instant))
        {
            throw new UsageException(option, $"expected a date or instant such as 2024-05-01 or 2024-05-01T10:00:00Z, got '{value}'.");
        }
        return instant;
    }

    // --meta key=value pairs: a key given more than once allows any of its values.
    private static Dictionary<string, IReadOnlyList<string>>? MetadataFilter(string[]? pairs)
    {
        if (pairs is not { Length: > 0 })
        {
            return null;
        }
        var byKey = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new UsageException("--meta", $"expected key=value, got '{pair}'.");
            }
            var key = pair[..eq];
            if (!byKey.TryGetValue(key, out var values))
            {
                byKey[key] = values = [];
            }
            values.Add(pair[(eq + 1)..]);
        }
        return byKey.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value, StringComparer.Ordinal);
    }

    private static string Rank(RetrieverRank? r) => r is null ? "—" : $"#{r.Rank} ({r.Score:F3})";

    /// <summary>
    /// Fusion flags over <paramref name="baseline"/> by the engine's one override rule (<see cref="FusionOverride.Over"/>);
    /// null when no flag is given. <c>eval</c> uses it over the model's default fusion.
    /// </summary>
    internal static FusionOptions? FusionFrom(FusionOptions baseline, string? method, double? k, string? weights, int? depth) =>
        FusionFlags(method, k, weights, depth)?.Over(baseline);

    /// <summary>
    /// The fusion flags as an override of the index's fusion, parsed only (the searcher merges it over the index's,
    /// field by field); null when no flag is given.
    /// </summary>
    internal static FusionOverride? FusionFlags(string? method, double? k, string? weights, int? depth)
    {
        if (method is null && k is null && weights is null && depth is null)
        {
            return null;
        }
        FusionMethod? parsed = method?.ToLowerInvariant() switch
        {
            null => null,
            "rrf" => FusionMethod.Rrf,
            "convex" => FusionMethod.Convex,
            _ => throw new UsageException("--fusion", $"unknown fusion '{method}' (use rrf or convex)."),
        };
        double? lexical = null, dense = null;
        Dictionary<string, double>? spaceWeights = null;
        if (weights is not null && weights.Contains('=', StringComparison.Ordinal))
        {
            // named: lexical=1,dense=0.5,<space>=0.8 — "dense" is every space not named
            foreach (var part in weights.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = part.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0 || !double.TryParse(part[(eq + 1)..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var w))
                {
                    throw new UsageException("--weights", $"expected 'name=weight' pairs (lexical, dense or a space name), got '{part}'.");
                }
                var name = part[..eq].Trim();
                if (name.Equals("lexical", StringComparison.OrdinalIgnoreCase))
                {
                    lexical = w;
                }
                else if (name.Equals("dense", StringComparison.OrdinalIgnoreCase))
                {
                    dense = w;
                }
                else
                {
                    (spaceWeights ??= new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase))[name] = w;
                }
            }
        }
        else if (weights is not null)
        {
            var parts = weights.Split(',');
            if (parts.Length != 2
                || !double.TryParse(parts[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var wl)
                || !double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var wd))
            {
                throw new UsageException("--weights", $"expected two numbers 'lexical,dense' or name=weight pairs, got '{weights}'.");
            }
            (lexical, dense) = (wl, wd);
        }
        return new FusionOverride(parsed, k, lexical, dense, depth, spaceWeights);
    }

    internal static SearchMode ParseMode(string value) => value.ToLowerInvariant() switch
    {
        "lexical" => SearchMode.Lexical,
        "dense" => SearchMode.Dense,
        "hybrid" => SearchMode.Hybrid,
        _ => throw new UsageException("--mode", $"unknown mode '{value}' (use lexical, dense or hybrid)."),
    };

    // " · page 3 · Install › Network": where the snippet lies, after the path; empty when the document has no outline.
    private static string Where(HitLocation? location)
    {
        if (location is null)
        {
            return string.Empty;
        }
        var parts = new List<string>();
        if (location.Page is { } page)
        {
            parts.Add($"page {page}");
        }
        if (location.Sections.Count > 0)
        {
            parts.Add(string.Join(" › ", location.Sections));
        }
        return parts.Count == 0 ? string.Empty : $"[grey] · {Markup.Escape(string.Join(" · ", parts))}[/]";
    }
}
