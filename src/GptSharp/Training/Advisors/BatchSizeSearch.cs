namespace GptSharp.Training.Advisors;

/// <summary>The probes in the order they ran, and the largest batch that fitted (0 when not even 1 did).</summary>
public sealed record BatchSizeSearchResult(IReadOnlyList<BatchSizeProbe> Probes, int LargestFit);

/// <summary>
/// The largest batch in 1 … maxBatch that fits, assuming that a batch fits whenever a larger one does: doubling from 1
/// (1, 2, 4, …, capped at maxBatch) until a batch does not fit, then binary search between the last that fitted and the
/// first that did not. No batch is probed twice. For a largest fit t ≥ 1 below maxBatch that is ⌊log2 t⌋ + 2 doubling
/// probes and at most ⌊log2 t⌋ bisection probes; when everything up to maxBatch fits, ⌈log2 maxBatch⌉ + 1 probes.
/// The probe is a delegate, so the search runs on any memory model (a test's fake one included).
/// </summary>
public static class BatchSizeSearch
{
    public static BatchSizeSearchResult Run(Func<int, BatchSizeProbe> probe, int maxBatch, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        var probes = new List<BatchSizeProbe>();
        bool Fits(int b)
        {
            ct.ThrowIfCancellationRequested();
            var p = probe(b);
            probes.Add(p with { BatchSize = b });
            return p.Fits;
        }

        if (!Fits(1)) return new BatchSizeSearchResult(probes, 0);
        int fit = 1, fail = 0; // fail: the smallest batch known not to fit (0: none yet)
        while (fit < maxBatch)
        {
            int next = (int)Math.Min((long)fit * 2, maxBatch);
            if (Fits(next)) fit = next;
            else
            {
                fail = next;
                break;
            }
        }
        while (fail > fit + 1)
        {
            int mid = fit + (fail - fit) / 2;
            if (Fits(mid)) fit = mid;
            else fail = mid;
        }
        return new BatchSizeSearchResult(probes, fit);
    }
}
