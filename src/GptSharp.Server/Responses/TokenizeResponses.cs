namespace GptSharp.Server.Responses;

/// <summary>POST /tokenize, as llama.cpp's server answers it: the ids.</summary>
public sealed record TokenIds(IReadOnlyList<int> Tokens);

/// <summary>POST /tokenize with <c>with_pieces</c>: each id with its text.</summary>
public sealed record TokenPieces(IReadOnlyList<TokenPiece> Tokens);

/// <summary>One token of <see cref="TokenPieces"/>: its id and its text.</summary>
public sealed record TokenPiece(int Id, string Piece);

/// <summary>POST /detokenize, as llama.cpp's server answers it.</summary>
public sealed record DetokenizeResponse(string Content);
