using System.Runtime.CompilerServices;
using GptSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Inference;

/// <summary>
/// Keeps generated text valid UTF-8. A byte-level BPE can emit part of a character (Chinese often takes two or three
/// tokens) and then a token that does not continue it; decoding then shows U+FFFD. The guard follows the UTF-8 state
/// of the output — how many continuation bytes are still owed, and in which range the next must lie — and bans, at
/// each step, the tokens that would break it (as well as ids the tokenizer cannot decode). Special tokens such as
/// end-of-text wait until the character in progress is complete. It never changes a step whose best token is valid.
/// </summary>
public sealed class Utf8Guard
{
    // States: 0 complete; 1 owes 1 byte; 2 owes 2; 3 owes 2 after E0 (next A0-BF); 4 owes 2 after ED (next 80-9F);
    // 5 owes 3; 6 owes 3 after F0 (next 90-BF); 7 owes 3 after F4 (next 80-8F). -1: invalid.
    public const int Complete = 0;
    const int States = 8, Invalid = -1;
    static readonly ConditionalWeakTable<BpeTokenizer, Dictionary<int, Utf8Guard>> Cache = new();

    readonly int[][] _next; // [state][token] → state after the token, or Invalid
    readonly Dictionary<(int, DeviceType, int), Tensor> _masks = [];

    Utf8Guard(BpeTokenizer tokenizer, int vocabSize)
    {
        _next = new int[States][];
        for (int s = 0; s < States; s++)
        {
            var row = _next[s] = new int[vocabSize];
            for (int id = 0; id < vocabSize; id++)
            {
                if (id >= tokenizer.VocabSize) { row[id] = Invalid; continue; }
                if (tokenizer.IsSpecial(id)) { row[id] = s == Complete ? Complete : Invalid; continue; }
                int state = s;
                foreach (byte b in tokenizer.TokenBytes(id))
                    if ((state = Step(state, b)) == Invalid) break;
                row[id] = state;
            }
        }
    }

    /// <summary>The guard for <paramref name="tokenizer"/> and a model with <paramref name="vocabSize"/> logits (built once, ~10 ms for GPT-2's).</summary>
    public static Utf8Guard For(BpeTokenizer tokenizer, int vocabSize)
    {
        var byVocab = Cache.GetOrCreateValue(tokenizer);
        lock (byVocab)
        {
            if (!byVocab.TryGetValue(vocabSize, out var guard)) byVocab[vocabSize] = guard = new Utf8Guard(tokenizer, vocabSize);
            return guard;
        }
    }

    /// <summary>The UTF-8 state after <paramref name="tokens"/> from a complete one. Broken input (a prompt may hold
    /// any bytes) restarts at the offending byte, as a decoder resynchronises.</summary>
    public int StateAfter(IEnumerable<int> tokens)
    {
        int state = Complete;
        foreach (int id in tokens) state = Next(state, id);
        return state;
    }

    /// <summary>The state after <paramref name="token"/>; a token that breaks the text restarts from complete.</summary>
    public int Next(int state, int token) =>
        Allows(state, token) ? _next[state][token] : Allows(Complete, token) ? _next[Complete][token] : Complete;

    /// <summary>Whether <paramref name="token"/> keeps the text valid in <paramref name="state"/> (what <see cref="Apply"/> leaves alone).</summary>
    public bool Allows(int state, int token) => (uint)token < (uint)_next[state].Length && _next[state][token] != Invalid;

    /// <summary><paramref name="logits"/> ([vocab]) with the tokens that would break the text in <paramref name="state"/> set to -inf.</summary>
    public Tensor Apply(Tensor logits, int state)
    {
        var device = logits.device;
        var key = (state, device.type, device.index);
        Tensor? banned;
        lock (_masks)
            if (!_masks.TryGetValue(key, out banned))
            {
                bool[] flags = _next[state].Select(n => n == Invalid).ToArray();
                _masks[key] = banned = tensor(flags, device: device).DetachFromDisposeScope();
            }
        return logits.masked_fill(banned, Sampling.MinusInfinity);
    }

    static int Step(int state, byte b) => state switch
    {
        0 => b switch
        {
            < 0x80 => 0,
            >= 0xC2 and <= 0xDF => 1,
            0xE0 => 3,
            0xED => 4,
            >= 0xE1 and <= 0xEF => 2,
            0xF0 => 6,
            >= 0xF1 and <= 0xF3 => 5,
            0xF4 => 7,
            _ => Invalid, // a stray continuation byte, an overlong lead (C0, C1) or beyond U+10FFFF
        },
        1 => b is >= 0x80 and <= 0xBF ? 0 : Invalid,
        2 => b is >= 0x80 and <= 0xBF ? 1 : Invalid,
        3 => b is >= 0xA0 and <= 0xBF ? 1 : Invalid,
        4 => b is >= 0x80 and <= 0x9F ? 1 : Invalid,
        5 => b is >= 0x80 and <= 0xBF ? 2 : Invalid,
        6 => b is >= 0x90 and <= 0xBF ? 2 : Invalid,
        7 => b is >= 0x80 and <= 0x8F ? 2 : Invalid,
        _ => Invalid,
    };
}
