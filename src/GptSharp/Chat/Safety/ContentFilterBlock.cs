namespace GptSharp.Chat.Safety;

/// <summary>Which side of the conversation a content filter block happened on.</summary>
public enum ContentFilterSide { Input, Output }

/// <summary>What a content filter does when a reply contains a banned phrase.</summary>
public enum ContentFilterAction
{
    /// <summary>End the reply just before the phrase.</summary>
    Stop,
    /// <summary>Replace the phrase with <c>***</c> and go on.</summary>
    Mask,
}

/// <summary>One blocked piece of text: the rule category it matched, the text itself and where it was found.</summary>
public sealed record ContentFilterBlock(string Category, string Text, ContentFilterSide Where);

/// <summary>The result of checking a text: blocked or not, and if blocked, by which category and text.</summary>
public sealed record ContentFilterVerdict(bool IsBlocked, string? Category = null, string? Text = null)
{
    public static readonly ContentFilterVerdict Allowed = new(false);
}
