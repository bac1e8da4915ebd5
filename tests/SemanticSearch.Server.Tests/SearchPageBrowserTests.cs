using Microsoft.Playwright;
using SemanticSearch.Engine;
using SemanticSearch.Engine.Indexing;
using SemanticSearch.Testing;
using static Microsoft.Playwright.Assertions;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// The search page in a real browser: Debian's chromium driven headless by Playwright's bundled driver, against the
/// real server over an index of the repository's samples/docs. Set SEMSEARCH_UPDATE_SCREENSHOT=1 to refresh
/// docs/search-page.png.
/// </summary>
public sealed class SearchPageBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    private static async Task<IBrowser> LaunchChromium(IPlaywright playwright)
    {
        // Fail, never skip: CI installs chromium (tests/run-all.sh), so its absence is a broken machine, not an option.
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium (apt-get install -y chromium); tests/run-all.sh does this.");
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    [Fact]
    public async Task SearchPage_TypeQueryAndPressEnter_RendersHighlightedResultsWithRanksAndStats()
    {
        var indexes = Path.Combine(Path.GetTempPath(), "semsearch-page-tests", Guid.NewGuid().ToString("N"));
        using (var index = SemanticIndex.OpenOrCreate(Path.Combine(indexes, "samples"), new IndexSettings()))
        {
            new FolderIndexer(index, new IndexSettings()).Run(RepoPaths.SampleDocs);
        }
        try
        {
            await using var server = await TestServer.StartAsync(indexesRoot: indexes);
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await LaunchChromium(playwright);
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 820 } });
            await page.GotoAsync(server.BaseAddress.ToString());

            // The index picker and the stats come from GET /indexes and GET /indexes/{name}.
            await Expect(page.Locator("#index")).ToHaveValueAsync("samples");
            await Expect(page.Locator("#stats")).ToContainTextAsync("documents");
            // Without a model, only lexical search can be chosen.
            await Expect(page.Locator("input[name=mode][value=hybrid]")).ToBeDisabledAsync();
            await Expect(page.Locator("input[name=mode][value=lexical]")).ToBeCheckedAsync();

            // Keyboard only: '/' focuses the box, Enter searches.
            await page.Locator("h1").ClickAsync(); // take focus away from the autofocused box first
            await page.Keyboard.PressAsync("/");
            await page.Keyboard.TypeAsync("volcano eruptions");
            await page.Keyboard.PressAsync("Enter");

            var hits = page.Locator("#results li.hit");
            await Expect(hits.First).ToBeVisibleAsync();
            // Reference: samples/docs/volcanoes.html is the document about volcanoes; it must be the top result.
            await Expect(hits.First.Locator(".path")).ToContainTextAsync("volcanoes.html");
            await Expect(hits.First.Locator(".ranks")).ToContainTextAsync("lexical #1");
            await Expect(hits.First.Locator(".ranks")).ToContainTextAsync("dense —");
            var marks = await hits.First.Locator("mark").AllInnerTextsAsync();
            Assert.NotEmpty(marks);
            // marks are the server's, as BM25 matches: the stems "volcano" and "erupt" (so "erupted" too), whole words
            Assert.All(marks, m => Assert.True(m.StartsWith("volcano", StringComparison.OrdinalIgnoreCase) || m.StartsWith("erupt", StringComparison.OrdinalIgnoreCase), m));
            var snippet = await hits.First.Locator("p.snippet").InnerTextAsync();
            Assert.DoesNotContain(System.Text.RegularExpressions.Regex.Matches(snippet, @"\w+").Select(w => w.Value),
                w => (w.StartsWith("volcano", StringComparison.OrdinalIgnoreCase) || w.StartsWith("erupt", StringComparison.OrdinalIgnoreCase)) && !marks.Contains(w));
            await Expect(page.Locator("#summary")).ToContainTextAsync("lexical");

            await Expect(page.Locator("#pager")).ToBeHiddenAsync(); // one page of results: no paging buttons

            if (Environment.GetEnvironmentVariable("SEMSEARCH_UPDATE_SCREENSHOT") == "1")
            {
                // A broader query makes a more telling picture: several documents, several highlighted words.
                await page.Locator("#q").FillAsync("water temperature");
                await page.Keyboard.PressAsync("Enter");
                await Expect(page.Locator("#summary")).ToContainTextAsync("Results");
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(RepoPaths.Root, "docs", "search-page.png"), FullPage = false });
            }
        }
        finally
        {
            Directory.Delete(indexes, recursive: true);
        }
    }

    [Fact]
    public async Task SearchPage_DocumentWithMarkup_ShowsItAsTextNeverAsHtml()
    {
        await using var server = await TestServer.StartAsync();
        await server.AddDocuments("web", ("xss", "<img src=x onerror=\"window.pwned=1\"> lava title",
            "Molten lava <script>window.pwned=2</script> & <b>bold</b> flows downhill."));
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchChromium(playwright);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.BaseAddress + "?q=lava");

        var hit = page.Locator("#results li.hit").First;
        await Expect(hit.Locator("h2")).ToHaveTextAsync("<img src=x onerror=\"window.pwned=1\"> lava title");
        await Expect(hit.Locator("p.snippet")).ToContainTextAsync("<script>window.pwned=2</script> & <b>bold</b>");
        Assert.Equal(0, await page.Locator("#results img, #results script, #results p.snippet *:not(mark), #results h2 > :not(a), #results h2 a *:not(mark)").CountAsync());
        Assert.Equal("undefined", await page.EvaluateAsync<string>("typeof window.pwned"));
        // The query word is highlighted inside the escaped text.
        Assert.Equal(["lava", "lava"], await hit.Locator("mark").AllInnerTextsAsync());
    }

    [Fact]
    public async Task SearchPage_ServerWithApiKey_AsksForKeyThenSearches()
    {
        await using var server = await TestServer.StartAsync(o => o with { ApiKey = "page-key" });
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/indexes/k/documents"))
        {
            request.Headers.Add("X-Api-Key", "page-key");
            request.Content = System.Net.Http.Json.JsonContent.Create(new { documents = new[] { new { id = "g", title = "Glaciers", text = "Glaciers carve valleys." } } });
            using var r = await server.Client.SendAsync(request);
            Assert.True(r.IsSuccessStatusCode);
        }
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchChromium(playwright);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(server.BaseAddress.ToString());
        await Expect(page.Locator("#keybox")).ToBeVisibleAsync();
        await page.Locator("#key").FillAsync("page-key");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#index")).ToHaveValueAsync("k");
        await page.Locator("#q").FillAsync("glaciers");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#results li.hit h2")).ToHaveTextAsync("Glaciers");
    }

    [Fact]
    public async Task SearchPage_DeepLinksAndDefaults_RoundTripModePageSuggestionPhraseAndCopies()
    {
        await using var server = await TestServer.StartAsync(o => o with { NewIndexModel = TestModels.TestBertDirectory });
        var notes = Enumerable.Range(1, 22).Select(i => ($"notes/n{i:D2}", $"Lava note {i}", $"Lava flow number {i} cooled into basalt {new string('b', i)}.")).ToList();
        notes.Add(("peaks/etna", "Etna", "The volcano erupts every few years."));
        notes.Add(("peaks/kilauea", "Kilauea", "Its lava lake glows at night."));
        notes.Add(("faq/a", "Copy one", "Obsidian is volcanic glass."));
        notes.Add(("mirror/a", "Copy two", "Obsidian is volcanic glass."));
        await server.AddDocuments("geo", [.. notes]);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchChromium(playwright);
        var page = await browser.NewPageAsync();

        // an index with a model opens in its default mode, hybrid, as the CLI and the API do
        await page.GotoAsync(server.BaseAddress + "?index=geo");
        await Expect(page.Locator("input[name=mode][value=hybrid]")).ToBeCheckedAsync();

        // a deep link: index, query, mode and page come from the URL; the page shows the API's second page of ten
        var second = TestServer.DocIds(await server.Search("geo", new { query = "lava", mode = "lexical", k = 10, offset = 10 }));
        Assert.Equal(10, second.Count);
        await page.GotoAsync(server.BaseAddress + "?index=geo&q=lava&mode=lexical&page=2");
        await Expect(page.Locator("input[name=mode][value=lexical]")).ToBeCheckedAsync();
        await Expect(page.Locator("#summary")).ToContainTextAsync("Results 11–20");
        var shown = await page.Locator("#results li.hit").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.doc)");
        Assert.Equal(second, shown);
        // each title links to the document endpoint, its id's '/' kept
        Assert.Equal("/indexes/geo/documents/" + second[0], await page.Locator("#results li.hit h2 a").First.GetAttributeAsync("href"));
        await page.Locator("#next").ClickAsync();
        await Expect(page.Locator("#summary")).ToContainTextAsync("Results 21–");
        var url = new Uri(page.Url);
        Assert.Contains("page=3", url.Query, StringComparison.Ordinal);
        Assert.Contains("mode=lexical", url.Query, StringComparison.Ordinal);
        Assert.Contains("q=lava", url.Query, StringComparison.Ordinal);

        // a typo BM25 finds nothing for: the page offers the index's own word, and shows its results
        await page.Locator("#q").FillAsync("volcanno");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#didyoumean")).ToBeVisibleAsync();
        await Expect(page.Locator("#suggestion")).ToHaveTextAsync("volcano");
        await Expect(page.Locator("#results li.hit").First).ToHaveAttributeAsync("data-doc", "peaks/etna");
        await page.Locator("#suggestion").ClickAsync();
        await Expect(page.Locator("#q")).ToHaveValueAsync("volcano");
        await Expect(page.Locator("#didyoumean")).ToBeHiddenAsync();

        // a phrase is said to be understood as one
        await page.Locator("#q").FillAsync("\"lava flow\"");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#understood")).ToContainTextAsync("required: \"lava flow\"");

        // facets as chips: "lava" is in the 22 notes and in one peak (the corpus above); a folder chip narrows the search
        // and round-trips through the URL
        await page.Locator("#q").FillAsync("lava");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("input[name=mode][value=lexical]")).ToBeCheckedAsync();
        await Expect(page.Locator("#summary")).ToContainTextAsync("of 23");
        // highlights: the server's spans, whole words as BM25 matches them ("lava" in every hit's title and snippet)
        var firstMarks = await page.Locator("#results li.hit").First.Locator("mark").AllInnerTextsAsync();
        Assert.NotEmpty(firstMarks);
        Assert.All(firstMarks, m => Assert.Equal("lava", m.ToLowerInvariant()));
        await Expect(page.Locator("#facets button.chip[data-key=folder][data-value=notes]")).ToContainTextAsync("22");
        await Expect(page.Locator("#facets button.chip[data-key=folder][data-value=peaks]")).ToContainTextAsync("1");
        await page.Locator("#facets button.chip[data-key=folder][data-value=peaks]").ClickAsync();
        await Expect(page.Locator("#summary")).ToContainTextAsync("of 1 ");
        await Expect(page.Locator("#results li.hit")).ToHaveCountAsync(1);
        await Expect(page.Locator("#results li.hit").First).ToHaveAttributeAsync("data-doc", "peaks/kilauea");
        Assert.Contains("folder=peaks", new Uri(page.Url).Query, StringComparison.Ordinal);
        await page.GotoAsync(page.Url);
        await Expect(page.Locator("#facets button.chip[data-key=folder][data-value=peaks]")).ToHaveAttributeAsync("aria-pressed", "true");
        await Expect(page.Locator("#results li.hit")).ToHaveCountAsync(1);
        await page.Locator("#facets button.chip[data-key=folder][data-value=peaks]").ClickAsync();
        await Expect(page.Locator("#summary")).ToContainTextAsync("of 23");

        // two copies of one text: one card, naming the other
        await page.Locator("#q").FillAsync("obsidian");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#results li.hit")).ToHaveCountAsync(1);
        await Expect(page.Locator("#results li.hit .also")).ToContainTextAsync("also at:");
    }

    [Fact]
    public async Task SearchPage_FolderHits_ShowPageAndSectionAndOpenTheFileThere()
    {
        var indexes = Path.Combine(Path.GetTempPath(), "semsearch-page-tests", Guid.NewGuid().ToString("N"));
        var folder = Path.Combine(indexes, "..", Path.GetFileName(indexes) + "-docs");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "pools.md"), "# Tide pools\n\nAnemones live here.\n\n## Safety rules\n\nWatch the tide: safetyword.\n");
        File.WriteAllBytes(Path.Combine(folder, "manual.pdf"), HostileCorpus.PdfPages(["Kernels schedule threads", "Mirrors carry packages secondpageword"]));
        using (var index = SemanticIndex.OpenOrCreate(Path.Combine(indexes, "docs"), new IndexSettings()))
        {
            new FolderIndexer(index, new IndexSettings()).Run(folder);
        }
        try
        {
            foreach (var key in new[] { null, "file-key" })
            {
                await using var server = await TestServer.StartAsync(o => o with { ApiKey = key }, indexesRoot: indexes);
                using var playwright = await Playwright.CreateAsync();
                await using var browser = await LaunchChromium(playwright);
                var context = await browser.NewContextAsync();
                var page = await context.NewPageAsync();
                await page.GotoAsync(server.BaseAddress.ToString());
                if (key is not null)
                {
                    await page.Locator("#key").FillAsync(key);
                    await page.Keyboard.PressAsync("Enter");
                }
                await Expect(page.Locator("#index")).ToHaveValueAsync("docs");

                await page.Locator("#q").FillAsync("secondpageword");
                await page.Keyboard.PressAsync("Enter");
                var pdf = page.Locator("#results li.hit").First;
                await Expect(pdf.Locator(".path .where")).ToHaveTextAsync(" · page 2");
                Assert.Equal("/indexes/docs/files/manual.pdf#page=2", await pdf.Locator("a.file").GetAttributeAsync("href"));

                await page.Locator("#q").FillAsync("safetyword");
                await page.Keyboard.PressAsync("Enter");
                var md = page.Locator("#results li.hit").First;
                await Expect(md.Locator(".path .where")).ToHaveTextAsync(" · Tide pools › Safety rules");
                Assert.Equal("/indexes/docs/files/pools.md#safety-rules", await md.Locator("a.file").GetAttributeAsync("href"));
                // the link opens the file itself at that anchor (with a key: fetched with it, opened from what came back)
                var popup = await context.RunAndWaitForPageAsync(() => md.Locator("a.file").ClickAsync());
                await popup.WaitForLoadStateAsync();
                Assert.EndsWith("#safety-rules", popup.Url, StringComparison.Ordinal);
                Assert.StartsWith(key is null ? server.BaseAddress.ToString() : "blob:", popup.Url, StringComparison.Ordinal);
                await Expect(popup.Locator("body")).ToContainTextAsync("Watch the tide: safetyword.");
            }
        }
        finally
        {
            Directory.Delete(indexes, recursive: true);
            Directory.Delete(folder, recursive: true);
        }
    }
}
