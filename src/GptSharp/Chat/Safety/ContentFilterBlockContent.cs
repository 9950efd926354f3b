using Microsoft.Extensions.AI;
using GptSharp.Models;

namespace GptSharp.Chat.Safety;

/// <summary>
/// A content filter block carried in a streamed reply (<see cref="ChatResponseUpdate.Contents"/>), so whoever shows the
/// reply can say what was filtered: on the input side it comes with the refusal, before its text; on the output side
/// with the update whose text the filter cut or masked (say it after the reply, not between its pieces).
/// </summary>
public sealed class ContentFilterBlockContent(ContentFilterBlock block) : AIContent
{
    public ContentFilterBlock Block => block;
}
