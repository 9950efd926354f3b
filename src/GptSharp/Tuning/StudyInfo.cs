namespace GptSharp.Tuning;

/// <summary>A study as a storage lists it: its key, unique name and direction.</summary>
public sealed record StudyInfo(long Id, string Name, StudyDirection Direction);
