using System.Text;
using GptSharp.Tokenization;

namespace GptSharp.Tests.Data;

/// <summary>A stand-in tokenizer for tests: one id per UTF-8 byte, and 256 for end-of-text.</summary>
sealed class ByteTokenizer : ITokenizer
{
    public int VocabSize => 257;
    public int EndOfTextId => 256;
    public int[] Encode(string text) => Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();
    public string Decode(IEnumerable<int> ids) =>
        Encoding.UTF8.GetString(ids.Select(i => i == EndOfTextId ? (byte)'|' : (byte)i).ToArray());
}
