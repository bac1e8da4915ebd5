// Loading a WordPiece tokenizer from a model's files: BERT vocab.txt, or the Hugging Face tokenizer.json (its
// normalizer flags, added tokens and special-token ids), whichever a model directory holds.
using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SemanticSearch.Core;
using SemanticSearch.Models;

namespace SemanticSearch.Embeddings.Tokenization;

public sealed partial class WordPieceTokenizer
{
    /// <summary>Loads a BERT <c>vocab.txt</c> (one token a line, the line number is the id).</summary>
    public static WordPieceTokenizer FromVocabFile(string path, WordPieceOptions? options = null)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            var id = 0;
            foreach (var line in File.ReadLines(path))
            {
                var token = line.TrimEnd('\r');
                vocab.TryAdd(token, id);
                id++;
            }
        }
        catch (IOException e)
        {
            throw new NotFoundException($"{path}: cannot read the vocabulary ({e.Message})");
        }

        if (vocab.Count == 0)
        {
            throw new CorruptDataException(path, "the vocabulary is empty");
        }

        // The Hugging Face BERT tokenizer never splits its special tokens when they appear in the text.
        var specials = new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" }
            .Where(vocab.ContainsKey).Select(t => (t, vocab[t]));
        return new WordPieceTokenizer(vocab, options ?? new WordPieceOptions(), specials, "[UNK]", null, null, null, path);
    }

    /// <summary>
    /// Loads a Hugging Face <c>tokenizer.json</c> whose model is WordPiece with a BertNormalizer and BertPreTokenizer;
    /// the normaliser flags, unknown token, word length limit, added tokens and special-token ids come from the file.
    /// </summary>
    public static WordPieceTokenizer FromTokenizerJson(string path)
    {
        JsonDocument document;
        try
        {
            using var stream = File.OpenRead(path);
            document = JsonDocument.Parse(stream);
        }
        catch (IOException e)
        {
            throw new NotFoundException($"{path}: cannot read the tokenizer ({e.Message})");
        }
        catch (JsonException e)
        {
            throw new CorruptDataException(path, $"not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            {
                throw new CorruptDataException(path, "field 'model' is missing");
            }

            var modelType = model.TryGetProperty("type", out var mt) ? mt.GetString() : null;
            if (modelType != "WordPiece")
            {
                throw new InvalidSettingException($"{path}: model.type", $"'{modelType}' is not supported; only WordPiece tokenizers are");
            }

            if (!model.TryGetProperty("vocab", out var vocabElement) || vocabElement.ValueKind != JsonValueKind.Object)
            {
                throw new CorruptDataException(path, "field 'model.vocab' is missing");
            }

            var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var entry in vocabElement.EnumerateObject())
            {
                vocab[entry.Name] = entry.Value.GetInt32();
            }

            var unk = model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()! : "[UNK]";
            var maxChars = model.TryGetProperty("max_input_chars_per_word", out var mc) && mc.ValueKind == JsonValueKind.Number ? mc.GetInt32() : 100;
            if (model.TryGetProperty("continuing_subword_prefix", out var csp) && csp.ValueKind == JsonValueKind.String && csp.GetString() != ContinuationPrefix)
            {
                throw new InvalidSettingException($"{path}: model.continuing_subword_prefix", $"only '{ContinuationPrefix}' is supported");
            }

            var options = new WordPieceOptions(Lowercase: false, StripAccents: false, HandleChineseChars: false, CleanText: false, MaxInputCharsPerWord: maxChars);
            if (root.TryGetProperty("normalizer", out var normalizer) && normalizer.ValueKind == JsonValueKind.Object)
            {
                var type = normalizer.TryGetProperty("type", out var nt) ? nt.GetString() : null;
                if (type != "BertNormalizer")
                {
                    throw new InvalidSettingException($"{path}: normalizer.type", $"'{type}' is not supported; only BertNormalizer is");
                }

                var lowercase = Flag(normalizer, "lowercase", true);
                options = options with
                {
                    Lowercase = lowercase,
                    StripAccents = normalizer.TryGetProperty("strip_accents", out var sa) && sa.ValueKind is JsonValueKind.True or JsonValueKind.False
                        ? sa.GetBoolean()
                        : lowercase,
                    HandleChineseChars = Flag(normalizer, "handle_chinese_chars", true),
                    CleanText = Flag(normalizer, "clean_text", true),
                };
            }

            if (root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind == JsonValueKind.Object)
            {
                var type = pre.TryGetProperty("type", out var pt) ? pt.GetString() : null;
                if (type != "BertPreTokenizer")
                {
                    throw new InvalidSettingException($"{path}: pre_tokenizer.type", $"'{type}' is not supported; only BertPreTokenizer is");
                }
            }

            var added = new List<(string, int)>();
            if (root.TryGetProperty("added_tokens", out var addedElement) && addedElement.ValueKind == JsonValueKind.Array)
            {
                foreach (var token in addedElement.EnumerateArray())
                {
                    added.Add((token.GetProperty("content").GetString()!, token.GetProperty("id").GetInt32()));
                    vocab.TryAdd(added[^1].Item1, added[^1].Item2);
                }
            }

            int? cls = null, sep = null;
            if (root.TryGetProperty("post_processor", out var post) && post.ValueKind == JsonValueKind.Object)
            {
                if (post.TryGetProperty("special_tokens", out var specials) && specials.ValueKind == JsonValueKind.Object)
                {
                    cls = SpecialId(specials, "[CLS]");
                    sep = SpecialId(specials, "[SEP]");
                }
                else if (post.TryGetProperty("cls", out var c) && post.TryGetProperty("sep", out var s))
                {
                    cls = c[1].GetInt32();
                    sep = s[1].GetInt32();
                }
            }

            int? pad = root.TryGetProperty("padding", out var padding) && padding.ValueKind == JsonValueKind.Object
                && padding.TryGetProperty("pad_id", out var pid) ? pid.GetInt32() : null;
            return new WordPieceTokenizer(vocab, options, added, unk, cls, sep, pad, path);
        }
    }

    /// <summary>
    /// Loads the tokenizer of a model directory: <c>tokenizer.json</c> when present (it carries the normaliser
    /// settings), else <c>vocab.txt</c> with the uncased BERT defaults.
    /// </summary>
    public static WordPieceTokenizer FromDirectory(string directory)
    {
        var json = Path.Combine(directory, "tokenizer.json");
        if (File.Exists(json))
        {
            return FromTokenizerJson(json);
        }

        var vocab = Path.Combine(directory, "vocab.txt");
        if (File.Exists(vocab))
        {
            return FromVocabFile(vocab);
        }

        throw new NotFoundException($"{directory}: no tokenizer.json or vocab.txt found");
    }

    /// <inheritdoc />
    private static bool Flag(JsonElement element, string name, bool fallback) =>
        element.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : fallback;

    private static int? SpecialId(JsonElement specials, string token) =>
        specials.TryGetProperty(token, out var entry) && entry.TryGetProperty("ids", out var ids) && ids.GetArrayLength() > 0
            ? ids[0].GetInt32()
            : null;

    private static int Required(Dictionary<string, int> vocab, string token, string source) =>
        vocab.TryGetValue(token, out var id) ? id : throw new InvalidSettingException(source, $"the special token '{token}' is not in the vocabulary");
}
