// The kernel's own software RSS, the peer of lb on a veth (bench/run middlebox, "peer.fanout.*"):
// WORKERS processes, each with an AF_PACKET socket on IFACE, all in one PACKET_FANOUT group of mode
// PACKET_FANOUT_HASH (the kernel spreads packets by its flow hash, both directions of a flow to one
// socket). Each process receives in batches of 64 with recvmmsg and counts what arrives between
// WARM and WARM + WINDOW seconds after the start. bench/run compiles this file with gcc at run time
// (bench/target/c/fanout).
//
//   fanout IFACE WORKERS WARM WINDOW
//
// Output: "peer.fanout.<WORKERS>consumers <Mpps> Mpps", then one "# worker K: N packets" line each.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define FRAME 2048

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static int open_member(int ifindex, int group) {
    int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (s < 0) { perror("fanout: socket(AF_PACKET)"); exit(2); }
    int rcvbuf = 8 << 20;
    setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};
    if (bind(s, (struct sockaddr *) &sll, sizeof sll) != 0) { perror("fanout: bind"); exit(2); }
    int arg = group | (PACKET_FANOUT_HASH << 16);
    if (setsockopt(s, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) { perror("fanout: PACKET_FANOUT"); exit(2); }
    struct timeval tv = {0, 100000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return s;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: fanout IFACE WORKERS WARM WINDOW\n"); return 2; }
    int ifindex = if_nametoindex(argv[1]);
    int workers = atoi(argv[2]);
    double warm = atof(argv[3]), window = atof(argv[4]);
    if (ifindex == 0) { fprintf(stderr, "fanout: no interface %s\n", argv[1]); return 2; }
    if (workers < 1 || workers > 64 || !(window > 0)) { fprintf(stderr, "fanout: WORKERS 1..64, WINDOW > 0\n"); return 2; }
    int group = getpid() & 0xffff;
    int fds[2];
    if (pipe(fds) != 0) { perror("fanout: pipe"); return 2; }
    double t0 = now();
    for (int w = 0; w < workers; w++) {
        pid_t pid = fork();
        if (pid < 0) { perror("fanout: fork"); return 2; }
        if (pid == 0) {
            int s = open_member(ifindex, group);
            static char bufs[BATCH][FRAME];
            struct iovec iov[BATCH];
            struct mmsghdr msgs[BATCH];
            memset(msgs, 0, sizeof msgs);
            for (int i = 0; i < BATCH; i++) {
                iov[i].iov_base = bufs[i];
                iov[i].iov_len = FRAME;
                msgs[i].msg_hdr.msg_iov = &iov[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
            }
            uint64_t counted = 0;
            for (;;) {
                int n = recvmmsg(s, msgs, BATCH, 0, NULL);
                double t = now() - t0;
                if (t >= warm + window) break;
                if (n > 0 && t >= warm) counted += n;
                if (n < 0 && errno != EAGAIN && errno != EINTR) { perror("fanout: recvmmsg"); exit(2); }
            }
            uint64_t msg[2] = {(uint64_t) w, counted};
            if (write(fds[1], msg, sizeof msg) != sizeof msg) exit(2);
            exit(0);
        }
    }
    close(fds[1]);
    uint64_t total = 0, per[64] = {0};
    uint64_t msg[2];
    int got = 0;
    while (read(fds[0], msg, sizeof msg) == sizeof msg) { per[msg[0] & 63] = msg[1]; total += msg[1]; got++; }
    int status, failed = 0;
    while (wait(&status) > 0) if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
    if (failed || got != workers) { fprintf(stderr, "fanout: a worker failed\n"); return 1; }
    printf("peer.fanout.%dconsumers %.3f Mpps\n", workers, total / window / 1e6);
    for (int w = 0; w < workers; w++) printf("# worker %d: %llu packets\n", w, (unsigned long long) per[w]);
    return 0;
}
