// The HTTP host: ASP.NET Core minimal APIs on Kestrel from the shared framework, no other web server.
// Routes: /health (and the probes /health/live, /health/ready: ServerHealth), /metrics with --prometheus
// (ServerTelemetry), /indexes, /indexes/{name}, /indexes/{name}/search, /indexes/{name}/documents[/{id}],
// /indexes/{name}/jobs, /jobs, /jobs/{id}, /openapi/v1.json and the search page at /. Every route declares a summary
// and each status it can answer (Documented), so the OpenAPI document is the whole contract.
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SemanticSearch.Core;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Engine.Models;
using SemanticSearch.Engine.Search;
using SemanticSearch.Engine.Storage;
using SemanticSearch.Extraction;
using SemanticSearch.Metadata;

namespace SemanticSearch.Server;

/// <summary>
/// Builds the search service. <c>semsearch serve</c> and the tests both start it through <see cref="Create"/>.
/// </summary>
public static class SearchServer
{
    /// <summary>Content type of the bulk import route's body: newline-delimited JSON.</summary>
    public const string NdjsonType = "application/x-ndjson";

    /// <summary>Header that carries the API key.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>JSON settings of every request and response: camelCase names, camelCase enum strings, unknown fields refused.</summary>
    internal static readonly JsonSerializerOptions Json = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    private static JsonSerializerOptions Configure(JsonSerializerOptions o)
    {
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        o.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        o.NumberHandling = JsonNumberHandling.Strict; // "k": "10" is a string, not a number: refuse it rather than guess
        o.MaxDepth = 32;
        o.TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(); // UnknownFields reads its contracts
        return o;
    }

    /// <summary>
    /// A configured, not yet started application. Call <c>RunAsync</c>/<c>StartAsync</c> on it; stopping it
    /// (<c>StopAsync</c>, Ctrl+C, SIGTERM) cancels running jobs, waits for their last batch to commit and closes every
    /// index. <paramref name="logging"/> adjusts logging (the tests silence it).
    /// </summary>
    public static WebApplication Create(SearchServerOptions options, Action<ILoggingBuilder>? logging = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes;
        });
        // Per-request info logs cost more than a lexical search; keep warnings and errors, and our own start line.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // A start that fails (a port in use) is thrown to whoever started the service, who reports it in one line;
        // the host's own log of it would print the stack trace beside that line.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        logging?.Invoke(builder.Logging);
        builder.Services.ConfigureHttpJsonOptions(j => Configure(j.SerializerOptions));
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi("v1");
        ServerTelemetry.Add(builder.Services, options.Telemetry);
        if (options.RateLimit is { } limit)
        {
            RequestRateLimit.Add(builder.Services, limit, WriteProblem);
        }

        var catalog = new IndexCatalog(options.IndexesRoot ?? IndexLocation.Root, options.NewIndexSettings, options.NewIndexModel)
        {
            ServerUrl = options.Urls,
            WriteQueueTimeout = options.WriteQueueTimeout,
            WriteLockWait = options.WriteLockWait,
            WriterIdleRelease = options.WriterIdleRelease,
        };
        var folders = new FolderPolicy(options.AllowedFolderRoots);
        var stopping = new CancellationTokenSource();
        var jobs = new IndexingJobs(catalog, options.NewIndexSettings, folders, stopping.Token);
        ServerHealth.Add(builder.Services.AddHealthChecks(), catalog);

        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SemanticSearch.Server");
        catalog.Log = message => log.LogWarning("{Message}", message);
        // Stopping: tell running jobs to stop at their next file. Stopped (requests drained): wait for them, then close
        // every index, so no request ever meets a disposed index and the last batch is committed whole.
        app.Lifetime.ApplicationStopping.Register(stopping.Cancel);
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            jobs.WaitAll(TimeSpan.FromSeconds(30));
            catalog.Dispose();
            stopping.Dispose();
        });

        app.Use((ctx, next) => ProblemBoundary(ctx, next, catalog.Root));
        app.UseStatusCodePages(async ctx =>
        {
            // Route misses and method mismatches have no body yet; give them one in the same shape as every other error.
            var status = ctx.HttpContext.Response.StatusCode;
            var detail = status switch
            {
                StatusCodes.Status404NotFound => $"no route for {ctx.HttpContext.Request.Method} {ctx.HttpContext.Request.Path}.",
                StatusCodes.Status405MethodNotAllowed => $"{ctx.HttpContext.Request.Method} is not allowed on {ctx.HttpContext.Request.Path}.",
                StatusCodes.Status415UnsupportedMediaType => ctx.HttpContext.Request.Path.Value?.EndsWith(":bulk", StringComparison.Ordinal) == true
                    ? $"send the body as {NdjsonType}: one JSON document per line."
                    : "send the body as application/json.",
                _ => $"HTTP {status}.",
            };
            await WriteProblem(ctx.HttpContext, Problems.Make(status, ReasonPhrase(status), detail));
        });
        app.Use(ApiKeyGuard(options.EffectiveApiKey));
        if (options.RateLimit is not null)
        {
            app.UseRateLimiter();
        }
        app.Use(RefuseDotSegments);

        app.MapGet("/", ServePage).ExcludeFromDescription();
        var key = options.EffectiveApiKey is not null;
        app.MapGet("/health", () => Results.Ok(new { status = "ok" })).WithName("health")
            .WithSummary("Liveness probe; never needs the API key.").DisableRateLimiting();
        ServerHealth.Map(app);
        ServerTelemetry.Map(app, options.Telemetry);
        app.MapOpenApi("/openapi/{documentName}.json");

        app.MapGet("/indexes", () => catalog.Names().Select(n => Summary(catalog, n)).ToList())
            .WithName("listIndexes").Produces<List<IndexSummary>>()
            .Documented("List the indexes under the server's root, with the counts of their last commit.", key);
        app.MapGet("/indexes/{name}", (string name) => Details(catalog.Get(name)))
            .WithName("getIndex").Produces<IndexDetails>()
            .Documented("One index: its stats, the search modes it supports and its manifest.", key, 400, 404, 500);

        app.MapDelete("/indexes/{name}", (string name, HttpRequest request) =>
        {
            // A document URL whose id is '..' (/indexes/notes/documents/..) is resolved by clients, as RFC 3986 says, to
            // /indexes/notes/ before it is sent: a deletion never answers that form, only the exact /indexes/{name}.
            if (request.Path.Value is { } path && path.EndsWith('/'))
            {
                throw new InvalidSettingException("path",
                    $"DELETE {path} ends with '/', the form a document URL whose id is '..' resolves to; send DELETE /indexes/{name} to delete the index.");
            }
            var active = jobs.ActiveFor(name);
            if (active.Count > 0)
            {
                return Problems.Result(StatusCodes.Status409Conflict, "Index busy",
                    $"index '{name}' has a folder job {active[0].State.ToString().ToLowerInvariant()} (job {active[0].Id}); cancel it first (DELETE /jobs/{active[0].Id}) or wait for it to finish.", "name");
            }
            catalog.Delete(name);
            return Results.NoContent();
        }).WithName("deleteIndex").Produces(204)
            .Documented("Delete an index and its files. Refused (409) while a job or a write works on it; searches already running finish on the generation they started with.", key, 400, 404, 409);

        app.MapPut("/indexes/{name}", async (string name, HttpRequest request, CancellationToken ct) =>
        {
            CatalogName(name);
            var body = request.ContentLength is null or 0 && request.ContentType is null ? new CreateIndexBody() : await ReadBody<CreateIndexBody>(request);
            var models = body.Models;
            if (models is { Count: 0 })
            {
                throw new InvalidSettingException("models", "names no model; leave it out for the server's default, or give [\"none\"] for BM25 only.");
            }
            for (var i = 0; i < (models?.Count ?? 0); i++)
            {
                if (string.IsNullOrWhiteSpace(models![i]) || !catalog.MayCreateWith(models[i]))
                {
                    throw new InvalidSettingException($"models[{i}]", $"'{models[i]}' is not a model this server offers (see 'semsearch models list'; model directories only through 'serve --model').");
                }
            }
            var open = catalog.GetOrCreate(name);
            var existed = File.Exists(Path.Combine(open.Directory, IndexManifest.FileName));
            var spaces = await open.WriteAsync((index, _) => index.Manifest.Spaces.Select(sp => sp.Model.ModelId).ToList(), waitForLock: false, ct, models);
            var wanted = models is null ? null : models.Count == 1 && string.Equals(models[0], ModelResolver.NoModel, StringComparison.OrdinalIgnoreCase) ? [] : models.ToList();
            if (existed && wanted is not null && !wanted.Select(catalog.ModelIdOf).SequenceEqual(spaces, StringComparer.Ordinal))
            {
                return Problems.Result(StatusCodes.Status409Conflict, "Conflict",
                    $"index '{name}' exists with the vector spaces [{string.Join(", ", spaces)}], not [{string.Join(", ", wanted)}]; add or remove spaces with 'semsearch spaces'.", "models");
            }
            var details = Details(open);
            return existed ? Results.Ok(details) : Results.Created($"/indexes/{name}", details);
        }).WithName("createIndex").Accepts<CreateIndexBody>("application/json").Produces<IndexDetails>(201).Produces<IndexDetails>()
            .Documented("Create an index with one vector space per model (200 with its details when it exists with those models).", key, 400, 409, 413);

        app.MapPost("/indexes/{name}/search", async (string name, HttpRequest request) =>
        {
            var body = await ReadBody<SearchBody>(request);
            using var view = catalog.Get(name).Read();
            var search = SearchTranslation.ToRequest(body, options.MaxK, view.Index.Manifest.Model is not null);
            var response = view.Searcher.Search(search);
            return Results.Ok(new SearchResult(response.Hits, response.Mode.ToString().ToLowerInvariant(),
                search.K, search.Offset, Math.Round(response.TookMs, 3), response.Fusion, response.Spaces, response.Understood, response.DidYouMean,
                response.Total, response.TotalExact, response.Facets));
        }).WithName("search").Accepts<SearchBody>("application/json").Produces<SearchResult>()
            .Documented("Search an index: hybrid, dense or lexical, with the query syntax, filters and fusion fields over the index's.", key, 400, 404, 409, 413, 500);

        app.MapPost("/indexes/{name}/documents", async (string name, HttpRequest request, CancellationToken ct) =>
        {
            CatalogName(name);
            var body = await ReadBody<DocumentsBody>(request);
            var docs = SearchTranslation.ValidateDocuments(body, options.MaxDocumentsPerRequest);
            var open = catalog.GetOrCreate(name);
            // The budget: the client's own disconnect, and a time limit; either leaves the index as it was.
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
            budget.CancelAfter(options.UpsertTimeout);
            try
            {
                var chunks = await open.WriteAsync((index, token) =>
                {
                    var now = DateTime.UtcNow;
                    var written = 0;
                    // an upload replaces an uploaded document of its id, never a folder's (ids are unique across sources):
                    // checked under the write lock, before anything is written, so a refused request writes nothing
                    for (var i = 0; i < docs.Count; i++)
                    {
                        if (index.GetDocument(docs[i].Id!) is { } held && held.Source != IndexSources.Api)
                        {
                            var owner = index.Sources().FirstOrDefault(s => s.Key == held.Source)?.Name ?? held.Source;
                            throw new DocumentIdTakenException($"documents[{i}].id",
                                $"documents[{i}].id: '{docs[i].Id}' is a document of source '{owner}' ({held.Path}); choose another id, or remove that source first (DELETE /indexes/{name}/sources/{owner}). Nothing was written.");
                        }
                    }
                    index.BeginBatch();
                    foreach (var d in docs)
                    {
                        token.ThrowIfCancellationRequested();
                        var source = ApiMapping.ToSource(d, now);
                        written += index.Write([(source, index.Chunk(source))], token);
                    }
                    index.Commit();
                    return written;
                }, waitForLock: false, budget.Token);
                return Results.Ok(new DocumentsWritten(name, docs.Count, chunks));
            }
            catch (OperationCanceledException) when (budget.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                throw new UpsertBudgetException($"documents: the upsert took longer than {options.UpsertTimeout.TotalSeconds:0.#} s (upsertTimeout) and was cancelled; nothing was written. Send fewer or smaller documents per request.");
            }
        }).WithName("upsertDocuments").Accepts<DocumentsBody>("application/json").Produces<DocumentsWritten>()
            .Documented("Upsert documents by id (creates the index on its first write). An id that a folder's document holds is refused (409), and then nothing is written.", key, 400, 409, 413, 503);

        app.MapPost("/indexes/{name}/documents:bulk", async (string name, HttpRequest request, CancellationToken ct) =>
        {
            CatalogName(name); // a body of another type never gets here: Accepts answers 415
            // The body is streamed line by line into batches (memory is bounded by a batch and the longest line), so
            // the request size limit of JSON bodies does not apply; the importer reads it on the write's own thread.
            if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            {
                size.MaxRequestBodySize = null;
            }
            if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpBodyControlFeature>() is { } control)
            {
                control.AllowSynchronousIO = true;
            }
            var open = catalog.GetOrCreate(name);
            var report = await open.WriteAsync((index, token) =>
                new JsonLinesImport(index, options.NewIndexSettings).Run(request.Body, request.ContentLength, null, token), waitForLock: false, ct);
            return Results.Ok(new BulkImported(name, report.Lines, report.Added + report.Updated, report.Added, report.Updated, report.Unchanged,
                report.RejectedCount, report.Rejected, report.ChunksWritten, Math.Round(report.Elapsed.TotalMilliseconds, 3)));
        }).WithName("bulkImportDocuments").Accepts<string>(NdjsonType).Produces<BulkImported>()
            .Documented("Import documents streamed as NDJSON, one {id, title, text, metadata, vector} per line (creates the index on its first write): a line's vector is stored as given, " +
                "others are embedded; bad lines are answered by number and skipped; documents already there with the same content are skipped, so a stopped import is resumed by sending it again.", key, 400, 409, 415);

        app.MapGet("/indexes/{name}/sources", (string name) =>
        {
            using var view = catalog.Get(name).Read();
            return view.Index.Sources().Select(ApiMapping.ToSummary).ToList();
        }).WithName("listSources").Produces<List<SourceSummary>>()
            .Documented("The index's sources (its folders, and 'api' for uploads) with their document, chunk and byte counts.", key, 400, 404, 500);

        app.MapDelete("/indexes/{name}/sources/{source}", async (string name, string source, CancellationToken ct) =>
        {
            var active = jobs.ActiveFor(name);
            if (active.Count > 0)
            {
                return Problems.Result(StatusCodes.Status409Conflict, "Index busy",
                    $"index '{name}' has a folder job {active[0].State.ToString().ToLowerInvariant()} (job {active[0].Id}); cancel it first (DELETE /jobs/{active[0].Id}) or wait for it to finish.", "name");
            }
            var open = catalog.Get(name);
            var removed = await open.WriteAsync((index, _) => index.RemoveSource(source), waitForLock: false, ct);
            return Results.Ok(ApiMapping.ToSummary(removed));
        }).WithName("removeSource").Produces<SourceSummary>()
            .Documented("Remove a source and every document of it, in one commit; other sources' documents are not touched. Answers the source as it was.", key, 400, 404, 409);

        app.MapGet("/indexes/{name}/documents/{**id}", (string name, string id) =>
        {
            using var view = catalog.Get(name).Read();
            var document = view.Index.GetDocument(id);
            if (document is null)
            {
                return Problems.Result(StatusCodes.Status404NotFound, "Not found", $"document '{id}' is not in index '{name}'.", "id");
            }
            return Results.Ok(ApiMapping.ToDetails(document, view.Index.GetChunks(document)));
        }).WithName("getDocument").Produces<DocumentDetails>()
            .Documented("One document as the index stores it: its fields, uploaded metadata and chunk texts. An id may contain '/'; escape other reserved characters.", key, 400, 404, 500);

        app.MapGet("/indexes/{name}/files/{**id}", (string name, string id, HttpResponse response) =>
        {
            DocumentRecord? document;
            using (var view = catalog.Get(name).Read())
            {
                document = view.Index.GetDocument(id);
            }
            if (document is null)
            {
                return Problems.Result(StatusCodes.Status404NotFound, "Not found", $"document '{id}' is not in index '{name}'.", "id");
            }
            return SourceFileResult(document, response);
        }).WithName("getDocumentFile").Produces(200, contentType: "application/octet-stream")
            .Documented("The file a folder document was indexed from, as it is now on disk (HTML sandboxed: no scripts run; text as UTF-8). A hit's location gives the fragment to open it at (#page=N, #anchor).", key, 400, 403, 404, 500);

        app.MapDelete("/indexes/{name}/documents/{**id}", async (string name, string id, CancellationToken ct) =>
        {
            var open = catalog.Get(name);
            var removed = await open.WriteAsync((index, _) =>
            {
                index.BeginBatch();
                var found = index.Delete(id);
                index.Commit();
                return found;
            }, waitForLock: false, ct);
            return removed
                ? Results.NoContent()
                : Problems.Result(StatusCodes.Status404NotFound, "Not found", $"document '{id}' is not in index '{name}'.", "id");
        }).WithName("deleteDocument").Produces(204)
            .Documented("Delete a document by id (an id may contain '/').", key, 400, 404, 409);

        app.MapPost("/indexes/{name}/jobs", async (string name, HttpRequest request) =>
        {
            CatalogName(name);
            var body = await ReadBody<JobBody>(request);
            var folder = folders.Authorize(body.Folder);
            var status = jobs.Start(name, body.Folder!, folder);
            return Results.Accepted($"/jobs/{status.Id}", status);
        }).WithName("startJob").Accepts<JobBody>("application/json").Produces<JobStatus>(202)
            .Documented("Index a folder under an --allow-folder root in the background; poll the job at its Location.", key, 400, 403, 404, 413);

        app.MapGet("/jobs", () => jobs.All())
            .WithName("listJobs").Produces<IReadOnlyList<JobStatus>>()
            .Documented("Every folder job kept in memory, oldest first, with its state and progress.", key);

        app.MapGet("/jobs/{id}", (string id) => jobs.Get(id) is { } status
                ? Results.Ok(status)
                : Problems.Result(StatusCodes.Status404NotFound, "Not found", $"job '{id}' not found (jobs are kept in memory until the server restarts).", "id"))
            .WithName("getJob").Produces<JobStatus>()
            .Documented("A folder job's state, progress and, when it has finished, its report.", key, 404);

        app.MapDelete("/jobs/{id}", (string id) => jobs.Cancel(id, out var status) switch
            {
                CancelOutcome.Requested => Results.Accepted($"/jobs/{id}", status),
                CancelOutcome.AlreadyFinished => Problems.Result(StatusCodes.Status409Conflict, "Job finished",
                    $"job '{id}' has already {status!.State.ToString().ToLowerInvariant()}; there is nothing to cancel.", "id"),
                _ => Problems.Result(StatusCodes.Status404NotFound, "Not found", $"job '{id}' not found (jobs are kept in memory until the server restarts).", "id"),
            })
            .WithName("cancelJob").Produces<JobStatus>(202)
            .Documented("Cancel a queued or running job: it stops at its next file or batch (state cancelled); what it committed stays.", key, 404, 409);

        return app;
    }

    // The file itself: a PDF or a page as the browser shows it, text decoded as the indexer decoded it and sent as
    // UTF-8, anything else as a download. An HTML file is served under a sandbox policy (an opaque origin, no scripts)
    // so an indexed page cannot act on this server with the reader's credentials.
    private static IResult SourceFileResult(DocumentRecord document, HttpResponse response)
    {
        var stream = SourceFiles.Open(document);
        response.Headers.XContentTypeOptions = "nosniff";
        var type = document.FileType;
        if (type is ".pdf")
        {
            return Results.File(stream, "application/pdf", enableRangeProcessing: true);
        }
        if (type is ".html" or ".htm" or ".xhtml")
        {
            response.Headers.ContentSecurityPolicy = "sandbox";
            return Results.File(stream, type == ".xhtml" ? "application/xhtml+xml" : "text/html");
        }
        if (type is ".txt" or ".md" or ".markdown" or ".rst" or ".csv" or ".tsv" or ".json")
        {
            using (stream)
            {
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                var text = TextDecoding.Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), out _);
                response.Headers.ContentSecurityPolicy = "sandbox";
                return Results.Text(text, type == ".json" ? "application/json; charset=utf-8" : "text/plain; charset=utf-8");
            }
        }
        return Results.File(stream, "application/octet-stream", Path.GetFileName(document.Path));
    }

    /// <summary>
    /// The route's summary and every problem status it can answer, 401 included when the server requires an API key,
    /// so the OpenAPI document lists them all.
    /// </summary>
    private static RouteHandlerBuilder Documented(this RouteHandlerBuilder route, string summary, bool apiKey, params int[] problems)
    {
        route.WithSummary(summary);
        foreach (var status in apiKey ? [StatusCodes.Status401Unauthorized, .. problems] : problems)
        {
            route.ProducesProblem(status);
        }
        return route;
    }

    private static void CatalogName(string name) => IndexCatalog.ValidateName(name);

    private static IndexSummary Summary(IndexCatalog catalog, string name)
    {
        // The manifest's counts are those of the last commit: listing never opens (and so never locks) an index.
        try
        {
            var m = IndexManifest.Read(catalog.DirectoryOf(name));
            return new IndexSummary(name, m.Counts.Documents, m.Counts.Chunks, m.Counts.Bytes, m.Model?.ModelId, m.UpdatedUtc);
        }
        catch (Exception e) when (e is SemanticSearchException or IOException)
        {
            // One damaged index must not hide the others from the listing.
            return new IndexSummary(name, 0, 0, 0, null, default, e.Message);
        }
    }

    private static IndexDetails Details(OpenIndex open)
    {
        using var view = open.Read();
        var s = view.Index.Stats();
        var m = view.Index.Manifest;
        IReadOnlyList<string> modes = m.Model is null ? ["lexical"] : ["hybrid", "dense", "lexical"];
        return new IndexDetails(open.Name, s.Documents, s.Chunks, s.Bytes, s.Model, s.CreatedUtc, s.UpdatedUtc, s.FormatVersion, modes, m);
    }

    // Reads the body ourselves (rather than binding a parameter) so a bad body is a 400 that names the field, and
    // a missing or non-JSON body is told apart from a wrong field.
    private static async Task<T> ReadBody<T>(HttpRequest request)
    {
        if (request.ContentLength == 0)
        {
            throw new InvalidSettingException("body", "a JSON object is required.");
        }
        if (request.ContentType is { } ct && !ct.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidSettingException("body", $"send application/json (got '{ct}').");
        }
        using var document = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = Json.MaxDepth }, request.HttpContext.RequestAborted);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidSettingException("body", "a JSON object is required.");
        }
        UnknownFields.Check(document.RootElement, typeof(T), Json);
        var value = document.RootElement.Deserialize<T>(Json);
        return value ?? throw new InvalidSettingException("body", "a JSON object is required (got null).");
    }

    private static async Task ProblemBoundary(HttpContext ctx, RequestDelegate next, string indexesRoot)
    {
        try
        {
            await next(ctx);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is no one to answer.
        }
        catch (Exception e) when (!ctx.Response.HasStarted)
        {
            var problem = Problems.From(e);
            if (problem is null)
            {
                ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("SemanticSearch.Server")
                    .LogError(e, "unhandled error on {Method} {Path}", ctx.Request.Method, ctx.Request.Path);
                problem = Problems.Make(StatusCodes.Status500InternalServerError, "Internal error", "an unexpected error occurred; the server log has the details.");
            }
            // A client learns which index and file, never where the server keeps them.
            problem.Detail = Problems.WithoutServerPaths(problem.Detail, indexesRoot);
            ctx.Response.Clear();
            await WriteProblem(ctx, problem);
        }
    }

    private static Task WriteProblem(HttpContext ctx, ProblemDetails problem)
    {
        ctx.Response.StatusCode = problem.Status ?? 500;
        ctx.Response.ContentType = Problems.ContentType;
        return ctx.Response.WriteAsync(JsonSerializer.Serialize(problem, Json), ctx.RequestAborted);
    }

    // The key guards everything that reads or changes data. /health and the probes under it, and the page's HTML
    // (which holds no data and asks the user for the key when the API answers 401) stay open; /metrics is guarded.
    private static Func<HttpContext, RequestDelegate, Task> ApiKeyGuard(string? key)
    {
        var expected = key is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(key));
        return async (ctx, next) =>
        {
            var path = ctx.Request.Path;
            if (expected is null || path == "/" || path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase))
            {
                await next(ctx);
                return;
            }
            var given = ctx.Request.Headers[ApiKeyHeader].ToString();
            // Compare hashes in constant time: neither length nor content leaks through timing.
            if (given.Length == 0 || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), expected))
            {
                ctx.Response.Headers.WWWAuthenticate = "ApiKey header=\"X-Api-Key\"";
                await WriteProblem(ctx, Problems.Make(StatusCodes.Status401Unauthorized, "Unauthorized",
                    given.Length == 0 ? $"{ApiKeyHeader}: header is required." : $"{ApiKeyHeader}: the key is not valid.", ApiKeyHeader));
                return;
            }
            await next(ctx);
        };
    }

    // Kestrel decodes "%2E%2E" and removes the dot segment before routing, so DELETE /indexes/notes/documents/%2E%2E
    // would reach DELETE /indexes/notes and drop the whole index. A path that names another resource through '.' or '..'
    // (plain or percent-encoded) is refused as it was sent, before any route runs.
    private static Task RefuseDotSegments(HttpContext ctx, RequestDelegate next)
    {
        var raw = ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? string.Empty;
        var query = raw.IndexOf('?', StringComparison.Ordinal);
        foreach (var segment in (query < 0 ? raw : raw[..query]).Split('/'))
        {
            var dots = segment.Replace("%2E", ".", StringComparison.OrdinalIgnoreCase);
            if (dots is "." or "..")
            {
                throw new InvalidSettingException("path", $"'{segment}' ('{dots}') segments are not allowed in a URL path: they would address another resource.");
            }
        }
        return next(ctx);
    }

    // Read once: the page is part of the assembly and never changes while the process runs.
    private static readonly Lazy<string> Page = new(() =>
    {
        using var stream = typeof(SearchServer).Assembly.GetManifestResourceStream("SemanticSearch.Server.Page.index.html")
            ?? throw new CorruptDataException("SemanticSearch.Server.Page.index.html", "the search page is missing from the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    });

    private static IResult ServePage() => Results.Content(Page.Value, "text/html; charset=utf-8");

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } r ? r : "Error";
}
