namespace GptSharp.Tokenization;

/// <summary>What data preparation, training and generation need from a tokenizer.</summary>
public interface ITokenizer
{
    int VocabSize { get; }
    int EndOfTextId { get; }
    /// <summary>Ordinary text: special-token strings inside it are encoded as plain text.</summary>
    int[] Encode(string text);
    string Decode(IEnumerable<int> ids);
}
