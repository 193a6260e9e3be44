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
 * Every delivery is one locked RMW that changes the value: it sets one of
 * 32 bits of one half in turn, and after each round of 32 the field is
 * cleared with plain stores, the same in both variants.
 *
 * What it prints:
 *
 *   - the host, and what it does with a split lock: the cost of a raw
 *     64-bit locked OR that straddles a cache line against an aligned one,
 *     whether the thread gets throttled (Linux's split_lock_warn() sleeps
 *     10 ms with split_lock_mitigate=1), the split_lock_detect flag and
 *     /proc/sys/kernel/split_lock_mitigate;
 *   - per case and variant, the distribution of the latency of a single
 *     delivery, each one timed alone (median, 99th and 99.9th percentile,
 *     maximum, how many took 1 ms or more, out of how many);
 *   - per case and variant, the throughput: deliveries per second over a
 *     loop with no timer in it;
 *   - a second thread on another CPU streaming over a 64 MiB buffer while
 *     this one runs the pristine or the patched loop on the straddling
 *     field: its throughput.
 *
 * Usage: vcpu-sel-bench [-r REPS] [-t MS_PER_REP] [-w MS_PER_WINDOW]
 *                       [-n SAMPLES] [-s MS_SAMPLING]
 *
 * BENCH_SCALE=F in the environment (default 1, at most 10) multiplies every
 * duration and sample count but REPS before the options apply:
 * BENCH_SCALE=0.01 is a smoke run of a few seconds.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/i386/kvm/xen_vcpu_info.h"
#include <sched.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#define PAGE            4096
#define VI_ALIGNED      64      /* evtchn_pending_sel at 72..79 */
#define VI_STRADDLING   52      /* evtchn_pending_sel at 60..67 */
#define NB_BYTES        (64 * 1024 * 1024)
#define NB_CHUNK        (64 * 1024)
#define SLOW_NS         1e6     /* a delivery or op this slow was stalled */

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/*
 * Timing a single delivery. An aligned delivery costs a few ns, less than
 * one clock_gettime(CLOCK_MONOTONIC) (~20 ns through the vDSO, a system
 * call where the clocksource is not the TSC), so each one is timed with
 * the TSC: "lfence; rdtsc; lfence" on either side, so that the read waits
 * for the instructions before it to complete and the ones after it do
 * not start early; the "memory" clobber keeps the compiler from moving
 * the locked op across it. rdtsc does not exit to the hypervisor under
 * KVM, and where the CPU has constant_tsc and nonstop_tsc the TSC counts
 * time at a fixed rate, also while the thread or its vCPU is stalled; its
 * rate is calibrated against CLOCK_MONOTONIC. Without those flags (or off
 * x86) the samples fall back to CLOCK_MONOTONIC. Either way a sample
 * includes the timer's own cost, which is printed with the table.
 */
static bool use_tsc;
static double ticks_per_ns = 1;

static inline uint64_t ticks(void)
{
    struct timespec ts;

#if defined(__x86_64__) || defined(__i386__)
    if (use_tsc) {
        uint32_t lo, hi;

        asm volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : :
                     "memory");
        return (uint64_t)hi << 32 | lo;
    }
#endif
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline uint32_t ticks_u32(uint64_t t)
{
    return MIN(t, UINT32_MAX);
}

/* A TSC reading and a CLOCK_MONOTONIC one taken together (best of 5). */
static void tick_pair(uint64_t *k, double *t)
{
    uint64_t a, b, best = UINT64_MAX;
    double s;
    int i;

    for (i = 0; i < 5; i++) {
        a = ticks();
        s = now();
        b = ticks();
        if (b - a < best) {
            best = b - a;
            *k = a + (b - a) / 2;
            *t = s;
        }
    }
}

static void timer_init(bool constant_tsc)
{
    uint64_t k0, k1;
    double t0, t1;

#if defined(__x86_64__) || defined(__i386__)
    use_tsc = constant_tsc;
#endif
    if (!use_tsc) {
        return;
    }
    tick_pair(&k0, &t0);
    g_usleep(20000);
    tick_pair(&k1, &t1);
    ticks_per_ns = (k1 - k0) / ((t1 - t0) * 1e9);
}

static double ticks_ns(double t)
{
    return t / ticks_per_ns;
}

static uint64_t ns_ticks(double ns)
{
    return ns * ticks_per_ns;
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
 * Clear the 64-bit field at sel with plain stores of its natural width:
 * one 64-bit store when it is 8-byte aligned, two 32-bit ones otherwise
 * (the same in both variants).
 */
static inline void clear_u64(void *sel)
{
    if (QEMU_IS_ALIGNED((uintptr_t)sel, sizeof(uint64_t))) {
        qatomic_set((uint64_t *)sel, 0);
    } else {
        qatomic_set((uint32_t *)sel, 0);
        qatomic_set((uint32_t *)sel + 1, 0);
    }
}

static inline void clear_sel(void *vi)
{
    clear_u64((uint8_t *)vi + offsetof(struct vcpu_info,
                                       evtchn_pending_sel));
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

/*
 * The same deliveries, each timed alone: up to n of them, for at most
 * budget ticks; the time of each (in ticks, timer included) goes to out[].
 * Returns how many were timed; *hits counts those that found their bit
 * already set, which must be 0. The clearing is not timed.
 */
#define DEFINE_SAMPLER(variant)                                         \
static __attribute__((noinline)) long                                   \
sample_##variant(void *vi, unsigned int first, uint32_t *out, long n,   \
                 uint64_t budget, long *hits)                           \
{                                                                       \
    uint64_t start, t0, t1;                                             \
    long i, h = 0;              /* a register: no memory op timed */    \
                                                                        \
    clear_sel(vi);                                                      \
    start = ticks();                                                    \
    for (i = 0; i < n; i++) {                                           \
        t0 = ticks();                                                   \
        h += variant##_test_and_set_sel(vi, true, first + (i & 31));    \
        t1 = ticks();                                                   \
        out[i] = ticks_u32(t1 - t0);                                    \
        if ((i & 31) == 31) {                                           \
            clear_sel(vi);                                              \
        }                                                               \
        if (t1 - start >= budget) {                                     \
            i++;                                                        \
            break;                                                      \
        }                                                               \
    }                                                                   \
    clear_sel(vi);                                                      \
    *hits = h;                                                          \
    return i;                                                           \
}
DEFINE_SAMPLER(pristine)
DEFINE_SAMPLER(patched)

typedef long SampleFn(void *vi, unsigned int first, uint32_t *out, long n,
                      uint64_t budget, long *hits);

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

/* --- the host and split locks ------------------------------------------ */

/* The value of the first "name : value" line of cpuinfo, or NULL. */
static char *cpuinfo_field(const char *cpuinfo, const char *name)
{
    g_auto(GStrv) lines = g_strsplit(cpuinfo, "\n", -1);
    size_t len = strlen(name);
    char **l, *p;

    for (l = lines; *l; l++) {
        if (strncmp(*l, name, len)) {
            continue;
        }
        p = *l + len;
        p += strspn(p, " \t");
        if (*p == ':') {
            return g_strdup(g_strstrip(p + 1));
        }
    }
    return NULL;
}

static bool has_word(const char *words, const char *word)
{
    g_auto(GStrv) w = g_strsplit(words ? words : "", " ", -1);

    return g_strv_contains((const char * const *)w, word);
}

static long thread_switches(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_THREAD, &ru)) {
        return 0;
    }
    return ru.ru_nvcsw + ru.ru_nivcsw;
}

typedef struct RawProbe {
    long n;             /* ops timed */
    long switched;      /* of which this thread was switched out during */
    long slow;          /* of the others, how many took >= SLOW_NS */
    double wall_s;      /* from the first to the last */
    uint32_t *t;        /* if not NULL: each of the others' time, ticks */
    long nt;
} RawProbe;

/*
 * Raw 64-bit locked ORs on *p, each timed alone, up to max_n of them and
 * for at most max_s seconds, with this thread's context switches counted
 * around each. An op that took >= SLOW_NS while the thread was not
 * switched out lost that time below this kernel's scheduler: the kernel
 * throttled the thread (split_lock_warn()), or the hypervisor, trapping
 * the split lock for a guest, stalled the vCPU (or did not run it).
 */
static void probe_raw(uint64_t *p, long max_n, double max_s, RawProbe *rp)
{
    uint64_t slow = ns_ticks(SLOW_NS), limit = ns_ticks(max_s * 1e9);
    uint64_t start, t0, t1;
    long i, sw;

    rp->n = rp->switched = rp->slow = rp->nt = 0;
    clear_u64(p);
    start = ticks();
    for (i = 0; i < max_n; i++) {
        sw = thread_switches();
        t0 = ticks();
        qatomic_fetch_or(p, 1ULL << (i & 63));
        t1 = ticks();
        if (thread_switches() != sw) {
            rp->switched++;
        } else {
            rp->slow += t1 - t0 >= slow;
            if (rp->t) {
                rp->t[rp->nt++] = ticks_u32(t1 - t0);
            }
        }
        if ((i & 63) == 63) {
            clear_u64(p);
        }
        if (t1 - start >= limit) {
            i++;
            break;
        }
    }
    rp->n = i;
    rp->wall_s = ticks_ns(ticks() - start) / 1e9;
    clear_u64(p);
}

/* ns per raw 64-bit locked OR on *p over a loop of n, no timer inside */
static double raw_loop_ns(uint64_t *p, long n)
{
    double t;
    long i;

    clear_u64(p);
    t = now();
    for (i = 0; i < n; i++) {
        qatomic_fetch_or(p, 1ULL << (i & 63));
        if ((i & 63) == 63) {
            clear_u64(p);
        }
    }
    t = now() - t;
    clear_u64(p);
    return t / n * 1e9;
}

/* --- printing ----------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least p% of them <= it. */
static double pct_ns(const uint32_t *sorted, long n, double p)
{
    double x = p / 100 * n;
    long r = (long)x + ((long)x < x);

    return ticks_ns(sorted[MIN(MAX(r, 1), n) - 1]);
}

static double mean_ns(const uint32_t *t, long n)
{
    double sum = 0;
    long i;

    for (i = 0; i < n; i++) {
        sum += t[i];
    }
    return n ? ticks_ns(sum / n) : 0;
}

/* A duration with its unit, 3 or 4 digits. */
static const char *fmt_ns(char *buf, double ns)
{
    if (ns < 1e3) {
        snprintf(buf, 32, "%.1f ns", ns);
    } else if (ns < 1e6) {
        snprintf(buf, 32, "%.1f us", ns / 1e3);
    } else if (ns < 1e9) {
        snprintf(buf, 32, "%.2f ms", ns / 1e6);
    } else {
        snprintf(buf, 32, "%.2f s", ns / 1e9);
    }
    return buf;
}

static const char *fmt_rate(char *buf, double per_s)
{
    if (per_s >= 1e6) {
        snprintf(buf, 32, "%.1f M", per_s / 1e6);
    } else if (per_s >= 1e3) {
        snprintf(buf, 32, "%.1f k", per_s / 1e3);
    } else {
        snprintf(buf, 32, "%.0f", per_s);
    }
    return buf;
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

/*
 * The full-size defaults; BENCH_SCALE multiplies each (not REPS), down to
 * the minimum in scaled()'s third argument.
 */
#define DEF_MS_REP      40          /* throughput: ms per repetition */
#define DEF_MS_WINDOW   500         /* neighbour: ms per window */
#define DEF_SAMPLES     500000      /* latency: samples per case and variant */
#define DEF_MS_SAMPLING 2000        /* latency: most ms per case and variant */
#define DEF_PROBE_OPS   2000        /* split-lock probe: straddling ops */
#define DEF_PROBE_MS    1000        /* split-lock probe: most ms for them */
#define DEF_RAW_LOOP    1000000     /* aligned ops in the loop for the ratio */
#define DEF_MS_WARMUP   200         /* neighbour: warm-up */

static double bench_scale(void)
{
    const char *e = getenv("BENCH_SCALE");
    char *end;
    double f;

    if (!e || !*e) {
        return 1;
    }
    f = strtod(e, &end);
    if (*end || !(f > 0) || f > 10) {
        fprintf(stderr, "vcpu-sel-bench: BENCH_SCALE must be a number "
                "above 0 and at most 10, not '%s'\n", e);
        exit(2);
    }
    return f;
}

static long scaled(double v, double f, long min)
{
    return MAX((long)(v * f), min);
}

int main(int argc, char **argv)
{
    double scale = bench_scale();
    int reps = 7, opt;
    int ms_rep = scaled(DEF_MS_REP, scale, 1);
    int ms_window = scaled(DEF_MS_WINDOW, scale, 10);
    long max_samples = scaled(DEF_SAMPLES, scale, 1000);
    long ms_sampling = scaled(DEF_MS_SAMPLING, scale, 10);
    long probe_ops = scaled(DEF_PROBE_OPS, scale, 100);
    long probe_ms = scaled(DEF_PROBE_MS, scale, 20);
    long raw_loop = scaled(DEF_RAW_LOOP, scale, 10000);
    long ms_warmup = scaled(DEF_MS_WARMUP, scale, 10);
    uint8_t *page, *raw;
    void *vi_al, *vi_st;
    uint64_t *raw_al, *raw_st;
    cpu_set_t avail;
    int cpus[2] = { -1, -1 }, ncpus = 0, navail = 0, c, r, i;
    struct {
        const char *field;
        void **vi;
        unsigned int idx;
        double ns[2][64];       /* [pristine, patched][rep] */
        uint32_t *lat[2];       /* [pristine, patched][sample], ticks */
        long nlat[2];
    } cases[] = {
        { "(a) aligned",    &vi_al, 0 },
        { "(a) aligned",    &vi_al, 32 },
        { "(b) straddling", &vi_st, 0 },
        { "(b) straddling", &vi_st, 32 },
    };
    LoopFn *fns[2] = { loop_pristine, loop_patched };
    SampleFn *sfns[2] = { sample_pristine, sample_patched };
    const char *variant[2] = { "pristine", "patched" };
    double nb[3][64];           /* [idle, pristine, patched][rep] */
    pthread_t th;
    double t_start = now();
    g_autofree char *cpuinfo = NULL, *model = NULL, *flags = NULL;
    g_autofree char *mitigate = NULL, *timer = NULL;
    struct utsname uts;
    RawProbe st = { 0 }, al = { 0 };
    double raw_al_ns, timer_ns;
    uint32_t tov[1000];
    uint64_t t0, t1, budget;
    long per_round, room, hits;
    bool throttled;
    char b[6][32];

    while ((opt = getopt(argc, argv, "r:t:w:n:s:")) != -1) {
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
        case 'n':
            max_samples = MAX(atol(optarg), 1000);
            break;
        case 's':
            ms_sampling = MAX(atol(optarg), 10);
            break;
        default:
            fprintf(stderr, "usage: %s [-r REPS] [-t MS_PER_REP] "
                    "[-w MS_PER_WINDOW] [-n SAMPLES] [-s MS_SAMPLING]\n"
                    "(BENCH_SCALE=F scales the defaults)\n", argv[0]);
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
    /* the raw ops' own fields, at the same offsets as the deliveries' */
    raw = aligned_alloc(PAGE, 2 * PAGE);
    memset(raw, 0, 2 * PAGE);
    raw_al = (uint64_t *)(raw + VI_ALIGNED + 8);
    raw_st = (uint64_t *)(raw + PAGE + VI_STRADDLING + 8);

    if (sched_getaffinity(0, sizeof(avail), &avail) == 0) {
        navail = CPU_COUNT(&avail);
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

    /* the host */
    if (!g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL)) {
        cpuinfo = g_strdup("");
    }
    model = cpuinfo_field(cpuinfo, "model name");
    flags = cpuinfo_field(cpuinfo, "flags");
    if (g_file_get_contents("/proc/sys/kernel/split_lock_mitigate",
                            &mitigate, NULL, NULL)) {
        g_strstrip(mitigate);
    }
    if (uname(&uts)) {
        strcpy(uts.release, "(unknown)");
    }
    timer_init(has_word(flags, "constant_tsc") &&
               has_word(flags, "nonstop_tsc"));
    for (i = 0; i < ARRAY_SIZE(tov); i++) {
        t0 = ticks();
        t1 = ticks();
        tov[i] = ticks_u32(t1 - t0);
    }
    qsort(tov, ARRAY_SIZE(tov), sizeof(*tov), cmp_u32);
    timer_ns = pct_ns(tov, ARRAY_SIZE(tov), 50);
    timer = use_tsc ?
        g_strdup_printf("TSC (lfence; rdtsc) at %.3f GHz", ticks_per_ns) :
        g_strdup("CLOCK_MONOTONIC (no constant, nonstop TSC)");

    /*
     * What the host does with a split lock: raw straddling ops timed one
     * by one, then aligned ones for as long, as a control for stalls
     * that have nothing to do with split locks.
     */
    st.t = g_new(uint32_t, probe_ops);
    probe_raw(raw_st, probe_ops, probe_ms / 1e3, &st);
    probe_raw(raw_al, LONG_MAX, st.wall_s, &al);
    raw_al_ns = raw_loop_ns(raw_al, raw_loop);
    qsort(st.t, st.nt, sizeof(*st.t), cmp_u32);
    throttled = st.slow >= 3 && st.slow > 3 * al.slow;

    /*
     * Latency: each delivery timed alone, the cases and variants in turn
     * for reps rounds, each a share of the samples and of the time.
     */
    per_round = DIV_ROUND_UP(max_samples, reps);
    budget = ns_ticks(ms_sampling * 1e6 / reps);
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        for (c = 0; c < 2; c++) {
            cases[i].lat[c] = g_new(uint32_t, max_samples);
            cases[i].nlat[c] = 0;
        }
    }
    for (r = 0; r < reps; r++) {
        for (i = 0; i < ARRAY_SIZE(cases); i++) {
            for (c = 0; c < 2; c++) {
                room = max_samples - cases[i].nlat[c];
                hits = 0;
                if (room <= 0) {
                    continue;
                }
                cases[i].nlat[c] +=
                    sfns[c](*cases[i].vi, cases[i].idx,
                            cases[i].lat[c] + cases[i].nlat[c],
                            MIN(room, per_round), budget, &hits);
                if (hits) {
                    fprintf(stderr, "vcpu-sel-bench: a bit in %u..%u was "
                            "already set\n", cases[i].idx, cases[i].idx + 31);
                    return 1;
                }
            }
        }
    }

    /*
     * Throughput: loops with no timer inside; interleave the variants and
     * cases, so that drift hits all alike.
     */
    for (r = 0; r < reps; r++) {
        for (i = 0; i < ARRAY_SIZE(cases); i++) {
            for (c = 0; c < 2; c++) {
                cases[i].ns[c][r] = measure(fns[c], *cases[i].vi,
                                            cases[i].idx, ms_rep / 1e3);
            }
        }
    }

    printf("- Host: %s, %d CPU(s), Linux %s\n",
           model ? model : "(unknown CPU)", navail, uts.release);
    printf("- Split-lock detection: flag split_lock_detect %s in "
           "/proc/cpuinfo; /proc/sys/kernel/split_lock_mitigate %s%s\n",
           has_word(flags, "split_lock_detect") ? "present" : "absent",
           mitigate ? "= " : "not present", mitigate ? mitigate : "");
    if (st.nt) {
        printf("- Raw 64-bit locked OR straddling a cache line: mean %s, "
               "median %s, max %s (%ld ops); aligned: mean %s (loop of "
               "%ld); straddling/aligned %.0fx (means)\n",
               fmt_ns(b[0], mean_ns(st.t, st.nt)),
               fmt_ns(b[1], pct_ns(st.t, st.nt, 50)),
               fmt_ns(b[2], pct_ns(st.t, st.nt, 100)), st.nt,
               fmt_ns(b[3], raw_al_ns), raw_loop,
               mean_ns(st.t, st.nt) / raw_al_ns);
    } else {
        printf("- Raw 64-bit locked OR straddling a cache line: every one "
               "of %ld ops was switched out; aligned: mean %s\n",
               st.n, fmt_ns(b[0], raw_al_ns));
    }
    printf("- Thread: %s (%ld of %ld straddling ops took >= 1 ms; aligned "
           "ops over the same %.2f s: %ld of %ld)",
           throttled ? "throttled" : "not throttled", st.slow,
           st.n - st.switched, st.wall_s, al.slow, al.n - al.switched);
    if (st.switched || al.switched) {
        printf("; left out, as this kernel switched the thread out during "
               "them: %ld straddling and %ld aligned ops", st.switched,
               al.switched);
    }
    printf("\n- Timer: %s; an empty measurement costs %s (median), "
           "included in every latency sample\n\n",
           timer, fmt_ns(b[0], timer_ns));

    printf("### Latency of one delivery: one evtchn_pending_sel bit, "
           "64-bit layout\n\n");
    printf("Each delivery timed alone; %d rounds over the cases and "
           "variants, up to %ld samples\nand %ld ms per case and variant; "
           "percentiles by nearest rank; CPU %d%s.\n\n",
           reps, max_samples, ms_sampling, cpus[0],
           cpus[0] >= 0 ? " (pinned)" : "");
    printf("| evtchn_pending_sel | bits | variant | samples | median | "
           "p99 | p99.9 | max | >= 1 ms |\n");
    printf("|---|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        for (c = 0; c < 2; c++) {
            uint32_t *v = cases[i].lat[c];
            long n = cases[i].nlat[c], slow = 0, k;

            qsort(v, n, sizeof(*v), cmp_u32);
            for (k = n; k > 0 && ticks_ns(v[k - 1]) >= SLOW_NS; k--) {
                slow++;
            }
            printf("| %s | %u-%u (%s half) | %s | %ld | %s | %s | %s | %s "
                   "| %ld |\n",
                   cases[i].field, cases[i].idx, cases[i].idx + 31,
                   cases[i].idx < 32 ? "low" : "high", variant[c], n,
                   fmt_ns(b[0], pct_ns(v, n, 50)),
                   fmt_ns(b[1], pct_ns(v, n, 99)),
                   fmt_ns(b[2], pct_ns(v, n, 99.9)),
                   fmt_ns(b[3], pct_ns(v, n, 100)), slow);
        }
    }

    printf("\n### Throughput: deliveries in a loop, 64-bit layout\n\n");
    printf("%d repetitions of ~%d ms each, no timer inside the loop, "
           "median; CPU %d%s.\n\n",
           reps, ms_rep, cpus[0], cpus[0] >= 0 ? " (pinned)" : "");
    printf("| evtchn_pending_sel | bits | pristine ns | patched ns | "
           "pristine events/s | patched events/s | ratio |\n");
    printf("|---|---|---:|---:|---:|---:|---|\n");
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        double p = median(cases[i].ns[0], reps);
        double q = median(cases[i].ns[1], reps);
        bool al = *cases[i].vi == vi_al;

        printf("| %s | %u-%u (%s half) | %.2f | %.2f | %s | %s | %s %.*f |\n",
               cases[i].field, cases[i].idx, cases[i].idx + 31,
               cases[i].idx < 32 ? "low" : "high", p, q,
               fmt_rate(b[0], 1e9 / p), fmt_rate(b[1], 1e9 / q),
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
        neighbour_window(NULL, NULL, 0, ms_warmup / 1e3);  /* warm up */
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
