using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp;
using GptSharp.TuningBench;

// GptSharp's side of the tuning benchmark (bench/README.md, "Tuning"; Optuna's side: bench/tuning/optuna_peer.py).
// One JSON document on stdout (and --json-out FILE); progress on stderr.
const string Usage =
    "GptSharp.TuningBench [--parts quality,sampler-time,storage] [--objectives a,b] [--samplers tpe,random] [--seeds N] [--trials N]\n" +
    "                     [--sqlite-dir DIR] [--postgres-url postgresql://user@host:port/db] [--json-out FILE] [--check]";

if (args.Length > 0 && args[0] == "--worker")
    return Benchmarks.Worker(args[1], args[2], int.Parse(args[3]), int.Parse(args[4]));
// bench/tuning/ask_latency.sh: a study of N complete trials for `gptsharp tune ask` to face.
if (args.Length > 0 && args[0] == "--fill")
    return Benchmarks.Fill(args[1], args[2], File.ReadAllText(args[3]), int.Parse(args[4]));

var parts = new[] { "quality", "sampler-time", "storage" };
string[]? objectives = null;
string[] samplers = ["tpe", "random"];
int? seeds = null, trials = null;
string sqliteDir = Path.GetTempPath();
string? postgresUrl = null, jsonOut = null;
bool check = false;
try
{
    for (int i = 0; i < args.Length; i++)
    {
        string Value() => i + 1 < args.Length ? args[++i] : throw new GptSharpException($"{args[i]} needs a value\n{Usage}");
        switch (args[i])
        {
            case "--parts": parts = Value().Split(','); break;
            case "--objectives": objectives = Value().Split(','); break;
            case "--samplers": samplers = Value().Split(','); break;
            case "--seeds": seeds = int.Parse(Value()); break;
            case "--trials": trials = int.Parse(Value()); break;
            case "--sqlite-dir": sqliteDir = Value(); break;
            case "--postgres-url": postgresUrl = Value(); break;
            case "--json-out": jsonOut = Value(); break;
            case "--check": check = true; break;
            case "-h" or "--help": Console.Error.WriteLine(Usage); return 0;
            default: throw new GptSharpException($"unknown option {args[i]}\n{Usage}");
        }
    }
    foreach (var p in parts)
        if (p is not ("quality" or "sampler-time" or "storage")) throw new GptSharpException($"unknown part \"{p}\" (expected quality, sampler-time, storage)");
}
catch (Exception e) when (e is GptSharpException or FormatException) { Console.Error.WriteLine(e.Message); return 2; }

void Log(string line) => Console.Error.WriteLine(line);
var config = BenchConfig.Load();
foreach (var o in config.Objectives) o.Check();
if (check) { Log("objectives: every optimum checked"); return 0; }

static JsonArray LoadAverage() => new(File.Exists("/proc/loadavg")
    ? File.ReadAllText("/proc/loadavg").Split(' ').Take(3).Select(s => (JsonNode?)double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray()
    : []);

var doc = new JsonObject
{
    ["tool"] = "gptsharp",
    ["version"] = typeof(GptSharpException).Assembly.GetName().Version?.ToString(),
    [".net"] = Environment.Version.ToString(),
    ["date"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
    ["host"] = Environment.MachineName,
    ["cpus"] = Environment.ProcessorCount,
    ["os"] = RuntimeInformation.OSDescription,
    ["load_average"] = LoadAverage(),
};
var chosen = objectives is null ? config.Objectives : config.Objectives.Where(o => objectives.Contains(o.Name)).ToArray();
var seedList = seeds is { } n ? [.. Enumerable.Range(0, n)] : config.Seeds;
if (parts.Contains("quality")) doc["quality"] = Benchmarks.Quality(config, chosen, samplers, trials ?? config.Trials, seedList, Log);
if (parts.Contains("sampler-time")) doc["sampler_time"] = Benchmarks.SamplerTime(config, Log);
if (parts.Contains("storage")) doc["storage"] = Benchmarks.Storage(config, sqliteDir, postgresUrl, Log);
doc["load_average_end"] = LoadAverage();

string text = doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
if (jsonOut is not null)
{
    string tmp = jsonOut + ".tmp";
    File.WriteAllText(tmp, text + "\n");
    File.Move(tmp, jsonOut, overwrite: true);
}
Console.WriteLine(text);
return 0;
