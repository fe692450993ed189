/*
 * Load generator for `npm run bench`: a small epoll client, built at run time
 * with the machine's cc, so that the generator is not the bottleneck and
 * drives lockd-server and redis-server the same way.
 *
 *   loadgen cycle lockd|redis HOST PORT CONNS DEPTH SECONDS
 *     Lock cycles (get then release, fresh names) on CONNS connections with
 *     DEPTH requests in flight on each, for SECONDS. Prints one JSON line.
 *   loadgen hold lockd|redis HOST PORT CONNS
 *     Opens CONNS connections that each take one lock, prints "ready", waits
 *     for a line on stdin, closes them all at once, prints "closed".
 *
 * Each reply of both servers to these requests is one line, so replies are
 * counted by counting '\n'.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    long next_op;     /* ops sent */
    long done;        /* replies received */
    int inflight;
    char out[65536];
    int outlen;
} conn_t;

static int redis;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(const char *host, int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) { perror("socket"); exit(1); }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); exit(1); }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Appends operation k of connection c: even k takes lock k/2, odd k releases it. */
static void add_op(conn_t *c, int id, long k) {
    char key[64];
    int klen = snprintf(key, sizeof key, "c%dn%ld", id, k / 2);
    char *p = c->out + c->outlen;
    int n;
    if (!redis) {
        n = sprintf(p, "%s %s\n", (k & 1) ? "r" : "g", key);
    } else if (k & 1) {
        n = sprintf(p, "*2\r\n$3\r\nDEL\r\n$%d\r\n%s\r\n", klen, key);
    } else {
        n = sprintf(p, "*4\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\n1\r\n$2\r\nNX\r\n", klen, key);
    }
    c->outlen += n;
    c->next_op++;
    c->inflight++;
}

static void flush(conn_t *c) {
    int off = 0;
    while (off < c->outlen) {
        ssize_t w = write(c->fd, c->out + off, c->outlen - off);
        if (w < 0) {
            if (errno == EAGAIN) break;
            perror("write");
            exit(1);
        }
        off += w;
    }
    memmove(c->out, c->out + off, c->outlen - off);
    c->outlen -= off;
}

static int cycle(const char *host, int port, int nconns, int depth, double seconds) {
    conn_t *conns = calloc(nconns, sizeof(conn_t));
    int ep = epoll_create1(0);
    for (int i = 0; i < nconns; i++) {
        conns[i].fd = dial(host, port);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
        epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
    }
    double start = now(), deadline = start + seconds;
    for (int i = 0; i < nconns; i++) {
        for (int d = 0; d < depth; d++) add_op(&conns[i], i, conns[i].next_op);
        flush(&conns[i]);
    }
    struct epoll_event evs[256];
    char buf[65536];
    int stopping = 0;
    long outstanding = (long)nconns * depth;
    while (outstanding > 0) {
        if (!stopping && now() >= deadline) stopping = 1;
        int n = epoll_wait(ep, evs, 256, 100);
        for (int e = 0; e < n; e++) {
            int i = evs[e].data.u32;
            conn_t *c = &conns[i];
            ssize_t r = read(c->fd, buf, sizeof buf);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                fprintf(stderr, "loadgen: connection %d closed by the server\n", i);
                exit(1);
            }
            for (ssize_t j = 0; j < r; j++) {
                if (buf[j] != '\n') continue;
                c->done++;
                c->inflight--;
                outstanding--;
                if (!stopping) {
                    add_op(c, i, c->next_op);
                    outstanding++;
                }
            }
            flush(c);
        }
    }
    double elapsed = now() - start;
    long ops = 0;
    for (int i = 0; i < nconns; i++) ops += conns[i].done;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("{\"ops\":%ld,\"cycles_per_s\":%.1f,\"seconds\":%.3f,\"loadgen_cpu_s\":%.3f}\n", ops, ops / 2.0 / elapsed, elapsed, cpu);
    return 0;
}

static int hold(const char *host, int port, int nconns) {
    int *fds = calloc(nconns, sizeof(int));
    char req[128], buf[256];
    for (int i = 0; i < nconns; i++) {
        fds[i] = dial(host, port);
        int n;
        if (redis) {
            char key[32];
            int klen = snprintf(key, sizeof key, "hold%d", i);
            n = sprintf(req, "*4\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\n1\r\n$2\r\nNX\r\n", klen, key);
        } else {
            n = sprintf(req, "g hold%d\n", i);
        }
        if (write(fds[i], req, n) != n) { perror("write"); return 1; }
    }
    for (int i = 0; i < nconns; i++) {
        ssize_t r = read(fds[i], buf, sizeof buf);
        if (r <= 0 || buf[0] == '0' || buf[0] == '$') { fprintf(stderr, "loadgen: lock %d not granted\n", i); return 1; }
    }
    printf("ready\n");
    fflush(stdout);
    if (!fgets(buf, sizeof buf, stdin)) return 1;
    for (int i = 0; i < nconns; i++) close(fds[i]);
    printf("closed\n");
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: loadgen cycle|hold lockd|redis HOST PORT CONNS [DEPTH SECONDS]\n");
        return 64;
    }
    redis = strcmp(argv[2], "redis") == 0;
    if (strcmp(argv[1], "cycle") == 0 && argc == 8) {
        return cycle(argv[3], atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), atof(argv[7]));
    }
    if (strcmp(argv[1], "hold") == 0) return hold(argv[3], atoi(argv[4]), atoi(argv[5]));
    fprintf(stderr, "loadgen: bad arguments\n");
    return 64;
}
