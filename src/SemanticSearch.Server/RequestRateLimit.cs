// The request rate limit (RateLimitOptions): ASP.NET Core's rate limiter with one token bucket per client, a client
// being its X-Api-Key header's value or, without one, its remote address. It runs after the API key guard, so with a
// key configured only accepted requests spend tokens; the health probes are exempt (DisableRateLimiting on their
// routes). A refused request gets 429, Retry-After in whole seconds and the problem+json every other error has.
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace SemanticSearch.Server;

internal static class RequestRateLimit
{
    // A bucket is refilled this often at most, so a high rate does not run a timer per millisecond per client.
    private static readonly TimeSpan ShortestRefill = TimeSpan.FromMilliseconds(50);

    public static void Add(IServiceCollection services, RateLimitOptions limit, Func<HttpContext, ProblemDetails, Task> writeProblem)
    {
        var bucket = Bucket(limit);
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(ctx =>
                RateLimitPartition.GetTokenBucketLimiter(ClientOf(ctx), _ => bucket));
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = (rejected, _) =>
            {
                var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after)
                    ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds))
                    : Math.Max(1, (int)Math.Ceiling(bucket.ReplenishmentPeriod.TotalSeconds));
                var ctx = rejected.HttpContext;
                ctx.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return new ValueTask(writeProblem(ctx, Problems.Make(StatusCodes.Status429TooManyRequests, "Too many requests",
                    $"this client has sent more than {limit.Burst} requests at once or {limit.TokensPerSecond.ToString(CultureInfo.InvariantCulture)} a second on average (rateLimit); retry after {seconds} s.")));
            };
        });
    }

    // TokensPerSecond as whole tokens per refill period: one token every 1/rate seconds, or for rates above 20/s
    // several tokens every 50 ms.
    internal static TokenBucketRateLimiterOptions Bucket(RateLimitOptions limit)
    {
        var perPeriod = Math.Max(1, (int)Math.Ceiling(limit.TokensPerSecond * ShortestRefill.TotalSeconds));
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit.Burst,
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = TimeSpan.FromSeconds(perPeriod / limit.TokensPerSecond),
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }

    // The key's hash rather than the key (partitions live in memory for as long as the client is active).
    private static string ClientOf(HttpContext ctx)
    {
        var key = ctx.Request.Headers[SearchServer.ApiKeyHeader].ToString();
        return key.Length > 0
            ? "key:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))
            : "ip:" + (ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown");
    }
}
