using System.Text.Json.Nodes;
using GptSharp.Native;
using GptSharp.Data;

namespace GptSharp.Bench;

/// <summary>One case as JSON, with the PyTorch figure for the same allocator kind and our ratio to it.</summary>
static class Report
{
    public static JsonObject Case(CaseResult r)
    {
        var ms = r.StepSeconds.Select(s => s * 1000).Order().ToArray();
        double median = Median(ms);
        double tokensPerSecond = r.TokensPerStep / (median / 1000);
        var peer = PeerFigures.PyTorch[(r.Preset, r.Precision)];
        // tcmalloc against tcmalloc; glibc (with or without our mallopt tuning) against PyTorch's plain glibc.
        bool tcmalloc = Allocator.Current == "tcmalloc";
        double peerFigure = tcmalloc ? peer.Tcmalloc : peer.Glibc;
        var shape = PeerFigures.Shapes[r.Preset];
        return new JsonObject
        {
            ["preset"] = r.Preset,
            ["precision"] = r.Precision == "bf16" ? "bf16 (fp32 master weights, bf16 matmuls)" : "fp32",
            ["n_layer"] = r.Config.NLayer,
            ["n_head"] = r.Config.NHead,
            ["n_embd"] = r.Config.NEmbd,
            ["vocab_size"] = r.Config.VocabSize,
            ["block_size"] = r.Config.BlockSize,
            ["batch_size"] = r.BatchSize,
            ["parameters"] = r.Parameters,
            ["parameters_match_peer"] = r.Parameters == shape.Parameters,
            ["tokens_per_step"] = r.TokensPerStep,
            ["warmup_steps"] = r.Warmup,
            ["timed_steps"] = ms.Length,
            ["tokens_per_s"] = Math.Round(tokensPerSecond, 1),
            // On a shared machine the fastest step is closer to what the code can do than the median.
            ["tokens_per_s_best"] = Math.Round(r.TokensPerStep / (ms[0] / 1000), 1),
            ["ms_per_step"] = new JsonObject
            {
                ["median"] = Math.Round(median, 1), ["min"] = Math.Round(ms[0], 1), ["max"] = Math.Round(ms[^1], 1),
                ["spread_pct"] = Math.Round((ms[^1] - ms[0]) / median * 100, 1),
            },
            ["minor_faults_per_step"] = r.StepMinorFaults.Length > 0 ? (long)Median(r.StepMinorFaults.Select(f => (double)f).Order().ToArray()) : null,
            ["loss_first"] = Math.Round(r.FirstLoss, 4),
            ["loss_last"] = Math.Round(r.LastLoss, 4),
            ["peak_rss_mib"] = r.PeakRssMiB is { } p ? Math.Round(p) : null,
            ["rss_after_mib"] = r.RssMiB is { } m ? Math.Round(m) : null,
            ["rss_mib"] = r.RssMiB is { } c ? Math.Round(c) : null,
            ["own_cores"] = Math.Round(r.OwnCores, 2),
            ["other_cores"] = r.OtherCores is { } o ? Math.Round(o, 2) : null,
            ["allocator"] = Allocator.Current,
            ["peer"] = new JsonObject
            {
                ["pytorch_glibc"] = peer.Glibc,
                ["pytorch_tcmalloc"] = peer.Tcmalloc,
                ["compared_with"] = tcmalloc ? "pytorch_tcmalloc" : "pytorch_glibc",
                ["ratio"] = Math.Round(tokensPerSecond / peerFigure, 3),
            },
        };
    }

    public static JsonObject Decode(DecodeBenchmark.Result r)
    {
        double pp = DecodeBenchmark.PromptTokens / Median([.. r.PrefillSeconds.Order()]);
        double tg = DecodeBenchmark.NewTokens / Median([.. r.DecodeSeconds.Order()]);
        var peer = PeerFigures.LlamaCpp[r.Precision.Replace("onnx-", "").Replace("ort-", "")];
        return new JsonObject
        {
            ["key"] = r.Precision,
            ["precision"] = r.Precision switch
            {
                "bf16" => "bf16 (the whole module converted to bfloat16, as --precision bf16 loads it)",
                "int8" => "int8 weight-only (per-output-channel scales; Linear layers and the tied embedding/LM head), bf16 activations, float weights freed",
                "onnx-fp32" => "fp32 on the onnx engine (ONNX Runtime running the model's graph)",
                "onnx-bf16" => "onnx engine: weight matrices rounded to bfloat16 (the row kernels stream them as 16 bits, float32 activations; a single sequence's prompt on a bf16 copy in TorchSharp; ONNX Runtime's graph, for batches, holds them as float32)",
                "onnx-int8" => "onnx engine: 8-bit Linear weights and tied LM head in blocks of 32 (MatMulNBits, int8 activations); embedding lookup fp32",
                "onnx-int4" => "onnx engine: 4-bit Linear weights in blocks of 32, tied LM head 8-bit (MatMulNBits, int8 activations); embedding lookup fp32",
                _ => "fp32",
            },
            ["parameters"] = r.Parameters,
            ["reps"] = r.PrefillSeconds.Length,
            ["pp256_tokens_per_s"] = Math.Round(pp, 1),
            ["time_to_first_token_256_ms"] = Math.Round(1000 * DecodeBenchmark.PromptTokens / pp, 1),
            ["tg128_tokens_per_s"] = Math.Round(tg, 1),
            ["tg128_tokens_per_s_best"] = Math.Round(DecodeBenchmark.NewTokens / r.DecodeSeconds.Min(), 1),
            ["tg128_batch8_aggregate_tokens_per_s"] = Math.Round(DecodeBenchmark.Batch * DecodeBenchmark.NewTokens / Median([.. r.Batch8Seconds.Order()]), 1),
            ["continuous_batching_8_requests_tokens_per_s"] = r.Continuous8Seconds.Length == 0 ? null
                : Math.Round(DecodeBenchmark.Batch * DecodeBenchmark.NewTokens / Median([.. r.Continuous8Seconds.Order()]), 1),
            ["second_turn_ttft_ms_cache_reused"] = r.SecondTurnCachedSeconds.Length == 0 ? null : Math.Round(1000 * Median([.. r.SecondTurnCachedSeconds.Order()]), 1),
            ["second_turn_ttft_ms_no_cache"] = r.SecondTurnUncachedSeconds.Length == 0 ? null : Math.Round(1000 * Median([.. r.SecondTurnUncachedSeconds.Order()]), 1),
            ["per_token_overhead_ms"] = Math.Round(r.OverheadSeconds * 1000, 2),
            ["fp32_floor_pairs"] = r.FloorPairs.Length == 0 ? null : new JsonArray([.. r.FloorPairs.Select(f =>
            {
                double floor = f.ProbeGbPerS * 1e9 / r.StreamedBytes, tokens = DecodeBenchmark.NewTokens / f.DecodeSeconds;
                return (JsonNode)new JsonObject
                {
                    ["probe_gb_per_s"] = Math.Round(f.ProbeGbPerS, 1), ["floor_tokens_per_s"] = Math.Round(floor, 1),
                    ["tg128_tokens_per_s"] = Math.Round(tokens, 1), ["of_floor"] = Math.Round(tokens / floor, 3),
                };
            })]),
            ["fp32_streamed_bytes"] = r.FloorPairs.Length == 0 ? null : r.StreamedBytes,
            ["peak_rss_mib"] = r.PeakRssMiB is { } p ? Math.Round(p) : null,
            ["rss_after_mib"] = r.RssMiB is { } m ? Math.Round(m) : null,
            ["peer"] = new JsonObject
            {
                ["llama_cpp_weights"] = peer.Weights,
                ["llama_cpp_pp256"] = peer.Pp256,
                ["llama_cpp_tg128"] = peer.Tg128,
                ["ratio_pp256"] = Math.Round(pp / peer.Pp256, 3),
                ["ratio_tg128"] = Math.Round(tg / peer.Tg128, 3),
                ["llama_cpp_batch8_aggregate"] = peer.Batch8,
            },
        };
    }

    static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}
