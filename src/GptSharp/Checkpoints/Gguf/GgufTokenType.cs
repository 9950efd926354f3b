namespace GptSharp.Checkpoints.Gguf;

/// <summary>llama.cpp's token attributes for <c>tokenizer.ggml.token_type</c> (gguf-py's <c>TokenType</c>).</summary>
public enum GgufTokenType
{
    Normal = 1,
    Unknown = 2,
    /// <summary>Special tokens (<c>&lt;|endoftext|&gt;</c>, the chat roles): never produced from plain text, not printed.</summary>
    Control = 3,
    UserDefined = 4,
    /// <summary>Ids no token owns (a vocabulary padded to a round size).</summary>
    Unused = 5,
    Byte = 6,
}
