using GptSharp.Distillation;

namespace GptSharp.Tests.Distillation;

public class LayerSelectionTests
{
    [Fact]
    public void TwelveToSixIsDistilGpt2s() => Assert.Equal([0, 2, 4, 7, 9, 11], LayerSelection.Spread(12, 6));

    [Theory]
    [InlineData(12, 12, new[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 })]
    [InlineData(12, 3, new[] { 0, 6, 11 })] // 5.5 rounds up
    [InlineData(12, 2, new[] { 0, 11 })]
    [InlineData(12, 1, new[] { 0 })]
    [InlineData(8, 4, new[] { 0, 2, 5, 7 })]
    [InlineData(4, 3, new[] { 0, 2, 3 })]
    [InlineData(24, 6, new[] { 0, 5, 9, 14, 18, 23 })]
    public void TheLayersAreEvenlySpreadFromFirstToLast(int teacher, int student, int[] expected)
    {
        var layers = LayerSelection.Spread(teacher, student);
        Assert.Equal(expected, layers);
        Assert.Equal(layers, LayerSelection.Check(layers, teacher)); // always valid indices
    }

    [Fact]
    public void ImpossibleSelectionsNameTheOption()
    {
        Assert.Contains("student_layers (7) exceeds the teacher's n_layer (6)", Assert.Throws<GptSharpException>(() => LayerSelection.Spread(6, 7)).Message);
        Assert.Contains("student_layers must be at least 1", Assert.Throws<GptSharpException>(() => LayerSelection.Spread(6, 0)).Message);
        Assert.Contains("student_layer_indices [0, 6]: layer 6 is out of range; the teacher has 6 layers (0 to 5)",
            Assert.Throws<GptSharpException>(() => LayerSelection.Check([0, 6], 6)).Message);
        Assert.Contains("layer -1 is out of range", Assert.Throws<GptSharpException>(() => LayerSelection.Check([-1, 2], 6)).Message);
        Assert.Contains("student_layer_indices [3, 1] must be strictly increasing",
            Assert.Throws<GptSharpException>(() => LayerSelection.Check([3, 1], 6)).Message);
        Assert.Contains("must be strictly increasing", Assert.Throws<GptSharpException>(() => LayerSelection.Check([1, 1], 6)).Message);
    }
}
