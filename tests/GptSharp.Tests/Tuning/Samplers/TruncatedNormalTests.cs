using GptSharp.Tuning.Samplers;

namespace GptSharp.Tests.Tuning.Samplers;

public class TruncatedNormalTests
{
    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.5, 0.4795001221869535)]
    [InlineData(2.5, 0.0004069520174449589)]
    [InlineData(5.0, 1.5374597944280351e-12)]
    [InlineData(-1.0, 1.842700792949715)]
    public void ErfcMatchesReferenceValues(double x, double expected) =>
        Assert.True(Math.Abs(TruncatedNormal.Erfc(x) - expected) <= 1e-13 * expected, $"{TruncatedNormal.Erfc(x):R}");

    [Fact]
    public void InverseCdfInvertsTheCdfIntoTheTails()
    {
        Assert.Equal(-2.3263478740408408, TruncatedNormal.InverseCdf(0.01), 10);
        foreach (var x in new[] { -30.0, -8, -3, -0.5, 0, 0.7, 4 }) // above 4 Φ(x) rounds to 1 in a double
            Assert.Equal(x, TruncatedNormal.InverseCdf(TruncatedNormal.Cdf(x)), 7);
    }

    [Fact]
    public void LogMassIsAccurateFarInATail()
    {
        // Φ(-40) underflows a double; the asymptotic series keeps log Φ(-40) ≈ -804.608.
        Assert.Equal(-804.6084420137538, TruncatedNormal.LogCdf(-40), 8);
        // A bin far in the right tail, by symmetry: log(Φ(-40) - Φ(-41)) ≈ log Φ(-40).
        Assert.Equal(TruncatedNormal.LogCdf(-40), TruncatedNormal.LogMass(40, 41), 6);
        Assert.Equal(Math.Log(TruncatedNormal.Cdf(1) - TruncatedNormal.Cdf(-1)), TruncatedNormal.LogMass(-1, 1), 12);
    }

    [Fact]
    public void SamplesStayInRangeWithTheTruncatedMean()
    {
        var rng = new Random(1);
        double sum = 0;
        const int n = 20000;
        for (int i = 0; i < n; i++)
        {
            double x = TruncatedNormal.Sample(rng, 0, 1, 0, 10);
            Assert.InRange(x, 0, 10);
            sum += x;
        }
        Assert.Equal(Math.Sqrt(2 / Math.PI), sum / n, 1); // the half-normal's mean, 0.798
    }
}
