// Commit points of the lexical store: every commit is labelled with the index generation it belongs to and the
// lexical format it was written in (its user data); the newest two commits are kept, so that a reader opening the
// previous generation still finds it; and a damaged directory is diagnosed with Lucene's CheckIndex.
using Lucene.Net.Index;
using Lucene.Net.Store;
using LuceneDirectory = Lucene.Net.Store.Directory;

namespace SemanticSearch.Lexical;

public sealed partial class LexicalIndex
{
    private const string GenerationKey = "semsearch.generation";

    /// <summary>
    /// The generation named in a commit's user data; null for a commit written before generations were recorded
    /// (such a commit matches any generation, so older indexes keep opening).
    /// </summary>
    private static long? GenerationOf(IndexCommit commit) =>
        commit.UserData.TryGetValue(GenerationKey, out var v) && long.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var g) ? g : null;

    // The lexical format of a commit: 1 when the commit data names none (written before document entries existed).
    private static int FormatOf(IndexCommit commit) =>
        commit.UserData.TryGetValue(FormatKey, out var v) && int.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var f) ? f : 1;

    private Dictionary<string, string> CommitData(long generation) => new()
    {
        [GenerationKey] = generation.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [FormatKey] = _format.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// The layout of the opened commit: 3 (this build's) is 2 with each document entry carrying the text hash;
    /// 2 has a document entry per document and ranks documents by whole-document BM25; 1 has chunk entries only, and
    /// documents score as their best chunk.
    /// </summary>
    public int Format => _format;

    /// <summary>True when documents are ranked on their document entries (<see cref="Format"/> 2 or later).</summary>
    public bool HasDocumentEntries => _format >= 2;

    private static IndexCommit? NewestCommit(LuceneDirectory directory)
    {
        if (!DirectoryReader.IndexExists(directory))
        {
            return null;
        }
        var commits = DirectoryReader.ListCommits(directory);
        return commits.Count == 0 ? null : commits[commits.Count - 1];
    }

    // The newest commit labelled with generation (commits are listed oldest first); an unlabelled newest commit is
    // taken as the generation asked for.
    private static IndexCommit? CommitOf(LuceneDirectory directory, long generation)
    {
        if (!DirectoryReader.IndexExists(directory))
        {
            return null;
        }
        var commits = DirectoryReader.ListCommits(directory);
        for (var i = commits.Count - 1; i >= 0; i--)
        {
            var g = GenerationOf(commits[i]);
            if (g == generation || (g is null && i == commits.Count - 1))
            {
                return commits[i];
            }
        }
        return null;
    }

    /// <summary>The generations named by the commits in the lexical directory at <paramref name="path"/>, oldest first (for checks).</summary>
    public static IReadOnlyList<long?> CommitGenerations(string path)
    {
        using var dir = FSDirectory.Open(path);
        if (!DirectoryReader.IndexExists(dir))
        {
            return [];
        }
        var result = new List<long?>();
        foreach (var c in DirectoryReader.ListCommits(dir))
        {
            result.Add(GenerationOf(c));
        }
        return result;
    }

    /// <summary>
    /// Runs Lucene's CheckIndex over the directory at <paramref name="path"/> (every segment read, checksums verified);
    /// returns null when clean, else a one-line description of what is wrong.
    /// </summary>
    public static string? Check(string path)
    {
        try
        {
            using var dir = FSDirectory.Open(path);
            var checker = new CheckIndex(dir);
            var status = checker.DoCheckIndex();
            if (status.Clean)
            {
                return null;
            }
            if (status.MissingSegments)
            {
                return "no readable segments file";
            }
            foreach (var seg in status.SegmentInfos)
            {
                if (seg.OpenReaderPassed == false || seg.FieldNormStatus?.Error is not null || seg.TermIndexStatus?.Error is not null
                    || seg.StoredFieldStatus?.Error is not null || seg.DocValuesStatus?.Error is not null || seg.TermVectorStatus?.Error is not null)
                {
                    return $"segment {seg.Name} is damaged";
                }
            }
            return $"{status.NumBadSegments} damaged segment(s)";
        }
        catch (Exception e) when (e is IOException or CorruptIndexException or IndexFormatTooOldException or IndexFormatTooNewException or EndOfStreamException or InvalidOperationException or IndexOutOfRangeException or ArgumentException)
        {
            return $"unreadable: {e.Message}";
        }
    }

    /// <summary>
    /// Checks the commit this read-only index opened, as CheckIndex would check it: every segment's checksums, norms,
    /// postings, stored fields, term vectors and doc values. The segments' files were opened with the commit, so a
    /// writer deleting them meanwhile (it keeps only its newest commits) changes nothing here, where
    /// <see cref="Check(string)"/> reads the directory's newest commit file by file. Returns null when clean, else a
    /// one-line description of what is wrong.
    /// </summary>
    public string? CheckOpenedCommit()
    {
        var reader = _reader ?? throw new InvalidOperationException("only a read-only index checks the commit it opened");
        foreach (var leaf in reader.Leaves)
        {
            var segment = leaf.AtomicReader;
            var name = segment is SegmentReader s ? s.SegmentName : leaf.Ord.ToString(System.Globalization.CultureInfo.InvariantCulture);
            try
            {
                segment.CheckIntegrity();
                var error = CheckIndex.TestFieldNorms(segment, null).Error
                    ?? CheckIndex.TestPostings(segment, null).Error
                    ?? CheckIndex.TestStoredFields(segment, null).Error
                    ?? CheckIndex.TestTermVectors(segment, null).Error
                    ?? CheckIndex.TestDocValues(segment, null).Error;
                if (error is not null)
                {
                    return $"segment {name} is damaged: {error.Message}";
                }
            }
            catch (Exception e) when (e is IOException or CorruptIndexException or EndOfStreamException or InvalidOperationException or IndexOutOfRangeException or ArgumentException)
            {
                return $"segment {name} is damaged: {e.Message}";
            }
        }
        return null;
    }

    /// <summary>Keeps the newest <c>count</c> commits, so a reader opening the previous generation still finds it.</summary>
    private sealed class KeepLastCommits(int count) : IndexDeletionPolicy
    {
        public override void OnInit<T>(IList<T> commits)
        {
            // nothing is deleted at open: an interrupted newer commit is dropped by the commits that follow
        }

        public override void OnCommit<T>(IList<T> commits)
        {
            for (var i = 0; i < commits.Count - count; i++)
            {
                commits[i].Delete();
            }
        }
    }
}
