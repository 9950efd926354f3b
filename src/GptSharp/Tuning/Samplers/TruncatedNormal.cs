using System.Runtime.CompilerServices;

namespace GptSharp.Tuning.Samplers;

/// <summary>
/// The standard normal's CDF, its log and inverse, and the normal truncated to [low, high]: what TPE's Parzen
/// estimator needs (as Optuna's <c>_truncnorm</c>, which is SciPy's). Tails are computed in log space, so a kernel far
/// from a point gives a tiny log density rather than log(0).
/// </summary>
internal static class TruncatedNormal
{
    const double LogSqrt2Pi = 0.91893853320467274178; // log √(2π)
    const double Sqrt2Pi = 2.50662827463100050242;
    const double InvSqrtPi = 0.56418958354775628695;

    /// <summary>erfc(x), relative error below 1e-13 (a power series below 2.5, a continued fraction above).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: thousands of calls per suggestion, also in a fresh process
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x < 0) return 2 - Erfc(-x);
        if (x > 27) return 0; // underflows
        if (x < 2.5)
        {
            // erf(x) = 2/√π · e^(-x²) · Σ (2x²)^n x / (1·3···(2n+1)): positive terms, no cancellation.
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 200 && term > 1e-17 * sum; n++)
            {
                term *= 2 * x2 / (2 * n + 1);
                sum += term;
            }
            return 1 - 2 * InvSqrtPi * Math.Exp(-x2) * sum;
        }
        // erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated from a depth that reaches
        // double precision at this x.
        int depth = x < 3 ? 40 : x < 4 ? 24 : x < 6 ? 16 : 10;
        double t = x;
        for (int k = depth; k >= 1; k--) t = x + 0.5 * k / t;
        return InvSqrtPi * Math.Exp(-x * x) / t;
    }

    /// <summary>Φ(x), the standard normal CDF, accurate in both tails.</summary>
    public static double Cdf(double x) => 0.5 * Erfc(-x / Math.Sqrt(2));

    /// <summary>log Φ(x); an asymptotic series below -20 where Φ underflows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: thousands of calls per suggestion, also in a fresh process
    public static double LogCdf(double x)
    {
        if (x > 6) return -Cdf(-x); // log(1 - ε) ≈ -ε
        if (x > -20) return Math.Log(Cdf(x));
        // Φ(x) = φ(x)/(-x) · (1 - 1/x² + 3/x⁴ - 15/x⁶ + …).
        double logLhs = -0.5 * x * x - Math.Log(-x) - LogSqrt2Pi;
        double total = 1, last = 0, numerator = 1, denominator = 1, inv = 1 / (x * x), sign = 1;
        for (int i = 1; Math.Abs(last - total) > double.Epsilon && i < 100; i++)
        {
            last = total;
            sign = -sign;
            denominator *= inv;
            numerator *= 2 * i - 1;
            total += sign * numerator * denominator;
        }
        return logLhs + Math.Log(total);
    }

    /// <summary>log(Φ(b) − Φ(a)) for a ≤ b, accurate when both lie far in one tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: thousands of calls per suggestion, also in a fresh process
    public static double LogMass(double a, double b)
    {
        if (a > 0) return LogMass(-b, -a); // work in the left tail, where Φ is accurate
        if (b <= 0)
        {
            double cb = Cdf(b), ca = Cdf(a);
            if (cb > 1e-300 && ca < 0.9 * cb) return Math.Log(cb - ca); // no cancellation worth the name
            double lb = b > -20 ? Math.Log(cb) : LogCdf(b), la = a > -20 ? Math.Log(ca) : LogCdf(a);
            return lb + Math.Log(-double.ExpM1(la - lb));
        }
        // Straddles 0: 1 minus the two tails, without cancellation in either.
        return Math.Log(Math.Max(1 - Cdf(a) - Cdf(-b), 0));
    }

    /// <summary>Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation, then two Halley steps on <see cref="Cdf"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: thousands of calls per suggestion, also in a fresh process
    public static double InverseCdf(double p)
    {
        if (p <= 0) return double.NegativeInfinity;
        if (p >= 1) return double.PositiveInfinity;
        double x;
        const double pLow = 0.02425;
        if (p < pLow)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            x = (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
                / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q + 3.754408661907416e+00) * q + 1);
        }
        else if (p <= 1 - pLow)
        {
            double q = p - 0.5, r = q * q;
            x = (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q
                / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1);
        }
        else
            return -InverseCdf(1 - p);
        for (int i = 0; i < 2; i++)
        {
            double e = Cdf(x) - p;
            double u = e * Sqrt2Pi * Math.Exp(0.5 * x * x);
            x -= u / (1 + 0.5 * x * u);
        }
        return x;
    }

    /// <summary>
    /// A draw from N(<paramref name="mu"/>, <paramref name="sigma"/>²) truncated to [<paramref name="low"/>,
    /// <paramref name="high"/>] by inverting the CDF at one uniform draw.
    /// </summary>
    public static double Sample(Random rng, double mu, double sigma, double low, double high)
    {
        double a = (low - mu) / sigma, b = (high - mu) / sigma;
        double u = rng.NextDouble();
        if (a > 0) // mirror so the work is in the left tail
            return Math.Clamp(mu - sigma * StandardSample(1 - u, -b, -a), low, high);
        return Math.Clamp(mu + sigma * StandardSample(u, a, b), low, high);
    }

    /// <summary>The <paramref name="u"/>-quantile of N(0, 1) truncated to [a, b], a ≤ 0.</summary>
    static double StandardSample(double u, double a, double b)
    {
        double lower = Cdf(a), upper = Cdf(-b); // the two cut-off tails
        double mass = 1 - lower - upper;
        double p = lower + u * mass;
        double z = p < 0.5 ? InverseCdf(p) : -InverseCdf(upper + (1 - u) * mass);
        return double.IsNaN(z) ? a : Math.Clamp(z, a, b);
    }

    /// <summary>Log density at <paramref name="x"/> of N(mu, sigma²) truncated to [low, high] (x inside).</summary>
    public static double LogPdf(double x, double mu, double sigma, double low, double high)
    {
        double z = (x - mu) / sigma;
        return -0.5 * z * z - LogSqrt2Pi - Math.Log(sigma) - LogMass((low - mu) / sigma, (high - mu) / sigma);
    }
}
