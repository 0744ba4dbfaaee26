/*
 * jnetmap.h - the bytes of a jnetmap memory region, for C programs that attach to one.
 *
 * A shared region is a file under /dev/shm/jnetmap (or $JNETMAP_DIR), mode 0600, that every process
 * maps with mmap(MAP_SHARED). It holds, in order: a header, bitmaps, interface descriptors
 * (struct jnm_if), rings (struct jnm_ring, each followed by its slots) and a pool of fixed-size
 * buffers. Every reference inside is an offset or an index, never a pointer, so the region means the
 * same at any address. This header describes layout version JNM_VERSION; it must agree with the Java
 * classes io.jnetmap.core.RegionLayout, NetmapIfLayout, RingLayout and SlotLayout (a test compiles a C
 * program against it and checks both sides see the same bytes).
 *
 * Rings follow netmap's rules: the ring's user owns slots [head, tail), the backend [tail, head); the
 * user writes head and cur, the backend writes tail; one slot always stays empty. head/cur/tail are
 * published with release stores and read with acquire loads (JNM_LOAD_ACQ / JNM_STORE_REL).
 * All fields are in host byte order (little-endian on x86_64 and aarch64).
 */
#ifndef JNETMAP_H
#define JNETMAP_H

#include <stddef.h>
#include <stdint.h>

#define JNM_MAGIC 0x3150414d54454e4aULL /* "JNETMAP1" */
#define JNM_VERSION 2
#define JNM_HEADER_SIZE 4096
#define JNM_STATE_READY 1
#define JNM_RESERVED_BUFS 2 /* buffers 0 and 1 never hold packets; 0 also ends extra-buffer lists */
#define JNM_USERS_MAX 64
#define JNM_IF_SIZE 1024

/* slot flags (netmap's NS_*) */
#define JNM_NS_BUF_CHANGED 0x0001
#define JNM_NS_REPORT 0x0002
#define JNM_NS_FORWARD 0x0004
#define JNM_NS_NO_LEARN 0x0008
#define JNM_NS_INDIRECT 0x0010
#define JNM_NS_MOREFRAG 0x0020
#define JNM_NS_TXMON 0x0040

/* ring flags */
#define JNM_NR_TIMESTAMP 0x2
#define JNM_NR_FORWARD 0x4
#define JNM_DIR_TX 0
#define JNM_DIR_RX 1

/* interface flags */
#define JNM_NI_PRIV_MEM 0x1

/* Region header, at offset 0 of the region. */
struct jnm_region {
    uint64_t magic;          /*   0 JNM_MAGIC */
    uint32_t version;        /*   8 JNM_VERSION */
    uint32_t header_size;    /*  12 */
    uint64_t region_size;    /*  16 bytes of the whole region */
    uint32_t state;          /*  24 JNM_STATE_READY once initialised (release store by the creator) */
    uint32_t creator_pid;    /*  28 */
    uint64_t if_pool_ofs;    /*  32 */
    uint32_t if_num;         /*  40 */
    uint32_t if_size;        /*  44 JNM_IF_SIZE */
    uint64_t ring_pool_ofs;  /*  48 */
    uint32_t ring_num;       /*  56 */
    uint32_t ring_size;      /*  60 bytes per ring object */
    uint64_t buf_pool_ofs;   /*  64 */
    uint32_t buf_num;        /*  72 buffers, reserved ones included */
    uint32_t buf_size;       /*  76 bytes per buffer */
    uint64_t bitmap_ofs;     /*  80 if, ring and buffer bitmaps (bit set = allocated) */
    uint64_t bitmap_size;    /*  88 */
    char name[64];           /*  96 NUL padded */
    uint8_t pad0[96];        /* 160 */
    uint64_t alloc_lock;     /* 256 pid holding the allocator; take it with a CAS from 0 */
    uint8_t pad1[120];       /* 264 */
    uint32_t free_bufs;      /* 384 written under alloc_lock */
    uint8_t pad2[124];       /* 388 */
    int32_t users[JNM_USERS_MAX]; /* 512 pids of attached processes, 0 = empty */
};

/* Interface descriptor (netmap_if), in the if pool. */
struct jnm_if {
    char name[64];           /*   0 port name, NUL padded */
    uint32_t version;        /*  64 */
    uint32_t flags;          /*  68 JNM_NI_PRIV_MEM */
    uint32_t tx_rings;       /*  72 */
    uint32_t rx_rings;       /*  76 */
    uint32_t host_tx_rings;  /*  80 */
    uint32_t host_rx_rings;  /*  84 */
    uint32_t bufs_head;      /*  88 (u) extra buffers: first 4 bytes of each buffer = next index, 0 ends */
    uint32_t owner_pid;      /*  92 */
    uint32_t kind;           /*  96 port-kind tag */
    uint32_t state;          /* 100 port-kind defined */
    uint8_t pad[24];         /* 104 */
    int64_t ring_ofs[];      /* 128 ring offsets from this descriptor: tx, host tx, rx, host rx */
};

/* Slot (netmap_slot), 16 bytes. */
struct jnm_slot {
    uint32_t buf_idx;        /* 0 */
    uint16_t len;            /* 4 */
    uint16_t flags;          /* 6 JNM_NS_* */
    uint64_t ptr;            /* 8 */
};

/* Ring (netmap_ring). (u) = written by the ring's user only, (k) = by the backend only. */
struct jnm_ring {
    int64_t buf_ofs;         /*    0 buffer pool offset from this ring (netmap's buf_ofs) */
    uint32_t num_slots;      /*    8 not necessarily a power of two */
    uint32_t buf_size;       /*   12 */
    uint16_t ringid;         /*   16 */
    uint16_t dir;            /*   18 JNM_DIR_TX / JNM_DIR_RX */
    uint32_t flags;          /*   20 (u) JNM_NR_* */
    int64_t if_ofs;          /*   24 owning descriptor's offset from this ring */
    uint8_t pad0[32];        /*   32 */
    uint32_t user_wait;      /*   64 (u) readiness the user sleeps on; producers wake it when non-zero
                              *       (away from head/cur: producers read it at every publication) */
    uint8_t pad0b[60];       /*   68 */
    uint32_t head;           /*  128 (u) */
    uint32_t cur;            /*  132 (u) */
    uint8_t pad1[120];       /*  136 */
    uint32_t tail;           /*  256 (k) */
    uint32_t pad2;           /*  260 */
    int64_t timestamp;       /*  264 (k) ns of the last sync with JNM_NR_TIMESTAMP */
    uint8_t pad3[112];       /*  272 */
    uint8_t backend[5][128]; /*  384 backend-owned words, meaning defined by the port kind */
    struct jnm_slot slot[];  /* 1024 */
};

_Static_assert(offsetof(struct jnm_region, alloc_lock) == 256, "region.alloc_lock");
_Static_assert(offsetof(struct jnm_region, free_bufs) == 384, "region.free_bufs");
_Static_assert(offsetof(struct jnm_region, users) == 512, "region.users");
_Static_assert(offsetof(struct jnm_if, ring_ofs) == 128, "if.ring_ofs");
_Static_assert(sizeof(struct jnm_slot) == 16, "slot size");
_Static_assert(offsetof(struct jnm_ring, user_wait) == 64, "ring.user_wait");
_Static_assert(offsetof(struct jnm_ring, head) == 128, "ring.head");
_Static_assert(offsetof(struct jnm_ring, tail) == 256, "ring.tail");
_Static_assert(offsetof(struct jnm_ring, backend) == 384, "ring.backend");
_Static_assert(offsetof(struct jnm_ring, slot) == 1024, "ring.slot");

#define JNM_LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define JNM_STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* The descriptor at offset `ofs`, ring `i` of a descriptor, buffer `idx`, all from the region base. */
#define JNM_IF(base, ofs) ((struct jnm_if *)((char *)(base) + (ofs)))
#define JNM_RING(nifp, i) ((struct jnm_ring *)((char *)(nifp) + (nifp)->ring_ofs[(i)]))
#define JNM_TXRING(nifp, i) JNM_RING(nifp, (i))
#define JNM_RXRING(nifp, i) JNM_RING(nifp, (nifp)->tx_rings + (nifp)->host_tx_rings + (i))
#define JNM_BUF(ring, idx) ((char *)(ring) + (ring)->buf_ofs + (uint64_t)(idx) * (ring)->buf_size)

static inline uint32_t jnm_ring_next(const struct jnm_ring *r, uint32_t i) {
    return i + 1 == r->num_slots ? 0 : i + 1;
}

static inline uint32_t jnm_ring_space(const struct jnm_ring *r) {
    int64_t d = (int64_t)JNM_LOAD_ACQ(&r->tail) - (int64_t)r->head;
    return (uint32_t)(d < 0 ? d + r->num_slots : d);
}

/* The allocated descriptor named `name`, or NULL. */
static inline struct jnm_if *jnm_find_if(void *base, const char *name) {
    struct jnm_region *h = (struct jnm_region *)base;
    const uint64_t *bits = (const uint64_t *)((char *)base + h->bitmap_ofs);
    for (uint32_t i = 0; i < h->if_num; i++) {
        if (bits[i / 64] & (1ULL << (i % 64))) {
            struct jnm_if *nifp = JNM_IF(base, h->if_pool_ofs + (uint64_t)i * h->if_size);
            const char *a = nifp->name, *b = name;
            while (*a && *a == *b) {
                a++;
                b++;
            }
            if (*a == 0 && *b == 0) {
                return nifp;
            }
        }
    }
    return NULL;
}

/*
 * Pipes (io.jnetmap.pipe.PipeLayout). Every pipe of parent X lives in region "pipe.X"; its ends are
 * the descriptors named "X{ID" (kind JNM_PIPE_KIND_MASTER) and "X}ID" (JNM_PIPE_KIND_SLAVE), whose
 * state word holds the pid that has the end open (0 = closed). TX slot k of one end mirrors RX slot k
 * of the other. Words in each ring's backend area:
 */
#define JNM_PIPE_KIND_MASTER 0x7b706970 /* "pip{" */
#define JNM_PIPE_KIND_SLAVE 0x7d706970  /* "pip}" */
#define JNM_PIPE_TAIL_OFS 384           /* u32 (k) written by the other end's sync: this ring's next tail */
#define JNM_PIPE_WAKE_SEQ_OFS 512       /* u32 odd while owner_pid/event_fd are valid (a seqlock) */
#define JNM_PIPE_OWNER_PID_OFS 516      /* u32 process that has this ring's end open */
#define JNM_PIPE_EVENT_FD_OFS 520       /* u32 its eventfd (duplicate it with pidfd_getfd; signal it after publishing while the ring's USER_WAIT is non-zero) */

/*
 * NIC and host-stack ports (io.jnetmap.core.nic): descriptors of kind JNM_NIC_KIND; the kernel moves
 * their packets (AF_XDP, AF_PACKET, TAP), so their rings' backend words are unused.
 */
#define JNM_NIC_KIND 0x2063696e /* "nic " */

#endif /* JNETMAP_H */
