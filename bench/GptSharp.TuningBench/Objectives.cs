using System.Text.Json.Nodes;
using GptSharp.Tuning;

namespace GptSharp.TuningBench;

/// <summary>One parameter of a search space as objectives.json writes it.</summary>
sealed record ParamSpec(string Name, string Type, double Low, double High, bool Log, IReadOnlyList<string> Choices)
{
    public static ParamSpec From(JsonNode n) => new(
        (string)n["name"]!, (string)n["type"]!, (double?)n["low"] ?? 0, (double?)n["high"] ?? 0, (bool?)n["log"] ?? false,
        n["choices"]?.AsArray().Select(c => (string)c!).ToArray() ?? []);

    /// <summary>Suggests this parameter the way optuna_peer.py does: a double, an int or a choice.</summary>
    public object Suggest(Trial trial) => Type switch
    {
        "float" => trial.SuggestFloat(Name, Low, High, Log),
        "int" => trial.SuggestInt(Name, (int)Low, (int)High, log: Log),
        "categorical" => trial.SuggestCategorical(Name, Choices),
        _ => throw new GptSharpException($"objectives.json: parameter \"{Name}\" has unknown type \"{Type}\""),
    };
}

/// <summary>An objective of the benchmark: its search space from objectives.json and its formula (the same as optuna_peer.py's).</summary>
sealed record Objective(string Name, IReadOnlyList<ParamSpec> Params, double OptimumValue, IReadOnlyList<Dictionary<string, object>> OptimumAt)
{
    public Func<IReadOnlyDictionary<string, object>, double> Function => Functions[Name];

    /// <summary>Suggests every parameter in order and evaluates the formula.</summary>
    public double Evaluate(Trial trial) => Function(Params.ToDictionary(p => p.Name, p => p.Suggest(trial)));

    static readonly double[] HartmannAlpha = [1.0, 1.2, 3.0, 3.2];
    static readonly double[,] HartmannA =
    {
        { 10, 3, 17, 3.5, 1.7, 8 }, { 0.05, 10, 17, 0.1, 8, 14 }, { 3, 3.5, 1.7, 10, 17, 8 }, { 17, 8, 0.05, 10, 0.1, 14 },
    };
    static readonly double[,] HartmannP =
    {
        { 1312, 1696, 5569, 124, 8283, 5886 }, { 2329, 4135, 8307, 3736, 1004, 9991 },
        { 2348, 1451, 3522, 2883, 3047, 6650 }, { 4047, 8828, 8732, 5743, 1091, 381 },
    };
    static readonly Dictionary<string, double> Offsets = new() { ["sgd"] = 0.6, ["momentum"] = 0.3, ["adam"] = 0.05, ["adamw"] = 0.0 };

    static double D(IReadOnlyDictionary<string, object> p, string name) => Convert.ToDouble(p[name], System.Globalization.CultureInfo.InvariantCulture);

    static double Branin(IReadOnlyDictionary<string, object> p)
    {
        double x1 = D(p, "x1"), x2 = D(p, "x2");
        double b = 5.1 / (4 * Math.PI * Math.PI), c = 5 / Math.PI, r = 6, s = 10, t = 1 / (8 * Math.PI);
        double q = x2 - b * x1 * x1 + c * x1 - r;
        return q * q + s * (1 - t) * Math.Cos(x1) + s;
    }

    static double Hartmann6(IReadOnlyDictionary<string, object> p)
    {
        double total = 0;
        for (int i = 0; i < 4; i++)
        {
            double inner = 0;
            for (int j = 0; j < 6; j++)
            {
                double d = D(p, $"x{j}") - 1e-4 * HartmannP[i, j];
                inner += HartmannA[i, j] * d * d;
            }
            total -= HartmannAlpha[i] * Math.Exp(-inner);
        }
        return total;
    }

    static double LrWd(IReadOnlyDictionary<string, object> p)
    {
        double u = Math.Log10(D(p, "lr")) + 3, v = Math.Log10(D(p, "wd")) + 4;
        return u * u + v * v + u * v / 2 + 0.2 * (1 - Math.Cos(2 * Math.PI * u));
    }

    static double Mixed(IReadOnlyDictionary<string, object> p)
    {
        double a = (D(p, "layers") - 6) / 3, b = (Math.Log2(D(p, "width")) - 8) / 2, d = D(p, "dropout") - 0.1;
        return a * a + b * b + a * b / 2 + Offsets[(string)p["optimizer"]] + 4 * d * d;
    }

    static readonly Dictionary<string, Func<IReadOnlyDictionary<string, object>, double>> Functions = new()
    {
        ["branin"] = Branin, ["hartmann6"] = Hartmann6, ["lr_wd"] = LrWd, ["mixed"] = Mixed,
    };

    public static Objective From(JsonNode n)
    {
        string name = (string)n["name"]!;
        if (!Functions.ContainsKey(name)) throw new GptSharpException($"objectives.json: no formula for objective \"{name}\" in this harness");
        var at = n["optimum"]!["at"]!.AsArray()
            .Select(o => o!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValueKind() == System.Text.Json.JsonValueKind.String ? (object)(string)kv.Value! : (double)kv.Value!))
            .ToArray();
        return new Objective(name, n["params"]!.AsArray().Select(p => ParamSpec.From(p!)).ToArray(), (double)n["optimum"]!["value"]!, at);
    }

    /// <summary>Every objective at its documented optimum gives the documented value (the peer checks the same).</summary>
    public void Check()
    {
        foreach (var at in OptimumAt)
        {
            double got = Function(at);
            if (Math.Abs(got - OptimumValue) > 1e-5)
                throw new GptSharpException($"{Name} at its documented optimum is {got}, not {OptimumValue}");
        }
    }
}

/// <summary>objectives.json, read from next to the executable.</summary>
sealed class BenchConfig
{
    public required JsonNode Root { get; init; }
    public required IReadOnlyList<Objective> Objectives { get; init; }

    public int Trials => (int)Root["trials"]!;
    public IReadOnlyList<int> Seeds => Root["seeds"]!.AsArray().Select(s => (int)s!).ToArray();
    public IReadOnlyList<int> Checkpoints => Root["checkpoints"]!.AsArray().Select(s => (int)s!).ToArray();

    public static BenchConfig Load()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "objectives.json");
        var root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new GptSharpException($"{path} is empty");
        return new BenchConfig { Root = root, Objectives = root["objectives"]!.AsArray().Select(o => Objective.From(o!)).ToArray() };
    }
}
