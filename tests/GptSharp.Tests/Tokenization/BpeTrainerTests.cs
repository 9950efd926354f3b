using System.Text;
using GptSharp.Tokenization;

namespace GptSharp.Tests.Tokenization;

public class BpeTrainerTests
{
    static readonly string[] Corpus = [.. Gpt2Cases.Texts];

    static BpeTokenizer Train(IEnumerable<string> texts, int vocabSize = 1000) =>
        new BpeTrainer(new BpeTrainerOptions { VocabSize = vocabSize }).Train(texts);

    static readonly Lazy<BpeTokenizer> Trained = new(() => Train(Corpus));

    [Fact]
    public void Vocabulary_has_requested_size_bytes_first_and_special_tokens_last()
    {
        var t = Trained.Value;
        Assert.Equal(1000, t.VocabSize);
        Assert.Equal(1000 - 256 - 5, t.Merges.Count);
        Assert.Equal(SpecialTokens.All, t.SpecialTokenNames);
        Assert.Equal(995, t.EndOfTextId);
        Assert.Equal([995, 996, 997, 998, 999], SpecialTokens.All.Select(s => t.TokenToId(s)!.Value));
        // Byte tokens have GPT-2's ids.
        Assert.Equal(0, t.TokenToId("!"));
        Assert.Equal(188, t.TokenToId("Ā"));
        Assert.Equal(220, t.TokenToId("Ġ"));
        // Merges build on earlier tokens only: every merged token is in the vocabulary.
        foreach (var (left, right) in t.Merges) Assert.NotNull(t.TokenToId(left + right));
    }

    [Fact]
    public void Incremental_pair_counts_give_the_same_merges_as_recounting_every_step()
    {
        var t = Train(Corpus, vocabSize: 500);
        Assert.Equal(NaiveMerges(Corpus, 500 - 256 - 5, minFrequency: 2), t.Merges);
    }

    /// <summary>Textbook BPE: recount every pair before each merge; same tie-break (count, then smaller ids).</summary>
    static List<(string, string)> NaiveMerges(IEnumerable<string> texts, int newTokens, int minFrequency)
    {
        var tokens = new List<string>();
        var byteId = new int[256];
        var chars = Enumerable.Range(0, 256).Select(b => (b, s: BpeTokenizer.Gpt2().IdToToken(b))).ToList();
        foreach (var (id, s) in chars) { tokens.Add(s); byteId[Encoding.Latin1.GetBytes(ByteOf(s))[0]] = id; }
        var ids = tokens.Select((s, i) => (s, i)).ToDictionary(x => x.s, x => x.i);
        // Special-token strings separate words, as in the trainer.
        var pieces = texts.SelectMany(t => t.Split([.. SpecialTokens.All], StringSplitOptions.None));
        var words = pieces.SelectMany(t => System.Text.RegularExpressions.Regex.Matches(t,
                @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+").Select(m => m.Value))
            .GroupBy(w => w).Select(g => (Symbols: Encoding.UTF8.GetBytes(g.Key).Select(b => byteId[b]).ToList(), Count: (long)g.Count())).ToList();
        var merges = new List<(string, string)>();
        var done = new Dictionary<(int, int), int>();
        while (tokens.Count < 256 + newTokens)
        {
            var counts = new Dictionary<(int, int), long>();
            foreach (var (symbols, count) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    counts[(symbols[i], symbols[i + 1])] = counts.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
            if (counts.Count == 0) break;
            var best = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Item1).ThenBy(kv => kv.Key.Item2).First();
            if (best.Value < minFrequency) break;
            var (a, b) = best.Key;
            if (!done.TryGetValue((a, b), out int merged))
            {
                string text = tokens[a] + tokens[b];
                if (!ids.TryGetValue(text, out merged)) { merged = tokens.Count; tokens.Add(text); ids[text] = merged; }
                done[(a, b)] = merged;
                merges.Add((tokens[a], tokens[b]));
            }
            foreach (var (symbols, _) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (symbols[i] == a && symbols[i + 1] == b) { symbols[i] = merged; symbols.RemoveAt(i + 1); }
        }
        return merges;
    }

    /// <summary>The byte a single-character byte-level token stands for, via GPT-2's decoder.</summary>
    static string ByteOf(string token) => Encoding.Latin1.GetString(BpeTokenizer.Gpt2().DecodeToBytes([BpeTokenizer.Gpt2().TokenToId(token)!.Value]));

    [Fact]
    public void Training_is_deterministic_and_ignores_document_order()
    {
        var again = Train(Corpus.Reverse());
        Assert.Equal(Trained.Value.Merges, again.Merges);
    }

    [Fact]
    public void Encodes_and_decodes_text_and_saved_files_give_the_same_ids()
    {
        var t = Trained.Value;
        using var dir = new Fixture.TempDir();
        t.Save(dir.Root);
        var loaded = BpeTokenizer.Load(dir.Root);
        Assert.Equal(t.VocabSize, loaded.VocabSize);
        Assert.Equal(t.SpecialTokenNames, loaded.SpecialTokenNames);
        string unseen = "Brand-new text, never seen in training: Zürich 2031 — 🚀🚀 <|user|> ok";
        foreach (string text in Corpus.Append(unseen))
        {
            int[] ids = t.Encode(text);
            Assert.Equal(ids, loaded.Encode(text));
            Assert.Equal(Encoding.UTF8.GetBytes(text), t.DecodeToBytes(ids));
            Assert.Equal(t.EncodeWithSpecialTokens(text), loaded.EncodeWithSpecialTokens(text));
        }
        // Learned merges compress the training text well below one token per byte.
        long bytes = Corpus.Sum(s => Encoding.UTF8.GetByteCount(s)), tokens = Corpus.Sum(s => t.Encode(s).Length);
        Assert.True(tokens < bytes * 0.6, $"{tokens} tokens for {bytes} bytes");
    }

    [Fact]
    public void Special_tokens_are_never_produced_by_plain_text_nor_learned_from_separators()
    {
        // Documents separated by <|endoftext|>: the separator is not a word, so "<|" and friends are not learned.
        var t = Train([string.Join(SpecialTokens.EndOfText, Enumerable.Repeat("Hello there. General Kenobi!", 200))], vocabSize: 300);
        Assert.Null(t.TokenToId("<|"));
        string text = string.Concat(SpecialTokens.All) + " <|user|>";
        Assert.DoesNotContain(t.Encode(text), id => t.IsSpecial(id));
        Assert.Equal(text, t.Decode(t.Encode(text)));
        Assert.Equal([t.EndOfTextId, t.EndOfTextId + 1], t.EncodeWithSpecialTokens("<|endoftext|><|system|>"));
    }

    [Fact]
    public async Task Training_on_files_streams_them_and_matches_training_in_memory()
    {
        using var dir = new Fixture.TempDir();
        // Over 1 MB, so the file is read in several blocks; documents are separated by <|endoftext|>.
        int copies = 1 + (3 << 19) / Corpus.Sum(s => Encoding.UTF8.GetByteCount(s));
        var documents = Enumerable.Repeat(Corpus, copies).SelectMany(c => c).ToArray();
        string text = string.Join(SpecialTokens.EndOfText, documents);
        Assert.True(Encoding.UTF8.GetByteCount(text) > 1 << 20);
        string half = text[..(text.Length / 2)];
        int split = half.LastIndexOf(SpecialTokens.EndOfText, StringComparison.Ordinal);
        File.WriteAllText(dir["a.txt"], text[..split], new UTF8Encoding(true)); // with a BOM
        File.WriteAllText(dir["b.txt"], text[(split + SpecialTokens.EndOfText.Length)..]);

        var progress = new List<BpeTrainingProgress>();
        var fromFiles = await new BpeTrainer(new BpeTrainerOptions { VocabSize = 500 })
            .TrainAsync([dir["a.txt"], dir["b.txt"]], new SyncProgress(progress.Add));
        var inMemory = Train(documents, vocabSize: 500);
        Assert.Equal(inMemory.Merges, fromFiles.Merges);

        Assert.Equal(BpeTrainingStage.CountingWords, progress[0].Stage);
        Assert.Contains(progress, p => p.Stage == BpeTrainingStage.Merging);
        Assert.Equal(BpeTrainingStage.Done, progress[^1].Stage);
        var counted = progress.Last(p => p.Stage == BpeTrainingStage.CountingWords);
        Assert.Equal(counted.Total, counted.Completed);
    }

    sealed class SyncProgress(Action<BpeTrainingProgress> report) : IProgress<BpeTrainingProgress>
    {
        public void Report(BpeTrainingProgress value) => report(value);
    }

    [Fact]
    public async Task Invalid_utf8_is_reported_with_file_and_line()
    {
        using var dir = new Fixture.TempDir();
        string path = dir["bad.txt"];
        File.WriteAllBytes(path, [.. "line one\nline two\nline "u8, 0xC3, 0x28, .. " three\n"u8]);
        var e = await Assert.ThrowsAsync<GptSharpException>(() => new BpeTrainer(new BpeTrainerOptions { VocabSize = 300 }).TrainAsync([path]));
        Assert.Contains(path, e.Message);
        Assert.Contains("invalid UTF-8 at line 3", e.Message);

        // A file that ends inside a character.
        File.WriteAllBytes(path, [.. "ok\n"u8, 0xE4, 0xBD]);
        e = await Assert.ThrowsAsync<GptSharpException>(() => new BpeTrainer(new BpeTrainerOptions { VocabSize = 300 }).TrainAsync([path]));
        Assert.Contains("invalid UTF-8 at line 2", e.Message);
    }

    [Fact]
    public async Task Bad_inputs_and_options_are_rejected_clearly()
    {
        using var dir = new Fixture.TempDir();
        File.WriteAllText(dir["empty.txt"], "");
        var trainer = new BpeTrainer(new BpeTrainerOptions { VocabSize = 300 });
        Assert.Contains("corpus is empty", (await Assert.ThrowsAsync<GptSharpException>(() => trainer.TrainAsync([dir["empty.txt"]]))).Message);
        Assert.Contains("not found", (await Assert.ThrowsAsync<GptSharpException>(() => trainer.TrainAsync([dir["missing.txt"]]))).Message);
        Assert.Contains("vocab_size", Assert.Throws<GptSharpException>(() => new BpeTrainer(new BpeTrainerOptions { VocabSize = 100 }).Train(["abc"])).Message);
        Assert.Contains("corpus is empty", Assert.Throws<GptSharpException>(() => trainer.Train(["", SpecialTokens.EndOfText])).Message);
    }

    [Fact]
    public void Small_corpus_stops_early_rather_than_merging_one_off_pairs()
    {
        // Pairs: a b ×3, b c ×3, Ġ a ×2, Ġ x ×1 → merges "a b", "ab c", "Ġ abc"; "Ġ x" is seen once only.
        var t = Train(["abc abc abc x"], vocabSize: 5000);
        Assert.Equal([("a", "b"), ("ab", "c"), ("Ġ", "abc")], t.Merges);
        Assert.Equal(256 + 3 + 5, t.VocabSize);
        Assert.Equal([t.TokenToId("abc")!.Value, t.TokenToId("Ġabc")!.Value, t.TokenToId("Ġabc")!.Value, 220, t.TokenToId("x")!.Value], t.Encode("abc abc abc x"));
    }

    [Fact]
    public void Cancellation_stops_training()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => new BpeTrainer(new BpeTrainerOptions()).Train(Corpus, ct: cts.Token));
    }
}
