/*
 * vcpu-sel-bench: cost of setting a bit of a vcpu_info's evtchn_pending_sel
 * in the 64-bit layout, as QEMU's Xen event channel delivery does, with
 * QEMU 10.2.2's code ("pristine") and with the series' helper ("patched",
 * xen_vcpu_info_test_and_set_sel() from the patched tree's
 * hw/i386/kvm/xen_vcpu_info.h, included as is).
 *
 *   (a) evtchn_pending_sel 8-byte aligned (vcpu_info at page offset 64)
 *   (b) evtchn_pending_sel 4-byte aligned, covering bytes 60..67 of a page:
 *       it straddles a 64-byte line (vcpu_info at page offset 52, as a
 *       guest that registered it in 32-bit mode may leave it)
 *
 * Every iteration does one locked RMW that changes the value: it sets one
 * of 32 bits of one half in turn, and after each round of 32 the field is
 * cleared with plain stores, the same in both variants. Then a second thread on another
 * CPU streams over a 64 MiB buffer while this one runs the pristine or the
 * patched loop on the straddling field, and we compare its throughput.
 *
 * Usage: vcpu-sel-bench [-r REPS] [-t MS_PER_REP] [-w MS_PER_WINDOW]
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/i386/kvm/xen_vcpu_info.h"
#include <sched.h>

#define PAGE            4096
#define VI_ALIGNED      64      /* evtchn_pending_sel at 72..79 */
#define VI_STRADDLING   52      /* evtchn_pending_sel at 60..67 */
#define NB_BYTES        (64 * 1024 * 1024)
#define NB_CHUNK        (64 * 1024)

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/*
 * The baseline: what QEMU 10.2.2 does, in hw/i386/kvm/xen_evtchn.c
 * do_set_port_lm() (and set_vcpu_info_pending()'s long mode branch):
 *
 *     mask = 1UL << idx;
 *     if (qatomic_fetch_or(&vcpu_info->evtchn_pending_sel, mask) & mask) {
 *
 * with 'struct vcpu_info *vcpu_info' wherever the guest put it: one 64-bit
 * locked op whatever the alignment.
 */
static inline bool pristine_test_and_set_sel(void *vcpu_info, bool long_mode,
                                             unsigned int idx)
{
    uint64_t *sel = (uint64_t *)((uint8_t *)vcpu_info +
                                 offsetof(struct vcpu_info,
                                          evtchn_pending_sel));
    uint64_t mask = 1ULL << idx;

    (void)long_mode;
    return qatomic_fetch_or(sel, mask) & mask;
}

/* The series: the helper from hw/i386/kvm/xen_vcpu_info.h, unchanged. */
#define patched_test_and_set_sel xen_vcpu_info_test_and_set_sel

/*
 * Clear evtchn_pending_sel with plain stores of its natural width: one
 * 64-bit store when it is 8-byte aligned, two 32-bit ones otherwise (the
 * same in both variants).
 */
static inline void clear_sel(void *vi)
{
    uint8_t *sel = (uint8_t *)vi + offsetof(struct vcpu_info,
                                            evtchn_pending_sel);

    if (QEMU_IS_ALIGNED((uintptr_t)sel, sizeof(uint64_t))) {
        qatomic_set((uint64_t *)sel, 0);
    } else {
        qatomic_set((uint32_t *)sel, 0);
        qatomic_set((uint32_t *)sel + 1, 0);
    }
}

/*
 * n deliveries, on bits first..first + 31 in turn (one half of the field),
 * clearing the field after each round of 32: every locked op changes the
 * value. Returns how many found their bit already set, which must be 0.
 */
#define DEFINE_LOOP(variant)                                            \
static __attribute__((noinline)) long                                   \
loop_##variant(void *vi, unsigned int first, long n)                    \
{                                                                       \
    long i, hits = 0;                                                   \
                                                                        \
    clear_sel(vi);                                                      \
    for (i = 0; i < n; i++) {                                           \
        hits += variant##_test_and_set_sel(vi, true, first + (i & 31)); \
        if ((i & 31) == 31) {                                           \
            clear_sel(vi);                                              \
        }                                                               \
    }                                                                   \
    clear_sel(vi);                                                      \
    return hits;                                                        \
}
DEFINE_LOOP(pristine)
DEFINE_LOOP(patched)

typedef long LoopFn(void *vi, unsigned int idx, long n);

static void run_loop(LoopFn *fn, void *vi, unsigned int idx, long n)
{
    if (fn(vi, idx, n) != 0) {
        fprintf(stderr, "vcpu-sel-bench: a bit in %u..%u was already set\n",
                idx, idx + 31);
        exit(1);
    }
}

/* ns per delivery over a run of about target_s seconds */
static double measure(LoopFn *fn, void *vi, unsigned int idx, double target_s)
{
    long n = 64;
    double t;

    /* calibrate: grow n until a run takes at least 2 ms */
    for (;;) {
        t = now();
        run_loop(fn, vi, idx, n);
        t = now() - t;
        if (t >= 2e-3) {
            break;
        }
        n *= 4;
    }
    n = MAX(n, (long)(n * target_s / t));
    t = now();
    run_loop(fn, vi, idx, n);
    t = now() - t;
    return t / n * 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool pin(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set) == 0;
}

/* --- noisy neighbour ---------------------------------------------------- */

static int nb_cpu = -1;
static uint64_t *nb_buf;
static uint64_t nb_bytes;       /* streamed so far, updated per chunk */
static bool nb_stop, nb_ready;
static uint64_t nb_sink;

static void *neighbour(void *opaque)
{
    size_t words = NB_BYTES / sizeof(uint64_t);
    size_t chunk = NB_CHUNK / sizeof(uint64_t);
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i, j;

    if (nb_cpu >= 0) {
        pin(nb_cpu);
    }
    memset(nb_buf, 1, NB_BYTES);
    qatomic_set(&nb_ready, true);
    while (!qatomic_read(&nb_stop)) {
        for (i = 0; i < words; i += chunk) {
            for (j = i; j < i + chunk; j += 4) {
                s0 += nb_buf[j];
                s1 += nb_buf[j + 1];
                s2 += nb_buf[j + 2];
                s3 += nb_buf[j + 3];
            }
            /* keep the loads: the sums are live at every chunk */
            asm volatile("" : : "r"(s0), "r"(s1), "r"(s2), "r"(s3));
            qatomic_set(&nb_bytes, qatomic_read(&nb_bytes) + NB_CHUNK);
        }
    }
    nb_sink = s0 + s1 + s2 + s3;
    return NULL;
}

/*
 * The neighbour's GB/s during window_s seconds in which this thread runs
 * fn on bit idx of vi (fn == NULL: this thread sleeps).
 */
static double neighbour_window(LoopFn *fn, void *vi, unsigned int idx,
                               double window_s)
{
    uint64_t b0, b1;
    double t0, t1;

    b0 = qatomic_read(&nb_bytes);
    t0 = now();
    if (!fn) {
        g_usleep(window_s * 1e6);
    } else {
        while (now() - t0 < window_s) {
            run_loop(fn, vi, idx, 64);
        }
    }
    b1 = qatomic_read(&nb_bytes);
    t1 = now();
    return (b1 - b0) / (t1 - t0) / 1e9;
}

/* ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    int reps = 7, ms_rep = 40, ms_window = 500, opt;
    uint8_t *page;
    void *vi_al, *vi_st;
    cpu_set_t avail;
    int cpus[2] = { -1, -1 }, ncpus = 0, c, r, i;
    struct {
        const char *field;
        void **vi;
        unsigned int idx;
        double ns[2][64];       /* [pristine, patched][rep] */
    } cases[] = {
        { "(a) aligned",    &vi_al, 0 },
        { "(a) aligned",    &vi_al, 32 },
        { "(b) straddling", &vi_st, 0 },
        { "(b) straddling", &vi_st, 32 },
    };
    LoopFn *fns[2] = { loop_pristine, loop_patched };
    double nb[3][64];           /* [idle, pristine, patched][rep] */
    pthread_t th;
    double t_start = now();

    while ((opt = getopt(argc, argv, "r:t:w:")) != -1) {
        switch (opt) {
        case 'r':
            reps = MIN(MAX(atoi(optarg), 1), 64);
            break;
        case 't':
            ms_rep = MAX(atoi(optarg), 1);
            break;
        case 'w':
            ms_window = MAX(atoi(optarg), 10);
            break;
        default:
            fprintf(stderr, "usage: %s [-r REPS] [-t MS_PER_REP] "
                    "[-w MS_PER_WINDOW]\n", argv[0]);
            return 2;
        }
    }

    page = aligned_alloc(PAGE, 2 * PAGE);
    memset(page, 0, 2 * PAGE);
    vi_al = page + VI_ALIGNED;
    vi_st = page + PAGE + VI_STRADDLING;
    {
        uintptr_t s = (uintptr_t)vi_st + 8;

        if (s % 8 != 4 || s / 64 == (s + 7) / 64 ||
            ((uintptr_t)vi_al + 8) % 8 != 0) {
            fprintf(stderr, "vcpu-sel-bench: bad layout\n");
            return 1;
        }
    }

    if (sched_getaffinity(0, sizeof(avail), &avail) == 0) {
        for (c = 0; c < CPU_SETSIZE && ncpus < 2; c++) {
            if (CPU_ISSET(c, &avail)) {
                cpus[ncpus++] = c;
            }
        }
    }
    if (cpus[0] >= 0) {
        pin(cpus[0]);
    }
    nb_cpu = cpus[1];

    /* interleave the variants and cases, so that drift hits all alike */
    for (r = 0; r < reps; r++) {
        for (i = 0; i < ARRAY_SIZE(cases); i++) {
            for (c = 0; c < 2; c++) {
                cases[i].ns[c][r] = measure(fns[c], *cases[i].vi,
                                            cases[i].idx, ms_rep / 1e3);
            }
        }
    }

    printf("### Delivery cost: one evtchn_pending_sel bit, 64-bit layout\n\n");
    printf("%d repetitions of ~%d ms each, median; CPU %d%s.\n\n",
           reps, ms_rep, cpus[0], cpus[0] >= 0 ? " (pinned)" : "");
    printf("| evtchn_pending_sel | bits | pristine ns | patched ns | ratio |\n");
    printf("|---|---:|---:|---:|---|\n");
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        double p = median(cases[i].ns[0], reps);
        double q = median(cases[i].ns[1], reps);
        bool al = *cases[i].vi == vi_al;

        printf("| %s | %u-%u (%s half) | %.2f | %.2f | %s %.*f |\n",
               cases[i].field, cases[i].idx, cases[i].idx + 31,
               cases[i].idx < 32 ? "low" : "high", p, q,
               al ? "patched/pristine" : "pristine/patched",
               al ? 2 : 0, al ? q / p : p / q);
    }

    printf("\n### Noisy neighbour: streaming reads over 64 MiB on another "
           "CPU\n\n");
    if (nb_cpu < 0) {
        printf("Skipped: only one CPU is available to this process.\n");
    } else {
        nb_buf = aligned_alloc(PAGE, NB_BYTES);
        if (pthread_create(&th, NULL, neighbour, NULL)) {
            fprintf(stderr, "vcpu-sel-bench: pthread_create failed\n");
            return 1;
        }
        while (!qatomic_read(&nb_ready)) {
            g_usleep(1000);
        }
        neighbour_window(NULL, NULL, 0, 0.2);  /* warm up */
        for (r = 0; r < 3 && r < reps; r++) {
            nb[0][r] = neighbour_window(NULL, NULL, 0, ms_window / 1e3);
            nb[1][r] = neighbour_window(loop_pristine, vi_st, 32,
                                        ms_window / 1e3);
            nb[2][r] = neighbour_window(loop_patched, vi_st, 32,
                                        ms_window / 1e3);
        }
        qatomic_set(&nb_stop, true);
        pthread_join(th, NULL);
        r = MIN(3, reps);
        {
            double idle = median(nb[0], r);
            double pri = median(nb[1], r);
            double pat = median(nb[2], r);

            printf("Neighbour on CPU %d; this thread on CPU %d runs the "
                   "loop on the straddling\nfield (bits 32-63) or sleeps; "
                   "%d windows of %d ms each, median.\n\n",
                   nb_cpu, cpus[0], r, ms_window);
            printf("| this thread | neighbour GB/s | vs. idle |\n");
            printf("|---|---:|---:|\n");
            printf("| idle (sleeping) | %.2f | 1.00 |\n", idle);
            printf("| pristine loop, (b) | %.2f | %.2f |\n", pri, pri / idle);
            printf("| patched loop, (b) | %.2f | %.2f |\n", pat, pat / idle);
            printf("\nNeighbour throughput patched/pristine: %.1fx\n",
                   pat / pri);
        }
    }
    printf("\nBenchmark time: %.1f s\n", now() - t_start);
    return 0;
}
