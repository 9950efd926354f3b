using System.Diagnostics;
using GptSharp.Tokenization;
using GptSharp.IO;

namespace GptSharp.Data.Shards;

/// <summary>
/// Text files → a data directory of token shards with a train/validation split and a <c>meta.json</c>
/// (see <see cref="DatasetMeta"/>). Files are streamed, so their size is bounded by disk, not memory.
/// The directory is built beside its destination and renamed into place when complete; what a killed run left beside it
/// is cleaned up on the next start. An existing output is replaced only with <see cref="PrepareOptions.Overwrite"/>
/// (see <see cref="OutputDirectory.Check"/>).
/// </summary>
public static class DataPreparer
{
    public static Task<DatasetMeta> PrepareAsync(IEnumerable<string> inputFiles, ITokenizer tokenizer, string outputDir,
        PrepareOptions? options = null, IProgress<PrepareProgress>? progress = null, CancellationToken ct = default)
    {
        var files = inputFiles.ToList();
        var checkedOptions = (options ?? new PrepareOptions()).Validate();
        return Task.Run(() => Prepare(files, tokenizer, outputDir, checkedOptions, progress, ct), ct);
    }

    static DatasetMeta Prepare(List<string> files, ITokenizer tokenizer, string outputDir, PrepareOptions options,
        IProgress<PrepareProgress>? progress, CancellationToken ct)
    {
        if (files.Count == 0) throw new GptSharpException("no input files given");
        foreach (var f in files)
            if (!File.Exists(f)) throw new GptSharpException($"{f}: input file not found");
        OutputDirectory.Check(outputDir, options.Overwrite, "--overwrite", [.. files, options.Tokenizer]);

        var inputs = files.Select(f => new DatasetMeta.InputInfo(Path.GetFullPath(f), new FileInfo(f).Length)).ToArray();
        long totalBytes = inputs.Sum(i => i.Bytes), bytesRead = 0;
        int vocab = tokenizer.VocabSize, eot = tokenizer.EndOfTextId;
        var tokenizerInfo = options.Tokenizer is { } source ? TokenizerSource.Describe(source) : null;
        DatasetMeta? meta = null;

        OutputDirectory.Write(outputDir, tmp =>
        {
            using var train = new SplitWriter(tmp, "train", vocab, options.ShardTokens);
            using var val = new SplitWriter(tmp, "val", vocab, options.ShardTokens);
            long documents = 0;
            var clock = Stopwatch.StartNew();
            foreach (var file in files)
            {
                void Report(bool force)
                {
                    if (progress is null || (!force && clock.ElapsedMilliseconds < 100)) return;
                    clock.Restart();
                    progress.Report(new PrepareProgress(file, bytesRead, totalBytes, train.Tokens + val.Tokens, documents, force));
                }

                SplitWriter? current = null;
                foreach (var piece in TextDocumentReader.Read(file, options.DocumentBoundary, n => { bytesRead += n; Report(false); }, ct))
                {
                    if (current is null)
                    {
                        current = DocumentSplit.IsValidation(documents, options.ValFraction) ? val : train;
                        current.BeginDocument(eot);
                    }
                    current.Write(tokenizer.Encode(piece.Text));
                    if (piece.EndsDocument)
                    {
                        current = null;
                        documents++;
                    }
                }
                Report(true);
            }

            if (documents == 0)
                throw new GptSharpException($"the corpus is empty: no text found in {string.Join(", ", files)}");
            if (options.ValFraction > 0 && val.Documents == 0)
                throw new GptSharpException($"no document fell into the validation split: the corpus has {documents} document(s) " +
                    $"and val_fraction {options.ValFraction} holds out every {Math.Round(1 / options.ValFraction)}th; split the text into " +
                    $"more documents (more files, {SpecialTokens.EndOfText} lines, or the blank-line/line document boundary) or use val_fraction 0");

            meta = new DatasetMeta
            {
                VocabSize = vocab,
                EndOfTextId = eot,
                Dtype = TokenShard.BytesPerTokenFor(vocab) == 2 ? "uint16" : "uint32",
                ValFraction = options.ValFraction,
                DocumentBoundary = options.DocumentBoundary.Name(),
                Tokenizer = tokenizerInfo,
                Train = train.Info,
                Val = val.Info,
                Inputs = inputs,
                CreatedUtc = DateTime.UtcNow,
            };
            train.Dispose();
            val.Dispose();
            meta.Write(tmp);
        });
        return meta!;
    }
}
