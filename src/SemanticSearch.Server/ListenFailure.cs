// Kestrel reports a bind it cannot make as an IOException wrapping AddressInUseException, or as a bare SocketException;
// both are expected failures of a start (another server on the port, an address of another machine), said here in one
// line that names the address, from the exceptions' types and socket error codes, never from their message text.
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using SemanticSearch.Core;

namespace SemanticSearch.Server;

/// <summary>The service could not listen on one of its addresses; the message names it and why.</summary>
public sealed class ListenException(string message, Exception inner) : SemanticSearchException(message, inner);

/// <summary>Starts the service, turning a failed bind into <see cref="ListenException"/>.</summary>
public static class ListenFailure
{
    /// <summary>
    /// Starts <paramref name="app"/>. A bind that fails (the port in use, an address this machine does not have, a
    /// privileged port) throws <see cref="ListenException"/> naming <paramref name="urls"/>; anything else propagates.
    /// </summary>
    public static async Task StartAsync(WebApplication app, string urls, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(app);
        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (Reason(e) is { } reason)
        {
            throw new ListenException($"cannot listen on {urls.Replace(";", ", ", StringComparison.Ordinal)}: {reason}.", e);
        }
    }

    /// <summary>Why a start failed to bind, in words, or null when <paramref name="e"/> is no bind failure.</summary>
    internal static string? Reason(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case AddressInUseException:
                    return "the port is in use";
                case SocketException s:
                    return s.SocketErrorCode switch
                    {
                        SocketError.AddressAlreadyInUse => "the port is in use",
                        SocketError.AddressNotAvailable => "the address is not one of this machine's",
                        SocketError.AccessDenied => "permission denied (ports below 1024 need privileges)",
                        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "the host name does not resolve",
                        _ => $"{s.SocketErrorCode} (socket error {s.ErrorCode})",
                    };
                case AggregateException { InnerExceptions.Count: 1 } a:
                    return Reason(a.InnerExceptions[0]);
            }
        }
        return null;
    }
}
