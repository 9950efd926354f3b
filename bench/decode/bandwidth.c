// Memory bandwidth the decode floor is taken from: threads each stream their share of one buffer (sum of floats,
// AVX-512 when built with -march=native), best of REPS passes. A 497 MB buffer is GPT-2 124M's fp32 weights.
//   gcc -O3 -ffast-math -march=native -fopenmp bench/decode/bandwidth.c -o /tmp/bandwidth && OMP_NUM_THREADS=2 /tmp/bandwidth [MB] [REPS]
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    size_t mb = argc > 1 ? strtoul(argv[1], 0, 10) : 497, reps = argc > 2 ? strtoul(argv[2], 0, 10) : 20;
    size_t n = mb * 1000 * 1000 / sizeof(float);
    float *a = aligned_alloc(64, n * sizeof(float));
    #pragma omp parallel for
    for (size_t i = 0; i < n; i++) a[i] = (float)(i & 7);
    double best = 1e30, sink = 0;
    for (size_t r = 0; r < reps; r++) {
        double t = omp_get_wtime();
        float total = 0;
        #pragma omp parallel for reduction(+ : total)
        for (size_t i = 0; i < n; i++) total += a[i];
        t = omp_get_wtime() - t;
        if (t < best) best = t;
        sink += total;
    }
    printf("{\"megabytes\": %zu, \"threads\": %d, \"best_seconds\": %.6f, \"gb_per_s\": %.1f, \"checksum\": %.0f}\n",
           mb, omp_get_max_threads(), best, n * sizeof(float) / best / 1e9, sink);
    return 0;
}
