using GptSharp.Evaluation;

namespace GptSharp.Tests.Evaluation;

public class TextMetricsTests
{
    [Fact]
    public void ExactMatchIgnoresCaseArticlesAndPunctuation()
    {
        Assert.Equal(1, TextMetrics.ExactMatch("The order has shipped.", "order  has shipped"));
        Assert.Equal(0, TextMetrics.ExactMatch("The order has shipped.", "The order has not shipped."));
        Assert.Equal(1, TextMetrics.ExactMatch("订单已经发货。", "订单已经发货"));
    }

    [Fact]
    public void F1CountsPartialOverlap()
    {
        // Normalised: [cat, sat, on, mat] vs [cat, sat, on, hat]: 3 shared, precision = recall = 3/4.
        Assert.Equal(0.75, TextMetrics.F1("The cat sat on the mat.", "A cat sat on a hat"), 12);
        // Repeated tokens count only as often as the reference has them: pred [x, x, y], ref [x, y, z]: 2 shared.
        Assert.Equal(2 * (2.0 / 3) * (2.0 / 3) / (4.0 / 3), TextMetrics.F1("x x y", "x y z"), 12);
        Assert.Equal(0, TextMetrics.F1("hello", "goodbye"));
        Assert.Equal(1, TextMetrics.F1("", ""));
        Assert.Equal(0, TextMetrics.F1("", "something"));
    }

    [Fact]
    public void ChineseIsScoredPerCharacter()
    {
        // [订 单 已 经 发 货] vs [订 单 已 发 货]: 5 shared, P = 5/6, R = 1, F1 = 10/11.
        Assert.Equal(10.0 / 11, TextMetrics.F1("订单已经发货", "订单已发货"), 12);
        Assert.Equal(["订", "单", "12345", "已", "发", "货"], TextTokens.ForMatching("订单12345已发货。"));
        Assert.Equal(["order", "12345", "到", "了"], TextTokens.ForMatching("Order 12345到了！"));
        Assert.Equal(["Hi", ",", "订", "单", "?"], TextTokens.ForBleu("Hi, 订单?"));
    }

    [Fact]
    public void ScoreAveragesOverExamples()
    {
        var s = TextMetrics.Score(["Order 1 has shipped.", "no idea"], ["Order 1 has shipped.", "Click reset"]);
        Assert.Equal(2, s.Count);
        Assert.Equal(0.5, s.ExactMatch);
        Assert.Equal(0.5, s.F1);
        Assert.InRange(s.Bleu, 0, 1);
    }
}
