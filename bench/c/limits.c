// Same-machine C references for bench/run ("limit.*" figures): what the switch and the pipes do per
// packet, written the way netmap does it in C, with nothing of the JVM. bench/run compiles this file
// with gcc at run time (bench/target/c/limits) and prints each line it writes as a RESULT line.
//
//   limits vale copy|swap LEN SECONDS   VALE-style forwarding between 2 ports in the sender's txsync:
//        learn + look up a batch of up to 512 frames (hash of the MAC), lease the destination's slots
//        under a short spin lock, copy the frames (copy: two buffer pools) or swap buffer indices
//        (swap: one pool) outside the lock, publish the tail under the lock. A second thread
//        busy-polls the destination and releases all it finds (reads no data), as ValeBench does.
//        Prints delivered packets (and the drops of a receiver that fell behind).
//   limits vale1t copy|swap LEN SECONDS   the same forwarding on one thread that also releases the
//        destination after each batch (no second thread that can fall behind); prints the sender
//        thread's CPU time per packet ("limit.vale.copy.2p.60B.cpu 21.3 ns"), what ValeCpu measures
//        for jnetmap: on a shared machine the figure that compares equal work.
//   limits pipe inproc|xproc BATCH SECONDS [WARMUP]   a pipe as jnetmap's PipePort moves packets, with
//        PipeSuite's loops on top, the same work per packet in C: 16-byte slots (SlotLayout); the sender
//        sets each slot's len and flags, its txsync swaps the slot's first 8 bytes (bufIdx, len, flags)
//        with the mirrored RX slot of the receiver (the first with one atomic exchange, as PipePort),
//        checks the bufIdx released, flags both NS_BUF_CHANGED, publishes the RX tail and reads its own
//        TX tail; the receiver's rxsync checks every new slot (bufIdx, len), gives back what it took
//        (the sender's TX tail), then takes up to BATCH packets reading each length. Both syncs check
//        the head, fence and read the peer's wait word (PeerWaker). Payloads are never touched. The
//        receiver measures a window of SECONDS after WARMUP seconds (default 1), both ends running, as
//        XprocReceiver does. inproc: two threads; xproc: two processes sharing the rings (MAP_SHARED).
//
// Output: "<name> <value> <unit>" lines, e.g. "limit.vale.copy.2p.60B 42.7 Mpps".
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NSLOTS 1024
#define BUF 2048
#define VBATCH 512
#define HASH 1024
#define LINE 128

struct desc { uint32_t buf; uint16_t len; uint16_t flags; uint64_t ptr; };

struct vring {
    struct desc slot[NSLOTS];
    _Alignas(LINE) _Atomic uint32_t tail;   // published by senders
    _Alignas(LINE) _Atomic uint32_t head;   // released by the receiver
    _Alignas(LINE) _Atomic int lock;
    uint32_t lease;                         // next slot to lease (under the lock)
    uint8_t *pool;
};

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

// The two CPUs the threads run on: the first two this process may use (one if there is one).
static int cpus[2] = {-1, -1};
static void pick_cpus(void) {
    cpu_set_t s; CPU_ZERO(&s);
    if (sched_getaffinity(0, sizeof s, &s) != 0) return;
    int k = 0;
    for (int c = 0; c < CPU_SETSIZE && k < 2; c++) if (CPU_ISSET(c, &s)) cpus[k++] = c;
}
static void pin(int which) {
    if (cpus[which] < 0) return;
    cpu_set_t s; CPU_ZERO(&s); CPU_SET(cpus[which], &s);
    sched_setaffinity(0, sizeof s, &s);
}
static inline uint32_t nxt(uint32_t i) { return i + 1 == NSLOTS ? 0 : i + 1; }

// ------------------------------------------------------------------------------------------------
// vale

static struct vring src, dst;
static struct { uint64_t mac; int port; } table[HASH];
static _Alignas(LINE) _Atomic int stopping;
static int swapping, flen, onethread;
static double v_cpu;
static uint64_t v_sent, v_dropped, v_delivered;

static inline uint64_t mac48(const uint8_t *p) { uint64_t m = 0; memcpy(&m, p, 6); return m; }
static inline uint32_t bucket(uint64_t m) { return (uint32_t)((m * 0x9E3779B97F4A7C15ULL) >> 40) & (HASH - 1); }
static inline uint8_t *bufp(struct vring *r, uint32_t b) { return r->pool + (size_t)b * BUF; }
static inline void spin_lock(_Atomic int *l) {
    while (atomic_exchange_explicit(l, 1, memory_order_acquire)) while (atomic_load_explicit(l, memory_order_relaxed)) __builtin_ia32_pause();
}
static inline void spin_unlock(_Atomic int *l) { atomic_store_explicit(l, 0, memory_order_release); }

static int learn_lookup(const uint8_t *f, int in) {
    uint64_t s = mac48(f + 6), d = mac48(f);
    uint32_t h = bucket(s);
    if (table[h].mac != s || table[h].port != in) { table[h].mac = s; table[h].port = in; }
    if (d & 1) return -1;
    h = bucket(d);
    return table[h].mac == d ? table[h].port : -1;
}

// LIMITS_STAGES=1 with vale1t: wall time per stage (one clock read per stage per batch), the table
// ValeCpu prints with -Djnetmap.vale.stages=true.
static int stages;
static uint64_t st_ns[6], st_batch[6], st_best = UINT64_MAX, st_kept;
static inline uint64_t ns_now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec; }
#define STAMP(k) do { if (stages) { uint64_t t_ = ns_now(); st_batch[k] = t_ - st_last; st_last = t_; } } while (0)
// A batch counts only if it took less than twice the fastest one: on a shared machine a batch during
// which the thread lost its CPU would add the other threads' time to whichever stage it was in.
static void stages_commit(void) {
    uint64_t t = 0;
    for (int k = 0; k < 6; k++) t += st_batch[k];
    if (t < st_best) st_best = t;
    if (t > 2 * st_best) return;
    for (int k = 0; k < 6; k++) st_ns[k] += st_batch[k];
    st_kept += VBATCH;
}

static double cputime(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static void *vale_sender(void *unused) {
    (void)unused;
    pin(0);
    double c0 = cputime();
    int to[VBATCH];
    uint32_t cur = 0;
    uint64_t n = 0, drops = 0;
    uint64_t st_last = stages ? ns_now() : 0;
    while (!atomic_load_explicit(&stopping, memory_order_relaxed)) {
        uint32_t i = cur;
        for (int k = 0; k < VBATCH; k++, i = nxt(i)) src.slot[i].len = (uint16_t)flen;  // the user's part
        STAMP(0);
        i = cur;                                                                          // txsync: lookup
        int want = 0;
        for (int k = 0; k < VBATCH; k++, i = nxt(i)) { to[k] = learn_lookup(bufp(&src, src.slot[i].buf), 0); want += to[k] == 1; }
        STAMP(1);
        spin_lock(&dst.lock);                                                             // lease
        uint32_t start = dst.lease;
        uint32_t head = atomic_load_explicit(&dst.head, memory_order_acquire);
        uint32_t room = (head + NSLOTS - start - 1) % NSLOTS;
        uint32_t got = (uint32_t)want < room ? (uint32_t)want : room;
        dst.lease = (start + got) % NSLOTS;
        spin_unlock(&dst.lock);
        STAMP(2);
        uint32_t j = start, filled = 0;                                                   // fill
        i = cur;
        for (int k = 0; k < VBATCH; k++, i = nxt(i)) {
            if (to[k] != 1) continue;
            if (filled == got) { drops++; continue; }
            struct desc *s = &src.slot[i], *d = &dst.slot[j];
            if (swapping) { uint32_t b = d->buf; d->buf = s->buf; s->buf = b; s->flags = d->flags = 1; }
            else memcpy(bufp(&dst, d->buf), bufp(&src, s->buf), s->len);
            d->len = s->len;
            j = nxt(j); filled++;
        }
        STAMP(3);
        spin_lock(&dst.lock);                                                             // publish
        atomic_store_explicit(&dst.tail, j, memory_order_release);
        spin_unlock(&dst.lock);
        n += VBATCH;
        cur = i;
        STAMP(4);
        if (onethread) {                                                                  // the receiver's part
            v_delivered += (j + NSLOTS - atomic_load_explicit(&dst.head, memory_order_relaxed)) % NSLOTS;
            atomic_store_explicit(&dst.head, j, memory_order_release);
        }
        STAMP(5);
        if (stages) stages_commit();
    }
    v_cpu = cputime() - c0;
    v_sent = n; v_dropped = drops;
    return NULL;
}

static void *vale_receiver(void *unused) {
    (void)unused;
    pin(1);
    uint32_t h = 0; uint64_t n = 0;
    while (!atomic_load_explicit(&stopping, memory_order_relaxed)) {
        uint32_t t = atomic_load_explicit(&dst.tail, memory_order_acquire);
        if (t == h) { __builtin_ia32_pause(); continue; }
        n += (t + NSLOTS - h) % NSLOTS;
        h = t;
        atomic_store_explicit(&dst.head, h, memory_order_release);
    }
    v_delivered = n;
    return NULL;
}

static int vale(const char *mode, int len, double secs, int one) {
    onethread = one;
    stages = one && getenv("LIMITS_STAGES") != NULL;
    swapping = strcmp(mode, "swap") == 0;
    if (!swapping && strcmp(mode, "copy") != 0) { fprintf(stderr, "limits: vale copy|swap, not %s\n", mode); return 2; }
    if (len < 60 || len > BUF) { fprintf(stderr, "limits: frame length %d (expected 60..%d)\n", len, BUF); return 2; }
    flen = len;
    size_t bytes = (size_t)(4 * NSLOTS) * BUF;
    uint8_t *a = aligned_alloc(4096, bytes), *b = swapping ? a : aligned_alloc(4096, bytes);
    if (!a || !b) { perror("limits: aligned_alloc"); return 1; }
    memset(a, 0, bytes); if (b != a) memset(b, 0, bytes);
    src.pool = a; dst.pool = b;
    for (uint32_t i = 0; i < NSLOTS; i++) { src.slot[i].buf = 1 + i; dst.slot[i].buf = 1 + NSLOTS + i; }
    const uint8_t to_mac[6] = {2, 0, 0, 0, 1, 1}, from_mac[6] = {2, 0, 0, 0, 0, 1};
    for (uint32_t k = 0; k < 4 * NSLOTS; k++) {
        uint8_t *f = a + (size_t)k * BUF;
        memcpy(f, to_mac, 6); memcpy(f + 6, from_mac, 6); f[12] = 0x88; f[13] = 0xb5;
    }
    uint64_t m = mac48(to_mac);                           // the receiver announced itself
    table[bucket(m)].mac = m; table[bucket(m)].port = 1;
    pick_cpus();
    pthread_t s, r;
    if (!onethread) pthread_create(&r, NULL, vale_receiver, NULL);
    pthread_create(&s, NULL, vale_sender, NULL);
    double t0 = now();
    usleep((useconds_t)(secs * 1e6));
    atomic_store(&stopping, 1);
    pthread_join(s, NULL);
    if (!onethread) pthread_join(r, NULL);
    double t = now() - t0;
    char name[64];
    snprintf(name, sizeof name, "limit.vale.%s.2p.%dB", mode, len);
    if (onethread) {
        if (v_dropped != 0 || v_delivered == 0) { fprintf(stderr, "limits: one thread dropped %llu\n", (unsigned long long)v_dropped); return 1; }
        printf("%s.cpu %.2f ns\n", name, v_cpu / v_delivered * 1e9);
        if (stages) {
            static const char *what[6] = {"user: slot fill", "lookup (learn + look up)", "lease", "fill (copy/swap, dst slots)", "publish", "release"};
            double tot = 0;
            for (int k = 0; k < 6; k++) { tot += st_ns[k]; printf("stage.c.%s.%dB %-30s %6.2f ns\n", mode, len, what[k], (double)st_ns[k] / st_kept); }
            printf("stage.c.%s.%dB %-30s %6.2f ns (%.0f %% of the batches kept)\n", mode, len, "total (wall)", tot / st_kept, 100.0 * st_kept / v_delivered);
        }
        return 0;
    }
    if (len >= 1000) printf("%s %.2f Gbps\n", name, v_delivered * (double)len * 8 / t / 1e9);
    else printf("%s %.2f Mpps\n", name, v_delivered / t / 1e6);
    printf("%s.drops %.3f Mpps\n", name, v_dropped / t / 1e6);
    return 0;
}

// ------------------------------------------------------------------------------------------------
// pipe: the work of jnetmap's PipePort and of PipeSuite's loops, slot for slot (see PipeSuite's NOTE lines)

#define PBUFS (2 + 2 * NSLOTS)                  // buffers 0 and 1 reserved, as in a jnetmap region
#define NS_BUF_CHANGED_BIT ((uint64_t)0x1 << 48)   // NS_BUF_CHANGED in a slot word
#define NS_MOREFRAG_BIT ((uint64_t)0x20 << 48)     // NS_MOREFRAG
// a slot's first 8 bytes as one word (bufIdx u32, len u16, flags u16; little-endian), as SlotWord reads them
#define W_BUF(w) ((uint32_t)(w))
#define W_LEN(w) ((uint32_t)((w) >> 32) & 0xffff)
#define W_FLAGS(w) ((uint32_t)((w) >> 48))
#define W_WITHBUF(w, b) (((w) & ~0xffffffffULL) | (uint64_t)(b))

struct pslot { uint64_t w; uint64_t ptr; };      // 16 bytes: bufIdx, len, flags, ptr (SlotLayout)

struct pring {
    struct pslot slot[NSLOTS];
    _Alignas(LINE) _Atomic uint32_t tail;       // (k) written by the peer's sync: what this ring's user may take
    _Alignas(LINE) _Atomic uint32_t user_wait;  // (u) 0: the user is awake (PeerWaker reads it after a full fence)
    _Alignas(LINE) uint32_t head;               // (u) written by the user, read by its own sync
};

struct pipe_shared {
    struct pring tx, rx;                        // the sender's TX ring and the receiver's RX ring, mirrored slot for slot
    _Alignas(LINE) _Atomic int stop;
    _Alignas(LINE) uint64_t received, nanos, lensum;
    _Atomic int faults;
};
static struct pipe_shared *ps;
static int pbatch;
static double pwarm, pmeasure;

static inline uint32_t prv(uint32_t i) { return i == 0 ? NSLOTS - 1 : i - 1; }
static inline uint32_t pspace(uint32_t head, uint32_t tail) { return (tail + NSLOTS - head) % NSLOTS; }
// RingIndex.within: x in [from, to] going forward around the ring
static inline int within(uint32_t from, uint32_t x, uint32_t to) { return (x + NSLOTS - from) % NSLOTS <= (to + NSLOTS - from) % NSLOTS; }
static void fault(const char *what) { fprintf(stderr, "limits: pipe peer fault: %s\n", what); atomic_store(&ps->faults, 1); atomic_store(&ps->stop, 1); }
static inline void wake_if_waiting(struct pring *peer) {        // PeerWaker.wakeIfWaiting: nobody sleeps here
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&peer->user_wait, memory_order_relaxed) != 0) fault("a sleeping peer");
}

// PipePort.move: TX slots [from, to) swap with the peer's RX slots (the first with one exchange), flagged NS_BUF_CHANGED
static int pipe_move(uint32_t from, uint32_t to) {
    struct pslot *t = ps->tx.slot, *r = ps->rx.slot;
    uint64_t tw = t[from].w;
    uint64_t rw = __atomic_exchange_n(&r[from].w, tw | NS_BUF_CHANGED_BIT, __ATOMIC_SEQ_CST);
    uint32_t rb = W_BUF(rw);
    if (rb < 2 || rb >= PBUFS) fault("released a bad bufIdx");
    t[from].w = W_WITHBUF(tw | NS_BUF_CHANGED_BIT, rb);
    int last = (tw & NS_MOREFRAG_BIT) == 0 ? (int)from : -1;
    for (uint32_t i = from + 1; i < to; i++) {
        tw = t[i].w;
        rb = W_BUF(r[i].w);
        if (rb < 2 || rb >= PBUFS) fault("released a bad bufIdx");
        uint64_t moved = tw | NS_BUF_CHANGED_BIT;
        r[i].w = moved;
        t[i].w = W_WITHBUF(moved, rb);
        if ((tw & NS_MOREFRAG_BIT) == 0) last = (int)i;
    }
    return last;
}

// PipePort.check: new RX slots [from, to) hold a valid buffer and a length within it
static void pipe_check(uint32_t from, uint32_t to) {
    for (uint32_t j = from; j < to; j++) {
        uint64_t w = ps->rx.slot[j].w;
        if (W_BUF(w) < 2 || W_BUF(w) >= PBUFS || W_LEN(w) > BUF) fault("delivered a bad slot");
    }
}

static void *pipe_sender(void *unused) {
    (void)unused;
    pin(0);
    uint32_t head = 0, hwcur = 0, hwtail = NSLOTS - 1;         // the user's head; the kring's view
    while (!atomic_load_explicit(&ps->stop, memory_order_relaxed)) {
        uint32_t n = pspace(head, hwtail);                         // the user: up to a batch of free slots, len 60
        if (n > (uint32_t)pbatch) n = (uint32_t)pbatch;
        uint32_t i = head;
        for (uint32_t k = 0; k < n; k++, i = nxt(i)) {
            struct pslot *s = &ps->tx.slot[i];
            s->w = (s->w & 0xffffffffULL) | (uint64_t)60 << 32;   // setSlot(i, 60, 0): len and flags
        }
        head = i;
        ps->tx.head = head;
        uint32_t rhead = ps->tx.head;                              // txsync (Kring: head checked, then PipePort.txsync)
        if (rhead >= NSLOTS || !within(hwcur, rhead, hwtail)) fault("bad head");          // nm_txsync_prologue
        if (hwcur != rhead) {
            int last = pipe_move(hwcur, rhead > hwcur ? rhead : NSLOTS);
            if (rhead < hwcur && rhead > 0) { int c = pipe_move(0, rhead); if (c >= 0) last = c; }
            hwcur = rhead;
            if (last >= 0) {
                atomic_store_explicit(&ps->rx.tail, nxt((uint32_t)last), memory_order_release);
                wake_if_waiting(&ps->rx);
            }
        }
        uint32_t t = atomic_load_explicit(&ps->tx.tail, memory_order_acquire);
        if (t != hwtail) {
            if (!within(hwtail, t, prv(hwcur))) fault("bad TX tail");
            hwtail = t;
        }
    }
    return NULL;
}

// The receiver of PipeSuite.xproc (XprocReceiver): rxsync, then up to a batch, reading each length; after the
// warm-up, the packets received in a window of pmeasure seconds (both ends running throughout)
static void *pipe_receiver(void *unused) {
    (void)unused;
    pin(1);
    uint32_t head = 0, hwcur = 0, hwtail = 0;
    uint64_t got = 0, sum = 0, g0 = 0;
    double start = now(), t0 = 0;
    while (!atomic_load_explicit(&ps->stop, memory_order_relaxed)) {
        uint32_t t = atomic_load_explicit(&ps->rx.tail, memory_order_acquire);  // rxsync: take what was published
        if (t != hwtail) {
            if (!within(hwtail, t, prv(hwcur))) fault("bad RX tail");
            pipe_check(hwtail, t > hwtail ? t : NSLOTS);
            if (t < hwtail) pipe_check(0, t);
            hwtail = t;
        }
        uint32_t rhead = ps->rx.head;
        if (rhead >= NSLOTS || !within(hwcur, rhead, hwtail)) fault("bad head");         // nm_rxsync_prologue
        if (rhead != hwcur) {                                                    // give back what the user released
            hwcur = rhead;
            atomic_store_explicit(&ps->tx.tail, prv(rhead), memory_order_release);
            wake_if_waiting(&ps->tx);
        }
        uint32_t n = pspace(head, hwtail);                                       // the user
        if (n > (uint32_t)pbatch) n = (uint32_t)pbatch;
        uint32_t i = head;
        for (uint32_t k = 0; k < n; k++, i = nxt(i)) sum += W_LEN(ps->rx.slot[i].w);
        head = i;
        ps->rx.head = head;
        got += n;
        if ((got & 0xff) < n || n == 0) {
            double tn = now();
            if (t0 == 0 && tn - start >= pwarm) { t0 = tn; g0 = got; }
            else if (t0 != 0 && tn - t0 >= pmeasure) {
                ps->received = got - g0; ps->nanos = (uint64_t)((tn - t0) * 1e9); ps->lensum = sum;
                atomic_store(&ps->stop, 1);
            }
        }
    }
    if (ps->nanos == 0) ps->lensum = sum;
    return NULL;
}

static int pipe_run(const char *mode, int batch, double secs, double warm) {
    int xproc = strcmp(mode, "xproc") == 0;
    if (!xproc && strcmp(mode, "inproc") != 0) { fprintf(stderr, "limits: pipe inproc|xproc, not %s\n", mode); return 2; }
    if (batch < 1 || batch >= NSLOTS) { fprintf(stderr, "limits: batch %d (expected 1..%d)\n", batch, NSLOTS - 1); return 2; }
    if (!(secs > 0) || !(warm >= 0)) { fprintf(stderr, "limits: pipe seconds %g, warm-up %g (expected > 0, >= 0)\n", secs, warm); return 2; }
    pbatch = batch; pmeasure = secs; pwarm = warm;
    ps = mmap(NULL, sizeof *ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (ps == MAP_FAILED) { perror("limits: mmap"); return 1; }
    for (uint32_t i = 0; i < NSLOTS; i++) { ps->tx.slot[i].w = 2 + i; ps->rx.slot[i].w = 2 + NSLOTS + i; }
    ps->tx.tail = NSLOTS - 1;
    pick_cpus();
    if (xproc) {
        pid_t child = fork();
        if (child < 0) { perror("limits: fork"); return 1; }
        if (child == 0) { pipe_receiver(NULL); _exit(0); }
        pthread_t s;
        pthread_create(&s, NULL, pipe_sender, NULL);
        pthread_join(s, NULL);                   // until the receiver's window closed (it sets stop)
        int st; waitpid(child, &st, 0);
    } else {
        pthread_t s, r;
        pthread_create(&r, NULL, pipe_receiver, NULL);
        pthread_create(&s, NULL, pipe_sender, NULL);
        pthread_join(s, NULL); pthread_join(r, NULL);
    }
    if (ps->faults || ps->nanos == 0) { fprintf(stderr, "limits: pipe run failed\n"); return 1; }
    if (ps->lensum % 60 != 0) { fprintf(stderr, "limits: pipe lengths wrong\n"); return 1; }
    printf("limit.pipe.%s.60B.b%d %.2f Mpps\n", mode, batch, ps->received * 1e3 / ps->nanos);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "vale") == 0) return vale(argv[2], atoi(argv[3]), atof(argv[4]), 0);
    if (argc == 5 && strcmp(argv[1], "vale1t") == 0) return vale(argv[2], atoi(argv[3]), atof(argv[4]), 1);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "pipe") == 0) return pipe_run(argv[2], atoi(argv[3]), atof(argv[4]), argc == 6 ? atof(argv[5]) : 1);
    fprintf(stderr, "usage: limits vale|vale1t copy|swap LEN SECONDS | limits pipe inproc|xproc BATCH SECONDS [WARMUP_SECONDS]\n");
    return 2;
}
