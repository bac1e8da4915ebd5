// Every error leaves the service as RFC 7807 problem+json: the status, a short title, a detail written for the user
// that names the field or resource at fault, and (for bad input) the field itself as an extension member.
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using SemanticSearch.Core;
using SemanticSearch.Engine.Indexing;

namespace SemanticSearch.Server;

internal static class Problems
{
    public const string ContentType = "application/problem+json";

    /// <summary>The problem an exception becomes; null for exceptions that are bugs (answered as a bare 500).</summary>
    public static ProblemDetails? From(Exception e) => e switch
    {
        InvalidSettingException s => Make(StatusCodes.Status400BadRequest, "Invalid request", s.Message, s.Setting),
        JsonException j => Make(StatusCodes.Status400BadRequest, "Invalid JSON", JsonMessage(j), FieldOf(j.Path)),
        NotFoundException n => Make(StatusCodes.Status404NotFound, "Not found", n.Message),
        FolderRefusedException f => Make(StatusCodes.Status403Forbidden, "Folder not allowed", f.Message, "folder"),
        IndexBusyException b => Make(StatusCodes.Status409Conflict, "Index busy", b.Message),
        UpsertBudgetException u => Make(StatusCodes.Status503ServiceUnavailable, "Upsert over budget", u.Message, "documents"),
        DocumentIdTakenException t => Make(StatusCodes.Status409Conflict, "Id taken", t.Message, t.Field),
        ModelMismatchException m => Make(StatusCodes.Status409Conflict, "Model mismatch", m.Message),
        SourceFileException f => f.Problem switch
        {
            SourceFileProblem.OutsideFolder => Make(StatusCodes.Status403Forbidden, "File not served", f.Message, "id"),
            SourceFileProblem.Unreadable => Make(StatusCodes.Status500InternalServerError, "File unreadable", f.Message, "id"),
            _ => Make(StatusCodes.Status404NotFound, "No file", f.Message, "id"),
        },
        CorruptDataException c => Make(StatusCodes.Status500InternalServerError, "Damaged index data", c.Message),
        SemanticSearchException x => Make(StatusCodes.Status500InternalServerError, "Search engine error", x.Message),
        BadHttpRequestException b when b.StatusCode == StatusCodes.Status413PayloadTooLarge =>
            Make(b.StatusCode, "Request too large", "the request body is larger than this server accepts (see maxRequestBytes)."),
        BadHttpRequestException b when b.InnerException is JsonException j => From(j),
        BadHttpRequestException b => Make(b.StatusCode, "Bad request", b.Message),
        _ => null,
    };

    /// <summary>
    /// <paramref name="detail"/> with the indexes root cut from every path ("/srv/indexes/notes/metadata.db" becomes
    /// "notes/metadata.db"), so problem details name the index and the file but not the server's folders.
    /// </summary>
    public static string? WithoutServerPaths(string? detail, string indexesRoot)
    {
        if (detail is null)
        {
            return null;
        }
        var root = Path.TrimEndingDirectorySeparator(indexesRoot);
        var real = Engine.Indexing.RealPaths.Resolve(root);
        foreach (var r in real == root ? new[] { root } : [real, root])
        {
            detail = detail.Replace(r + Path.DirectorySeparatorChar, "", StringComparison.Ordinal).Replace(r, "<indexes>", StringComparison.Ordinal);
        }
        return detail;
    }

    public static ProblemDetails Make(int status, string title, string detail, string? field = null)
    {
        var p = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = $"https://httpstatuses.io/{status}" };
        if (field is not null)
        {
            p.Extensions["field"] = field;
        }
        return p;
    }

    public static IResult Result(int status, string title, string detail, string? field = null) =>
        Results.Problem(Make(status, title, detail, field));

    // "$.fusion.k" → "fusion.k"; "$" (the whole body) → "body".
    internal static string FieldOf(string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath) || jsonPath == "$")
        {
            return "body";
        }
        var f = jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath.TrimStart('$');
        return f.Length == 0 ? "body" : f;
    }

    // System.Text.Json's messages mention .NET type names; keep the part a client can act on. (Unknown fields never get
    // here: UnknownFields refuses them against the body type's contract first.)
    private static string JsonMessage(JsonException j)
    {
        var field = FieldOf(j.Path);
        return field == "body"
            ? "body: is not valid JSON or not a JSON object."
            : $"{field}: has the wrong type or is not valid JSON.";
    }
}
