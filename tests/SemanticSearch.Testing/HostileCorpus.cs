// A deterministic corpus of hostile inputs for the folder indexer (issue #8): broken and encrypted PDFs, zip bombs
// named .docx, pathological HTML and JSON nesting, empty, huge and binary-in-disguise files, odd encodings, odd
// names, symbolic-link loops, unreadable entries and special files. Everything is generated at test time, so no
// binary is committed; each entry records what the indexer must do with it, decided from the input's construction
// (or, for permissions, from what the operating system lets this process do), never from the indexer's output.
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace SemanticSearch.Testing;

/// <summary>What the indexer must do with a corpus entry.</summary>
public enum Outcome
{
    /// <summary>Indexed: a search for the planted word finds it.</summary>
    Indexed,

    /// <summary>Listed in the report's <c>skipped</c> with a reason.</summary>
    Skipped,

    /// <summary>Never listed: a symbolic link, a hidden entry or an unsupported extension.</summary>
    NotListed,
}

/// <summary>One hostile input.</summary>
/// <param name="Id">Path relative to the corpus root with '/' separators: the document id the indexer uses.</param>
/// <param name="Expected">What the indexer must do with it.</param>
/// <param name="Word">A word planted in its text (a search for it must find exactly this file), or null.</param>
/// <param name="Reason">For skipped entries: a fragment the skip reason must contain (case-insensitive).</param>
/// <param name="What">What the entry is, for failure messages.</param>
public sealed record CorpusEntry(string Id, Outcome Expected, string? Word, string? Reason, string What);

/// <summary>Writes the hostile corpus into a folder.</summary>
public static class HostileCorpus
{
    /// <summary>Size of the huge file: over the default 50 MB per-file limit, written sparse so it costs no disk.</summary>
    public const long HugeFileBytes = 200L * 1024 * 1024;

    /// <summary>Nesting depth of the deep HTML and JSON files.</summary>
    public const int NestingDepth = 100_000;

    /// <summary>Writes every entry under <paramref name="root"/> (which must exist and be empty) and returns them.</summary>
    /// <param name="root">Target folder.</param>
    /// <param name="hugeFile">Whether to write the 200 MB sparse file (tests that only want the rest leave it out).</param>
    public static IReadOnlyList<CorpusEntry> Write(string root, bool hugeFile = true)
    {
        var entries = new List<CorpusEntry>();
        void Text(string id, string content, string word, string what)
        {
            WriteBytes(root, id, Encoding.UTF8.GetBytes(content));
            entries.Add(new CorpusEntry(id, Outcome.Indexed, word, null, what));
        }

        // Controls: one well-formed file per extractor, so a broken extractor cannot pass as "everything skipped".
        Text("plain.txt", "Plain control file\n\nThe word hostileplaincontrol is in here.", "hostileplaincontrol", "plain text control");
        WriteBytes(root, "valid.pdf", Pdf("hostilepdfcontrol appears on the only page"));
        entries.Add(new("valid.pdf", Outcome.Indexed, "hostilepdfcontrol", null, "valid PDF control"));
        WriteBytes(root, "valid.docx", Docx("hostiledocxcontrol is in the body"));
        entries.Add(new("valid.docx", Outcome.Indexed, "hostiledocxcontrol", null, "valid DOCX control"));

        // PDFs: cut in half (no xref, no trailer), and one whose trailer names an /Encrypt dictionary.
        var pdf = Pdf("hostiletruncatedpdf should never be read");
        WriteBytes(root, "truncated.pdf", pdf[..(pdf.Length / 2)]);
        entries.Add(new("truncated.pdf", Outcome.Skipped, null, "PDF", "PDF truncated to half its length"));
        WriteBytes(root, "encrypted.pdf", EncryptedPdf());
        entries.Add(new("encrypted.pdf", Outcome.Skipped, null, "encrypted", "PDF with an /Encrypt dictionary (RC4, unknown password)"));

        // A 3 MB PDF whose page content stream inflates to 300 MB (spaces after one line of text).
        WriteBytes(root, "pdf-bomb.pdf", FlatePdf(PdfBombContent(300L << 20), image: null));
        entries.Add(new("pdf-bomb.pdf", Outcome.Skipped, null, "decompression bomb", "content stream inflating to 300 MB"));

        // DOCX: an honest zip bomb (sizes declared), one that lies about its sizes, and plain text named .docx.
        WriteBytes(root, "bomb.docx", ZipBomb(lieAboutSize: false));
        entries.Add(new("bomb.docx", Outcome.Skipped, null, "zip bomb", "64 MiB of XML deflated to ~64 KiB"));
        WriteBytes(root, "lying-bomb.docx", ZipBomb(lieAboutSize: true));
        entries.Add(new("lying-bomb.docx", Outcome.Skipped, null, "DOCX", "zip bomb whose headers declare 1 KiB uncompressed"));
        WriteBytes(root, "not-a-zip.docx", Encoding.UTF8.GetBytes("just some words hostilenotazip in a file named .docx"));
        entries.Add(new("not-a-zip.docx", Outcome.Skipped, null, "DOCX", "plain text named .docx"));

        // Nesting: 100k divs around a word; 100k JSON arrays around a word (over the JSON depth limit: read as text).
        var html = new StringBuilder(NestingDepth * 11 + 64);
        html.Insert(0, "<div>", NestingDepth).Append(" hostiledeephtml ").Insert(html.Length, "</div>", NestingDepth);
        Text("nested.html", html.ToString(), "hostiledeephtml", $"{NestingDepth:N0} nested <div> elements");
        var json = new StringBuilder(NestingDepth * 2 + 64);
        json.Insert(0, "[", NestingDepth).Append("\"hostiledeepjson\"").Insert(json.Length, "]", NestingDepth);
        Text("nested.json", json.ToString(), "hostiledeepjson", $"{NestingDepth:N0} nested JSON arrays");

        // Sizes: empty, whitespace only, and a 200 MB sparse file.
        WriteBytes(root, "empty.txt", []);
        entries.Add(new("empty.txt", Outcome.Skipped, null, "empty", "0-byte file"));
        WriteBytes(root, "whitespace.md", Encoding.UTF8.GetBytes(" \n\t\r\n   \n"));
        entries.Add(new("whitespace.md", Outcome.Skipped, null, "no text", "whitespace only"));
        if (hugeFile)
        {
            using (var fs = new FileStream(Path.Combine(root, "huge.txt"), FileMode.CreateNew))
            {
                fs.SetLength(HugeFileBytes); // sparse: a hole, no data blocks
            }
            entries.Add(new("huge.txt", Outcome.Skipped, null, "limit", "200 MB sparse file"));
        }

        // Encodings.
        var invalidUtf8 = new List<byte>();
        invalidUtf8.AddRange(Encoding.UTF8.GetBytes("broken bytes: "));
        invalidUtf8.AddRange([0xC3, 0x28, 0x20, 0xFF, 0xFE, 0x20, 0x80, 0x20, 0xED, 0xA0, 0x80, 0x20, 0xF8, 0x88, 0x80, 0x80, 0x80]);
        invalidUtf8.AddRange(Encoding.UTF8.GetBytes(" and then hostileinvalidutf words."));
        WriteBytes(root, "invalid-utf8.txt", [.. invalidUtf8]);
        entries.Add(new("invalid-utf8.txt", Outcome.Indexed, "hostileinvalidutf", null, "invalid UTF-8 sequences (overlong, surrogate, 0xFF)"));
        const string Unicode = "Café, naïve, 日本語, العربية — hostileutfsixteen ";
        WriteBytes(root, "utf16le.txt", [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(Unicode + "littleendian")]);
        entries.Add(new("utf16le.txt", Outcome.Indexed, "littleendian", null, "UTF-16 LE with BOM"));
        WriteBytes(root, "utf16be.txt", [0xFE, 0xFF, .. Encoding.BigEndianUnicode.GetBytes(Unicode + "bigendian")]);
        entries.Add(new("utf16be.txt", Outcome.Indexed, "bigendian", null, "UTF-16 BE with BOM"));
        WriteBytes(root, "utf16le-nobom.txt", Encoding.Unicode.GetBytes("no byte order mark hostilenobom"));
        entries.Add(new("utf16le-nobom.txt", Outcome.Skipped, null, "binary", "UTF-16 LE without BOM (NUL bytes: read as binary)"));

        // NUL bytes: early (binary in disguise), and late, past the 8 KiB sniff window (stripped, text indexed).
        WriteBytes(root, "nul-early.txt", [.. Encoding.UTF8.GetBytes("text hostilenulearly"), 0, .. Encoding.UTF8.GetBytes(" more text")]);
        entries.Add(new("nul-early.txt", Outcome.Skipped, null, "NUL", "a NUL byte in the first 8 KiB"));
        var late = new StringBuilder();
        while (late.Length < 12_000)
        {
            late.Append("ordinary filler sentence number ").Append(late.Length).Append(".\n");
        }
        WriteBytes(root, "nul-late.txt", [.. Encoding.UTF8.GetBytes(late.ToString()), 0, 0, .. Encoding.UTF8.GetBytes(" hostilenullate after the NULs")]);
        entries.Add(new("nul-late.txt", Outcome.Indexed, "hostilenullate", null, "NUL bytes after 12 KB of text"));

        // Lines of 10,000 characters with no spaces: ASCII, CJK (3 UTF-8 bytes each) and emoji (4 bytes, a surrogate
        // pair each: 40,000 bytes, over Lucene's 32,766-byte term limit if a tokenizer ever kept it whole).
        var lines = new StringBuilder();
        lines.Append('x', 10_000).Append('\n');
        lines.Append('漢', 10_000).Append('\n');
        lines.Insert(lines.Length, "😀", 10_000).Append('\n');
        lines.Append(string.Concat(Enumerable.Repeat("ab1-", 2_500))).Append('\n');
        lines.Append("the only short line says hostilelonglines\n");
        Text("long-lines.txt", lines.ToString(), "hostilelonglines", "10,000-character lines without spaces");

        // Names: newline, CJK, Arabic, emoji, and a path 60 folders deep.
        Text("line\nbreak.txt", "a file name with a newline: hostilenewlinename", "hostilenewlinename", "newline in the file name");
        Text("日本語の文書.txt", "CJK file name hostilecjkname", "hostilecjkname", "CJK file name");
        Text("وثيقة عربية.txt", "Arabic file name hostilearabicname", "hostilearabicname", "Arabic file name with a space");
        Text("emoji 📄🚀.md", "# Emoji\n\nemoji file name hostileemojiname", "hostileemojiname", "emoji file name");
        var deep = string.Join('/', Enumerable.Repeat("d", 60)) + "/deep.txt";
        Text(deep, "sixty folders down: hostiledeepfolder", "hostiledeepfolder", "a path 60 folders deep");

        // Binary in disguise, unsupported and hidden files.
        var random = new Random(8);
        var noise = new byte[4096];
        random.NextBytes(noise);
        WriteBytes(root, "binary.md", noise);
        entries.Add(new("binary.md", Outcome.Skipped, null, "binary", "random bytes named .md"));
        WriteBytes(root, "program.exe", noise);
        entries.Add(new("program.exe", Outcome.NotListed, null, null, "unsupported extension"));
        WriteBytes(root, ".hidden/secret.txt", Encoding.UTF8.GetBytes("hostilehiddenfile"));
        entries.Add(new(".hidden/secret.txt", Outcome.NotListed, null, null, "file in a hidden folder"));

        // Symbolic links: never followed, so never listed, never a loop, never a second copy of a file.
        Directory.CreateDirectory(Path.Combine(root, "links"));
        File.CreateSymbolicLink(Path.Combine(root, "links", "loop-a.txt"), "loop-b.txt");
        File.CreateSymbolicLink(Path.Combine(root, "links", "loop-b.txt"), "loop-a.txt");
        entries.Add(new("links/loop-a.txt", Outcome.NotListed, null, null, "file symlink loop (a → b)"));
        entries.Add(new("links/loop-b.txt", Outcome.NotListed, null, null, "file symlink loop (b → a)"));
        Directory.CreateSymbolicLink(Path.Combine(root, "links", "up"), "..");
        Directory.CreateSymbolicLink(Path.Combine(root, "links", "self"), ".");
        File.CreateSymbolicLink(Path.Combine(root, "links", "copy-of-plain.txt"), "../plain.txt");
        entries.Add(new("links/copy-of-plain.txt", Outcome.NotListed, null, null, "file symlink to a corpus file"));
        File.CreateSymbolicLink(Path.Combine(root, "links", "dangling.txt"), "/nonexistent/hostile/target.txt");
        entries.Add(new("links/dangling.txt", Outcome.NotListed, null, null, "dangling file symlink"));

        if (!OperatingSystem.IsWindows())
        {
            WriteUnixOnly(root, entries);
        }
        return entries;
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void WriteUnixOnly(string root, List<CorpusEntry> entries)
    {
        // Permissions: mode 000. Root reads it anyway (CAP_DAC_OVERRIDE); anyone else must get a skip, not a crash.
        var locked = Path.Combine(root, "unreadable.txt");
        File.WriteAllText(locked, "mode 000 file hostileunreadable");
        File.SetUnixFileMode(locked, UnixFileMode.None);
        entries.Add(CanRead(locked)
            ? new("unreadable.txt", Outcome.Indexed, "hostileunreadable", null, "mode 000 file, readable to this (root) process")
            : new("unreadable.txt", Outcome.Skipped, null, "permission denied", "mode 000 file"));

        // A FIFO named .txt: opening it for reading would block until a writer comes; the job must not hang. A FIFO
        // reports length 0, so the indexer skips it as empty before ever opening it.
        var fifo = Path.Combine(root, "pipe.txt");
        if (MkFifo(Encoding.UTF8.GetBytes(fifo + "\0"), 0b110_100_100) != 0)
        {
            throw new IOException($"mkfifo {fifo} failed (errno {Marshal.GetLastPInvokeError()})");
        }
        entries.Add(new("pipe.txt", Outcome.Skipped, null, "empty", "a named pipe (FIFO) named .txt"));

        // A name that is not valid UTF-8: .NET lists it with U+FFFD in place of the bad byte, and opening that
        // decoded name fails, just as for a file deleted between listing and reading.
        var badName = Encoding.UTF8.GetBytes(Path.Combine(root, "latin1-")).Concat(new byte[] { 0xE9 }).Concat(Encoding.UTF8.GetBytes(".txt\0")).ToArray();
        var fd = Open(badName, 0x41 /* O_WRONLY | O_CREAT */, 0b110_100_100);
        if (fd < 0)
        {
            throw new IOException($"creating a file with a non-UTF-8 name failed (errno {Marshal.GetLastPInvokeError()})");
        }
        var content = Encoding.UTF8.GetBytes("hostilebadname");
        _ = WriteFd(fd, content, content.Length);
        _ = Close(fd);
        entries.Add(new("latin1-\uFFFD.txt", Outcome.Skipped, null, "cannot read", "file name with a non-UTF-8 byte (gone by its decoded name)"));
    }

    /// <summary>
    /// Removes a corpus folder, including the entries .NET cannot delete by name (the non-UTF-8 one) and the 200 MB
    /// sparse file.
    /// </summary>
    public static void Delete(string root)
    {
        if (!Directory.Exists(root))
        {
            return;
        }
        if (!OperatingSystem.IsWindows())
        {
            _ = Unlink(Encoding.UTF8.GetBytes(Path.Combine(root, "latin1-")).Concat(new byte[] { 0xE9 }).Concat(Encoding.UTF8.GetBytes(".txt\0")).ToArray());
        }
        Directory.Delete(root, recursive: true);
    }

    private static bool CanRead(string path)
    {
        try
        {
            using var _ = File.OpenRead(path);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void WriteBytes(string root, string id, byte[] bytes)
    {
        var full = Path.Combine(root, id.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
    }

    /// <summary>A one-page PDF with <paramref name="text"/> on it, written by PdfPig's builder.</summary>
    public static byte[] Pdf(string text)
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        var page = builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4);
        page.AddText(text, 12, new PdfPoint(40, 700), font);
        return builder.Build();
    }

    /// <summary>A PDF with one page per item of <paramref name="pages"/>, each holding that line of text (an empty one: a page without text).</summary>
    public static byte[] PdfPages(IReadOnlyList<string> pages)
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        foreach (var text in pages)
        {
            var page = builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4);
            if (text.Length > 0)
            {
                page.AddText(text, 12, new PdfPoint(40, 700), font);
            }
        }
        return builder.Build();
    }

    /// <summary>A DOCX whose body is one paragraph of <paramref name="text"/>.</summary>
    public static byte[] Docx(string text)
    {
        using var ms = new MemoryStream();
        using (var doc = WordprocessingDocument.Create(ms, DocumentFormat.OpenXml.WordprocessingDocumentType.Document))
        {
            var main = doc.AddMainDocumentPart();
            main.Document = new Document(new Body(new Paragraph(new Run(new Text(text)))));
            main.Document.Save();
        }
        return ms.ToArray();
    }

    /// <summary>
    /// A minimal PDF written by hand whose trailer points at a Standard security handler dictionary (RC4, revision 2)
    /// with /O and /U values that no password (the empty one included) authenticates against.
    /// </summary>
    public static byte[] EncryptedPdf()
    {
        var hex = string.Concat(Enumerable.Repeat("5A", 32));
        string[] objects =
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            "<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 712 Td (secret words) Tj ET\nendstream",
            $"<< /Filter /Standard /V 1 /R 2 /Length 40 /O <{hex}> /U <{hex}> /P -44 >>",
        ];
        var sb = new StringBuilder("%PDF-1.4\n");
        var offsets = new List<int>();
        for (var i = 0; i < objects.Length; i++)
        {
            offsets.Add(Encoding.ASCII.GetByteCount(sb.ToString()));
            sb.Append(i + 1).Append(" 0 obj\n").Append(objects[i]).Append("\nendobj\n");
        }
        var xref = Encoding.ASCII.GetByteCount(sb.ToString());
        sb.Append("xref\n0 ").Append(objects.Length + 1).Append('\n').Append("0000000000 65535 f \n");
        foreach (var o in offsets)
        {
            sb.Append(o.ToString("D10", System.Globalization.CultureInfo.InvariantCulture)).Append(" 00000 n \n");
        }
        sb.Append("trailer\n<< /Size ").Append(objects.Length + 1)
            .Append(" /Root 1 0 R /Encrypt 5 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>] >>\n")
            .Append("startxref\n").Append(xref).Append("\n%%EOF\n");
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>The content of a page stream: one line of text, then <paramref name="bytes"/> of spaces, zlib-compressed.</summary>
    public static byte[] PdfBombContent(long bytes)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            z.Write("BT /F1 12 Tf 72 712 Td (hostilepdfbomb) Tj ET\n"u8);
            var block = new byte[1 << 20];
            Array.Fill(block, (byte)' ');
            for (long written = 0; written < bytes; written += block.Length)
            {
                z.Write(block, 0, (int)Math.Min(block.Length, bytes - written));
            }
        }
        return ms.ToArray();
    }

    /// <summary>
    /// A one-page PDF written by hand whose page content is the zlib data <paramref name="content"/> (/FlateDecode),
    /// with an optional Flate-compressed image XObject holding <paramref name="image"/>.
    /// </summary>
    public static byte[] FlatePdf(byte[] content, byte[]? image)
    {
        var objects = new List<byte[]>
        {
            "<< /Type /Catalog /Pages 2 0 R >>"u8.ToArray(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"u8.ToArray(),
            Encoding.ASCII.GetBytes("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >>"
                + (image is null ? "" : " /XObject << /Im1 6 0 R >>") + " >> >>"),
            Concat(Encoding.ASCII.GetBytes($"<< /Length {content.Length} /Filter /FlateDecode >>\nstream\n"), content, "\nendstream"u8.ToArray()),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"u8.ToArray(),
        };
        if (image is not null)
        {
            objects.Add(Concat(Encoding.ASCII.GetBytes($"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {image.Length} /Filter /FlateDecode >>\nstream\n"),
                image, "\nendstream"u8.ToArray()));
        }
        var pdf = new List<byte>("%PDF-1.4\n"u8.ToArray());
        var offsets = new List<int>();
        for (var i = 0; i < objects.Count; i++)
        {
            offsets.Add(pdf.Count);
            pdf.AddRange(Encoding.ASCII.GetBytes($"{i + 1} 0 obj\n"));
            pdf.AddRange(objects[i]);
            pdf.AddRange("\nendobj\n"u8.ToArray());
        }
        var xref = pdf.Count;
        var tail = new StringBuilder($"xref\n0 {objects.Count + 1}\n0000000000 65535 f \n");
        foreach (var o in offsets)
        {
            tail.Append(o.ToString("D10", System.Globalization.CultureInfo.InvariantCulture)).Append(" 00000 n \n");
        }
        tail.Append($"trailer\n<< /Size {objects.Count + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n");
        pdf.AddRange(Encoding.ASCII.GetBytes(tail.ToString()));
        return [.. pdf];
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    /// <summary>
    /// A DOCX-shaped zip whose word/document.xml inflates to 64 MiB. With <paramref name="lieAboutSize"/>, the local
    /// and central headers claim 1 KiB uncompressed, so a guard that trusts the directory lets it through.
    /// </summary>
    public static byte[] ZipBomb(bool lieAboutSize)
    {
        const int MiB = 1 << 20;
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Small(string name, string content)
            {
                using var w = new StreamWriter(zip.CreateEntry(name).Open());
                w.Write(content);
            }
            Small("[Content_Types].xml", "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">" +
                "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>" +
                "<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>");
            Small("_rels/.rels", "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">" +
                "<Relationship Id=\"r1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>");
            using var s = zip.CreateEntry("word/document.xml", CompressionLevel.SmallestSize).Open();
            s.Write(Encoding.UTF8.GetBytes("<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>"));
            var block = new byte[MiB];
            Array.Fill(block, (byte)'a');
            for (var i = 0; i < 64; i++)
            {
                s.Write(block);
            }
            s.Write(Encoding.UTF8.GetBytes("</w:t></w:r></w:p></w:body></w:document>"));
        }
        var bytes = ms.ToArray();
        if (lieAboutSize)
        {
            PatchUncompressedSizes(bytes, "word/document.xml", 1024);
        }
        return bytes;
    }

    // Rewrites the uncompressed-size field of one entry in its local header (offset 22) and central header (offset 24).
    private static void PatchUncompressedSizes(byte[] zip, string name, uint size)
    {
        var nameBytes = Encoding.ASCII.GetBytes(name);
        var patched = 0;
        for (var i = 0; i + 46 < zip.Length; i++)
        {
            var sig = BitConverter.ToUInt32(zip, i);
            if (sig == 0x04034b50 && zip.AsSpan(i + 30, nameBytes.Length).SequenceEqual(nameBytes) && BitConverter.ToUInt16(zip, i + 26) == nameBytes.Length)
            {
                BitConverter.TryWriteBytes(zip.AsSpan(i + 22, 4), size);
                patched++;
            }
            else if (sig == 0x02014b50 && zip.AsSpan(i + 46, nameBytes.Length).SequenceEqual(nameBytes) && BitConverter.ToUInt16(zip, i + 28) == nameBytes.Length)
            {
                BitConverter.TryWriteBytes(zip.AsSpan(i + 24, 4), size);
                patched++;
            }
        }
        if (patched != 2)
        {
            throw new InvalidOperationException($"expected to patch 2 headers of {name}, patched {patched}");
        }
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MkFifo(byte[] path, int mode);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open(byte[] path, int flags, int mode);

    [DllImport("libc", EntryPoint = "write", SetLastError = true)]
    private static extern nint WriteFd(int fd, byte[] buffer, nint count);

    [DllImport("libc", EntryPoint = "unlink", SetLastError = true)]
    private static extern int Unlink(byte[] path);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
