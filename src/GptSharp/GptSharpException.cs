namespace GptSharp;

/// <summary>An error caused by the user's input or environment; its message is meant to be shown as is.</summary>
public class GptSharpException(string message, Exception? inner = null) : Exception(message, inner);
