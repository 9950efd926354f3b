namespace GptSharp.Chat.Safety;

/// <summary>
/// The rules <see cref="ContentFilter.Default"/> uses when no rules file is given: a small, mild, generic list meant
/// as a starting point (samples/content-filter.json holds the same rules to copy and edit).
/// </summary>
static class ContentFilterDefaults
{
    public const string Json = """
        {
          "categories": {
            "violence": {
              "words": ["kill you", "hurt you", "beat you up", "杀了你", "打死你", "弄死你"],
              "patterns": ["how to (make|build) an? (bomb|explosive)", "怎么(制造|制作)炸弹"]
            },
            "self_harm": {
              "words": ["kill myself", "end my life", "自杀", "不想活了"]
            },
            "insult": {
              "words": ["idiot", "moron", "stupid bot", "白痴", "傻瓜", "蠢货"]
            }
          },
          "refusal": "Sorry, I can't help with that. 抱歉，这个问题我无法回答。",
          "output_action": "stop",
          "max_pattern_length": 32
        }
        """;
}
