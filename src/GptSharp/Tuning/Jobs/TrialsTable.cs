using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.IO;

namespace GptSharp.Tuning.Jobs;

/// <summary>A study's trials as a table: one row per trial (number, state, value, duration, each parameter, steps), as CSV and JSON.</summary>
public static class TrialsTable
{
    /// <summary>The table as JSON: an array of trial objects.</summary>
    public static JsonArray ToJson(IReadOnlyList<FrozenTrial> trials)
    {
        var rows = new JsonArray();
        foreach (var t in trials)
        {
            var p = new JsonObject();
            foreach (var (k, v) in t.Params) p[k] = CategoricalDistribution.ToNode(v);
            var row = new JsonObject
            {
                ["number"] = t.Number, ["state"] = t.State.ToName(), ["value"] = t.Value, ["params"] = p,
                ["duration_s"] = t.Duration?.TotalSeconds, ["started"] = t.Started?.ToString("O"), ["completed"] = t.Completed?.ToString("O"),
                ["last_step"] = t.LastStep,
                ["intermediate_values"] = new JsonObject(t.IntermediateValues.OrderBy(kv => kv.Key)
                    .Select(kv => KeyValuePair.Create(kv.Key.ToString(CultureInfo.InvariantCulture), (JsonNode?)kv.Value))),
            };
            var attrs = new JsonObject();
            foreach (var (k, v) in t.UserAttrs) attrs[k] = JsonNode.Parse(v);
            row["user_attrs"] = attrs;
            if (t.SystemAttrs.TryGetValue(StorageRules.FailReasonKey, out var why)) row["fail_reason"] = JsonNode.Parse(why);
            if (t.SystemAttrs.TryGetValue(FrozenTrial.RetriedFromKey, out var from)) row["retried_from"] = JsonNode.Parse(from);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The table as CSV: number, state, value, duration_s, last_step, then one column per parameter (params_NAME, as Optuna's trials_dataframe).</summary>
    public static string ToCsv(IReadOnlyList<FrozenTrial> trials)
    {
        var names = trials.SelectMany(t => t.Params.Keys).Distinct().ToArray();
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(",", new[] { "number", "state", "value", "duration_s", "last_step" }.Concat(names.Select(n => Quote("params_" + n)))));
        string F(double? v) => v is { } x ? x.ToString("R", CultureInfo.InvariantCulture) : "";
        foreach (var t in trials)
        {
            var cells = new List<string> { t.Number.ToString(CultureInfo.InvariantCulture), t.State.ToName(), F(t.Value), F(t.Duration?.TotalSeconds), t.LastStep?.ToString(CultureInfo.InvariantCulture) ?? "" };
            foreach (var n in names) cells.Add(t.Params.TryGetValue(n, out var v) ? Quote(TuneConfig.Format(v)) : "");
            sb.AppendLine(string.Join(",", cells));
        }
        return sb.ToString();
    }

    /// <summary>Writes trials.csv and trials.json into <paramref name="dir"/>, each atomically.</summary>
    public static (string Csv, string Json) Write(IReadOnlyList<FrozenTrial> trials, string dir)
    {
        Directory.CreateDirectory(dir);
        string csv = Path.Combine(dir, "trials.csv"), json = Path.Combine(dir, "trials.json");
        AtomicFile.WriteAllText(csv, ToCsv(trials));
        AtomicFile.WriteAllText(json, ToJson(trials).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return (csv, json);
    }

    static string Quote(string s) => s.IndexOfAny([',', '"', '\n', '\r']) < 0 ? s : "\"" + s.Replace("\"", "\"\"") + "\"";
}
