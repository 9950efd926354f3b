namespace GptSharp.Data.Shards;

/// <summary>
/// How far <see cref="DataPreparer"/> has got: bytes of input read of the total, tokens and documents written so far.
/// Reported a few times a second, and once with <see cref="FileDone"/> when each input file is finished.
/// </summary>
public sealed record PrepareProgress(string File, long BytesRead, long TotalBytes, long Tokens, long Documents, bool FileDone);
