using System.Net;
using SemanticSearch.Core;

namespace SemanticSearch.Server.Tests;

/// <summary>
/// The request rate limit: a token bucket per X-Api-Key value (per address without one), off unless configured, the
/// probes exempt, and a refusal that is a 429 problem with Retry-After. The refill here is one token per 1000 s, so
/// nothing comes back into a bucket while a test runs.
/// </summary>
public sealed class RateLimitTests
{
    private const int Burst = 5;

    private static Task<TestServer> StartLimited() =>
        TestServer.StartAsync(o => o with { RateLimit = new RateLimitOptions { TokensPerSecond = 0.001, Burst = Burst } });

    private static async Task<HttpResponseMessage> Get(TestServer server, string path, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add(SearchServer.ApiKeyHeader, key);
        }
        return await server.Client.SendAsync(request);
    }

    [Fact]
    public async Task Requests_BeyondBurst_Return429ProblemWithRetryAfter()
    {
        await using var server = await StartLimited();
        for (var i = 0; i < Burst; i++)
        {
            using var ok = await Get(server, "/indexes", "client-a");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var refused = await Get(server, "/indexes", "client-a");

        await TestServer.AssertProblem(refused, 429, "rateLimit");
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 1000);
    }

    [Fact]
    public async Task Requests_AnotherKey_IsNotLimitedByTheFirst()
    {
        await using var server = await StartLimited();
        for (var i = 0; i <= Burst; i++)
        {
            (await Get(server, "/indexes", "client-a")).Dispose();
        }
        using (var first = await Get(server, "/indexes", "client-a"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);
        }

        for (var i = 0; i < Burst; i++)
        {
            using var other = await Get(server, "/indexes", "client-b");
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }
        // and a client without a key has its own bucket, by address
        using var anonymous = await Get(server, "/indexes");
        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
    }

    [Fact]
    public async Task HealthProbes_ClientOverItsLimit_AreNotLimited()
    {
        await using var server = await StartLimited();
        for (var i = 0; i <= Burst; i++)
        {
            (await Get(server, "/indexes", "client-a")).Dispose();
        }

        foreach (var path in new[] { "/health", "/health/live", "/health/ready" })
        {
            for (var i = 0; i < 3; i++)
            {
                using var probe = await Get(server, path, "client-a");
                Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
            }
        }
    }

    [Fact]
    public async Task Requests_RateLimitNotConfigured_NeverReturn429()
    {
        await using var server = await TestServer.StartAsync();
        var tasks = Enumerable.Range(0, 200).Select(async _ =>
        {
            using var response = await Get(server, "/indexes", "client-a");
            return response.StatusCode;
        });

        var statuses = await Task.WhenAll(tasks);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Theory]
    [InlineData(0.0, 10, "rateLimit.tokensPerSecond")]
    [InlineData(-1.0, 10, "rateLimit.tokensPerSecond")]
    [InlineData(double.NaN, 10, "rateLimit.tokensPerSecond")]
    [InlineData(double.PositiveInfinity, 10, "rateLimit.tokensPerSecond")]
    [InlineData(5.0, 0, "rateLimit.burst")]
    [InlineData(5.0, -3, "rateLimit.burst")]
    public void Create_BadRateLimit_IsRefusedNamingTheSetting(double tokensPerSecond, int burst, string setting)
    {
        var options = new SearchServerOptions { RateLimit = new RateLimitOptions { TokensPerSecond = tokensPerSecond, Burst = burst } };

        var e = Assert.Throws<InvalidSettingException>(() => SearchServer.Create(options));

        Assert.Equal(setting, e.Setting);
        Assert.StartsWith(setting + ":", e.Message, StringComparison.Ordinal);
    }
}
