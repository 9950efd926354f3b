namespace GptSharp.Tuning.Samplers;

/// <summary>
/// Settings of <see cref="TpeSampler"/>, with Optuna's <c>TPESampler</c> defaults (Optuna's argument names in
/// brackets). The defaults are those of Optuna 3.x and 4.x before 5.0 (<c>multivariate</c> and
/// <c>constant_liar</c> off; <c>consider_prior</c> is always on).
/// </summary>
public sealed record TpeOptions
{
    /// <summary>Trials sampled at random before TPE starts, counting complete and pruned ones [n_startup_trials].</summary>
    public int StartupTrials { get; init; } = 10;

    /// <summary>Candidates drawn from l(x) per suggestion; the one with the largest l(x)/g(x) wins [n_ei_candidates].</summary>
    public int EiCandidates { get; init; } = 24;

    /// <summary>How many of n finished trials form the good set l(x) [gamma]; default <see cref="DefaultGamma"/>.</summary>
    public Func<int, int> Gamma { get; init; } = DefaultGamma;

    /// <summary>Weights of n observations, oldest first [weights]; default <see cref="DefaultWeights"/>.</summary>
    public Func<int, double[]> Weights { get; init; } = DefaultWeights;

    /// <summary>Weight of the prior kernel (a wide normal centred on the range, uniform for categoricals) [prior_weight].</summary>
    public double PriorWeight { get; init; } = 1.0;

    /// <summary>Bound each kernel's width from below by range / min(100, 1 + kernels) [consider_magic_clip].</summary>
    public bool ConsiderMagicClip { get; init; } = true;

    /// <summary>Let the range's ends count as neighbours of the outermost observations [consider_endpoints].</summary>
    public bool ConsiderEndpoints { get; init; }

    /// <summary>
    /// Sample the parameters every finished trial has jointly, with product kernels (Falkner et al. 2018, BOHB)
    /// [multivariate]; others fall back to one at a time.
    /// </summary>
    public bool Multivariate { get; init; }

    /// <summary>
    /// Count other workers' running trials as the worst observations, so parallel workers do not crowd one point
    /// [constant_liar].
    /// </summary>
    public bool ConstantLiar { get; init; }

    /// <summary>
    /// How a continuous kernel scores a point in l(x) and g(x). <see cref="TpeKernelDensity.Optuna31"/> (the default):
    /// as Optuna up to 3.4, the density of the standardised value (x − μ)/σ, i.e. the true density times σ, which weighs
    /// each kernel by its width; <see cref="TpeKernelDensity.Normalized"/>: the true density, as Optuna 3.5 and later.
    /// Kernels on a step grid score a bin's probability mass either way. The default is measured: over 200 seeds × 100
    /// trials of bench/tuning's objectives (medians of the best value, minimised), Normalized gave −2.96 against −3.09
    /// on hartmann6, 0.0067 against 0.0034 on lr_wd, 0.0104 against 0.0068 on mixed, 0.436 against 0.431 on branin,
    /// and was behind Optuna 3.1.0's TPE on all four, while Optuna31 is level with it.
    /// </summary>
    public TpeKernelDensity KernelDensity { get; init; } = TpeKernelDensity.Optuna31;

    /// <summary>Seed of every draw; null: a random one per sampler [seed].</summary>
    public int? Seed { get; init; }

    /// <summary>Optuna's <c>default_gamma</c>: min(⌈0.1·n⌉, 25).</summary>
    public static int DefaultGamma(int n) => Math.Min((int)Math.Ceiling(0.1 * n), 25);

    /// <summary>
    /// Optuna's <c>default_weights</c> (Bergstra et al. 2013): 1 each below 25 observations; from 25 on the newest 25
    /// weigh 1 and the older ones ramp linearly from 1/n up to 1.
    /// </summary>
    public static double[] DefaultWeights(int n)
    {
        if (n < 25) return Enumerable.Repeat(1.0, n).ToArray();
        int ramp = n - 25;
        var w = new double[n];
        for (int i = 0; i < ramp; i++)
            w[i] = ramp == 1 ? 1.0 / n : 1.0 / n + (1 - 1.0 / n) * i / (ramp - 1);
        for (int i = ramp; i < n; i++) w[i] = 1;
        return w;
    }

    /// <summary>A clear error for settings TPE cannot work with.</summary>
    public void Validate()
    {
        if (StartupTrials < 0) throw new GptSharpException($"tpe: n_startup_trials must be >= 0, got {StartupTrials}");
        if (EiCandidates < 1) throw new GptSharpException($"tpe: n_ei_candidates must be >= 1, got {EiCandidates}");
        if (!(PriorWeight > 0) || !double.IsFinite(PriorWeight)) throw new GptSharpException($"tpe: prior_weight must be > 0, got {PriorWeight}");
        if (!Enum.IsDefined(KernelDensity)) throw new GptSharpException($"tpe: unknown kernel density {KernelDensity}");
    }
}

/// <summary>How <see cref="TpeSampler"/>'s continuous kernels score a point (<see cref="TpeOptions.KernelDensity"/>).</summary>
public enum TpeKernelDensity
{
    /// <summary>Optuna ≤ 3.4: the standardised density φ((x − μ)/σ) / mass, i.e. each kernel weighted by its width σ.</summary>
    Optuna31,

    /// <summary>Optuna ≥ 3.5: the kernel's density φ((x − μ)/σ) / (σ · mass).</summary>
    Normalized,
}
