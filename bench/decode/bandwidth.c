// Memory bandwidth the decode floor is taken from: threads each stream their share of one buffer (sum of floats,
// AVX-512 when built with -march=native), best of REPS passes. A 497 MB buffer is GPT-2 124M's fp32 weights.
// Measured twice, on the usual 4 KiB pages and on 2 MiB pages (MADV_HUGEPAGE, Linux): huge pages spare the TLB and
// gave this sum up to ~8 % more on our VMs, so the floor takes the faster of the two.
//   gcc -O3 -ffast-math -march=native -fopenmp bench/decode/bandwidth.c -o /tmp/bandwidth && OMP_NUM_THREADS=2 /tmp/bandwidth [MB] [REPS]
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE (2ul << 20)

static double best_gb_per_s(float *a, size_t n, size_t reps, double *sink) {
    #pragma omp parallel for
    for (size_t i = 0; i < n; i++) a[i] = (float)(i & 7);
    double best = 1e30;
    for (size_t r = 0; r < reps; r++) {
        double t = omp_get_wtime();
        float total = 0;
        #pragma omp parallel for reduction(+ : total)
        for (size_t i = 0; i < n; i++) total += a[i];
        t = omp_get_wtime() - t;
        if (t < best) best = t;
        *sink += total;
    }
    return n * sizeof(float) / best / 1e9;
}

int main(int argc, char **argv) {
    size_t mb = argc > 1 ? strtoul(argv[1], 0, 10) : 497, reps = argc > 2 ? strtoul(argv[2], 0, 10) : 20;
    size_t n = mb * 1000 * 1000 / sizeof(float), bytes = (n * sizeof(float) + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    double sink = 0;
    float *small = aligned_alloc(HUGE_PAGE, bytes);
    madvise(small, bytes, MADV_NOHUGEPAGE);
    double gb_small = best_gb_per_s(small, n, reps, &sink);
    free(small);
    float *huge = aligned_alloc(HUGE_PAGE, bytes);
    int advised = madvise(huge, bytes, MADV_HUGEPAGE) == 0;
    double gb_huge = best_gb_per_s(huge, n, reps, &sink);
    free(huge);
    printf("{\"megabytes\": %zu, \"threads\": %d, \"gb_per_s\": %.1f, \"gb_per_s_4k_pages\": %.1f, "
           "\"gb_per_s_2m_pages\": %.1f, \"huge_pages_advised\": %s, \"checksum\": %.0f}\n",
           mb, omp_get_max_threads(), gb_huge > gb_small ? gb_huge : gb_small, gb_small, gb_huge,
           advised ? "true" : "false", sink);
    return 0;
}
