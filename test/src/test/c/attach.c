/* Attaches to a jnetmap region with docs/jnetmap.h only: checks what Java wrote in TX ring 0 of port
 * "cport", answers in RX ring 0. Usage: attach FILE PACKETS. Exit 0 = every check passed. */
#include "jnetmap.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *what, long a, long b) {
    fprintf(stderr, "attach: %s: %ld (expected %ld)\n", what, a, b);
    return 2;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: attach FILE PACKETS\n");
        return 1;
    }
    int packets = atoi(argv[2]);
    int fd = open(argv[1], O_RDWR);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        perror(argv[1]);
        return 1;
    }
    void *base = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    struct jnm_region *h = base;
    if (h->magic != JNM_MAGIC) return fail("magic", (long)h->magic, (long)JNM_MAGIC);
    if (h->version != JNM_VERSION) return fail("version", h->version, JNM_VERSION);
    if (JNM_LOAD_ACQ(&h->state) != JNM_STATE_READY) return fail("state", h->state, JNM_STATE_READY);
    if ((off_t)h->region_size != st.st_size) return fail("region_size", (long)h->region_size, (long)st.st_size);
    struct jnm_if *nifp = jnm_find_if(base, "cport");
    if (!nifp) return fail("descriptor cport found", 0, 1);
    struct jnm_ring *tx = JNM_TXRING(nifp, 0);
    struct jnm_ring *rx = JNM_RXRING(nifp, 0);
    if (tx->dir != JNM_DIR_TX || rx->dir != JNM_DIR_RX) return fail("ring directions", tx->dir, JNM_DIR_TX);
    if (JNM_LOAD_ACQ(&tx->head) != (uint32_t)packets) return fail("tx head", tx->head, packets);
    for (int i = 0; i < packets; i++) {
        struct jnm_slot *s = &tx->slot[i];
        uint64_t seq;
        memcpy(&seq, JNM_BUF(tx, s->buf_idx), 8);
        if (s->len != 64) return fail("tx len", s->len, 64);
        if (seq != 1000u + (unsigned)i) return fail("tx seq", (long)seq, 1000 + i);
        if (s->buf_idx < JNM_RESERVED_BUFS || s->buf_idx >= h->buf_num) return fail("buf_idx", s->buf_idx, 2);
    }
    for (int i = 0; i < packets; i++) {
        struct jnm_slot *s = &rx->slot[i];
        uint64_t seq = 5000u + (unsigned)i;
        memcpy(JNM_BUF(rx, s->buf_idx), &seq, 8);
        s->len = 48;
        s->flags = JNM_NS_REPORT;
    }
    JNM_STORE_REL(&rx->tail, (uint32_t)packets);
    printf("attach: ok, %d packets read, %d written\n", packets, packets);
    return 0;
}
