using System.Diagnostics;
using System.Text.Json;

namespace SemanticSearch.Embeddings.Tests;

/// <summary>
/// The independent reference: the real tokenizer.json run by the pure-JS @huggingface/tokenizers package
/// (tests/reference/tokenizer, installed with <c>npm ci</c>). Missing Node or a missing install is a test failure
/// with instructions, never a skip.
/// </summary>
internal static class ReferenceTokenizer
{
    public static int[][] Encode(string tokenizerJson, IReadOnlyList<string> texts)
    {
        var scriptDir = Path.Combine(TestPaths.RepositoryRoot, "tests", "reference", "tokenizer");
        var setup = $"install it with: cd {scriptDir} && npm ci";
        if (!Directory.Exists(Path.Combine(scriptDir, "node_modules", "@huggingface", "tokenizers")))
        {
            throw new InvalidOperationException($"the reference tokenizer package @huggingface/tokenizers is not installed; {setup}");
        }

        var start = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = scriptDir,
            StandardInputEncoding = new System.Text.UTF8Encoding(false),
            StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        start.ArgumentList.Add(Path.Combine(scriptDir, "encode.mjs"));
        start.ArgumentList.Add(tokenizerJson);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Node.js ('node') is required for the reference tokenizer test but could not be started ({e.Message}); install Node 20, then {setup}", e);
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            process.StandardInput.Write(JsonSerializer.Serialize(texts));
            process.StandardInput.Close();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"the reference tokenizer failed (exit {process.ExitCode}): {stderr.Result}; {setup}");
            }

            return JsonSerializer.Deserialize<int[][]>(stdout.Result)
                ?? throw new InvalidOperationException("the reference tokenizer printed nothing");
        }
    }
}
