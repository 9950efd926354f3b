using GptSharp.Data.Shards;
using GptSharp.Tokenization;

namespace GptSharp.Data.Statistics;

/// <summary>
/// Length statistics of pretraining documents: from a data directory's token shards (both splits, documents split at the
/// end-of-text token) or from raw UTF-8 text files tokenized here, documents separated as <c>data prepare</c> separates
/// them. A document's length counts its tokens plus one end-of-text token, as the shards hold it.
/// </summary>
public static class TextStatistics
{
    const int Chunk = 1 << 16;

    /// <summary>The documents' lengths in a directory written by <c>gptsharp data prepare</c>.</summary>
    public static List<int> ShardDocumentLengths(string dataDir)
    {
        if (!Directory.Exists(dataDir)) throw new GptSharpException($"{dataDir}: data directory not found");
        var lengths = new List<int>();
        foreach (var split in new[] { "train", "val" })
        {
            using var data = TokenDataset.Open(dataDir, split);
            int eot = data.Meta.EndOfTextId, current = 0;
            var buffer = new long[Chunk];
            for (long start = 0; start < data.Count; start += Chunk)
            {
                var span = buffer.AsSpan(0, (int)Math.Min(Chunk, data.Count - start));
                data.CopyTo(start, span);
                foreach (long id in span)
                {
                    if (id != eot) { current++; continue; }
                    if (current > 0) lengths.Add(current + 1);
                    current = 0;
                }
            }
            if (current > 0) lengths.Add(current + 1);
        }
        return lengths;
    }

    /// <summary>The documents' lengths in text files, tokenized with <paramref name="tokenizer"/>.</summary>
    public static List<int> TextDocumentLengths(IEnumerable<string> files, ITokenizer tokenizer, DocumentBoundary boundary = DocumentBoundary.Marker,
        CancellationToken ct = default)
    {
        var lengths = new List<int>();
        foreach (var file in files)
        {
            if (!File.Exists(file)) throw new GptSharpException($"{file}: input file not found");
            int current = 0;
            foreach (var piece in TextDocumentReader.Read(file, boundary, ct: ct))
            {
                current += tokenizer.Encode(piece.Text).Length;
                if (!piece.EndsDocument) continue;
                if (current > 0) lengths.Add(current + 1);
                current = 0;
            }
            if (current > 0) lengths.Add(current + 1);
        }
        return lengths;
    }

    /// <param name="source">Names the documents in errors (the directory or files).</param>
    public static DataStatistics Compute(IReadOnlyList<int> documentLengths, IReadOnlyList<int> blockSizes, string source,
        int? maxPromptReply = null, int? contextLength = null)
    {
        if (documentLengths.Count == 0) throw new GptSharpException($"{source}: no documents");
        var summary = LengthSummary.Of(documentLengths, "documents");
        return new DataStatistics("documents", summary, null, LengthHistogram.Of(documentLengths),
            [.. blockSizes.Select(b => BlockSizeTruncation.ForDocuments(b, documentLengths))],
            BlockSizeRecommendation.For(summary, maxPromptReply, contextLength));
    }
}
