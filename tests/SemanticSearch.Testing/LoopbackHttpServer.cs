using System.Net;
using System.Net.Sockets;

namespace SemanticSearch.Testing;

/// <summary>
/// An HttpListener on 127.0.0.1 at a free port, handing every request to one handler and closing the response after
/// it; a client that goes away mid-answer is ignored. The stand-in hosts (the Hugging Face hub, the NuGet feed, the npm registry) are
/// built on it.
/// </summary>
public sealed class LoopbackHttpServer : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Action<HttpListenerContext> _handle;
    private readonly bool _concurrent;
    private readonly Task _loop;

    /// <param name="handle">Answers one request (the response is closed afterwards).</param>
    /// <param name="concurrent">Handle requests in parallel (a download may stall while others are answered).</param>
    public LoopbackHttpServer(Action<HttpListenerContext> handle, bool concurrent = false)
    {
        _handle = handle;
        _concurrent = concurrent;
        for (var attempt = 0; ; attempt++)
        {
            // a fresh listener per attempt: one whose Start failed keeps the refused port in its endpoint table, and
            // its Close would then try to bind that port again
            var listener = new HttpListener();
            var port = FreePort();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                _listener = listener;
                Endpoint = $"http://127.0.0.1:{port}";
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                try
                {
                    listener.Abort();
                }
                catch (HttpListenerException)
                {
                    // the port is someone else's now; nothing of ours is left on it
                }
            }
        }
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The base URL, without a trailing slash.</summary>
    public string Endpoint { get; } = "";

    /// <summary>A TCP port nobody listens on at the moment of asking.</summary>
    public static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        try
        {
            _listener.Stop();
            _listener.Close();
        }
        catch (HttpListenerException)
        {
            // closing a stub: a port another process took since cannot be released twice
        }
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            if (_concurrent)
            {
                _ = Task.Run(() => Answer(context));
            }
            else
            {
                Answer(context);
            }
        }
    }

    private void Answer(HttpListenerContext context)
    {
        try
        {
            _handle(context);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // the client went away, or the handler aborted the response on purpose
        }
        finally
        {
            try
            {
                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
            {
            }
        }
    }
}
