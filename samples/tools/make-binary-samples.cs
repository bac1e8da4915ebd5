// Writes the two binary sample documents (PDF and DOCX) from text, so that every sample is our own writing and the
// binary ones can be regenerated: `dotnet run samples/tools/make-binary-samples.cs` from the repository root.
#:package PdfPig@0.1.16
#:package DocumentFormat.OpenXml@3.3.0
#:property ManagePackageVersionsCentrally=false
#:property TreatWarningsAsErrors=false
#:property GenerateDocumentationFile=false

using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

var docs = Path.Combine("samples", "docs");

// --- PDF: bicycle maintenance -------------------------------------------------------------------------------
string[] pdfParagraphs =
[
    "Basic Bicycle Maintenance",
    "Check the tyre pressure every week. The recommended range is printed on the sidewall of the tyre;",
    "road tyres usually need six to eight bar, mountain bike tyres much less.",
    "Clean and lubricate the chain every few hundred kilometres, and more often after riding in rain.",
    "Wipe off old grease, apply one drop of chain oil to each roller, then wipe away the excess.",
    "Test the brakes before every ride. Replace the brake pads when the grooves in the rubber are worn away,",
    "and adjust the cable tension so the levers stop well before touching the handlebar.",
];
var builder = new PdfDocumentBuilder();
builder.DocumentInformation.Title = "Basic Bicycle Maintenance";
var font = builder.AddStandard14Font(Standard14Font.Helvetica);
var page = builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4);
var y = 780.0;
foreach (var line in pdfParagraphs)
{
    page.AddText(line, line == pdfParagraphs[0] ? 16 : 11, new PdfPoint(50, y), font);
    y -= line == pdfParagraphs[0] ? 30 : 18;
}
File.WriteAllBytes(Path.Combine(docs, "bicycle-maintenance.pdf"), builder.Build());

// --- DOCX: team handbook --------------------------------------------------------------------------------------
string[] docxParagraphs =
[
    "Team Handbook: Working Hours and Leave",
    "Core hours are from ten in the morning to three in the afternoon; outside them, plan your own day.",
    "Request holidays at least two weeks in advance in the shared calendar, and agree cover for your duties with a colleague.",
    "If you are ill, tell your manager before ten o'clock. A doctor's note is needed after five consecutive sick days.",
    "Parental leave is sixteen weeks at full pay for every parent, and can be split into two blocks within the first year.",
];
var docxPath = Path.Combine(docs, "team-handbook.docx");
using (var word = WordprocessingDocument.Create(docxPath, WordprocessingDocumentType.Document))
{
    var main = word.AddMainDocumentPart();
    var body = new Body();
    for (var i = 0; i < docxParagraphs.Length; i++)
    {
        var p = new Paragraph(new Run(new Text(docxParagraphs[i])));
        if (i == 0)
        {
            p.PrependChild(new ParagraphProperties(new ParagraphStyleId { Val = "Title" }));
        }
        body.Append(p);
    }
    main.Document = new Document(body);
    word.PackageProperties.Title = "Team Handbook: Working Hours and Leave";
}
Console.WriteLine("wrote samples/docs/bicycle-maintenance.pdf and samples/docs/team-handbook.docx");
