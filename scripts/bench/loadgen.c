/*
 * loadgen: a load generator for the Sidecar wire protocol.
 *
 *   loadgen --socket PATH [--method NAME] [--connections N] [--depth D]
 *           [--seconds S] [--warmup S] [--check-replies] [--once]
 *
 * Opens N connections to a Unix socket, says HELLO on each and reads one
 * frame back (sidecard's HELLO_ACK, or echo_server's copy of the HELLO), then
 * for each connection runs a thread that keeps D calls in flight (D=1 is
 * sequential ping-pong) for the warm-up plus S seconds. Calls answered during
 * the S measured seconds are counted; the output is one line:
 *
 *   calls=123456 seconds=5.00 calls_per_s=24691 p50_us=19.5 p99_us=41.2
 *
 * Replies are read by their length only, never parsed, so the client costs
 * the same against sidecard and against echo_server. Only the first reply on
 * each connection is checked (an OK REPLY to the first call from sidecard, a
 * byte-exact copy of the call from echo_server). Latency is measured from the
 * send of a call to the read that completes its reply; replies are matched to
 * calls in order (a FIFO ring of send times), which holds for the methods
 * benchmarked here.
 *
 * --check-replies (sidecard only; always on for a method whose answer depends
 * on the daemon's state, EnsureImage) parses every reply instead and fails
 * the run on any that is not an OK REPLY to the call expected next, so that
 * a daemon answering errors cannot pass for a fast one.
 *
 * --once (sidecard only): sends D calls on each of the N connections once,
 * all at the same moment, and waits for every answer on one thread (poll),
 * for "how long after X were all the waiters answered?". It prints one line
 * per answer, with the wall-clock (CLOCK_REALTIME) time it was read and, for
 * EnsureImage, the outcome, then a summary line:
 *
 *   answer conn=3 call=1 unix_ns=1700000000123456789 outcome=BUILT coalesced=1
 *   answers=200 sent_unix_ns=... first_unix_ns=... last_unix_ns=...
 *
 * (sent_unix_ns: when the last call was sent.) Every answer must be an OK
 * REPLY; --seconds and --warmup do not apply.
 *
 * Request payloads are fixed per method; two take theirs from the
 * environment: CheckDb the file in LOADGEN_DB_PATH, EnsureImage the image in
 * LOADGEN_IMAGE (default "agent").
 *
 * Any connect error, a closed connection or a reply not seen within
 * REPLY_TIMEOUT_S seconds ends the run with a message and exit status 1.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <protobuf-c/protobuf-c.h>

#include "sidecar.pb-c.h"
#include "wire.pb-c.h"

#define MAX_BODY_BYTES (4u << 20) /* sidecard's default max_message_bytes */
#define REPLY_TIMEOUT_S 10        /* a server this slow is broken, not slow */
#define RECV_CHUNK (64u << 10)
#define CLIENT_NAME "sidecar-loadgen"

/* ---- options ---------------------------------------------------------- */

static const char *opt_socket;
static const char *opt_method = "Health";
static int opt_connections = 1;
static int opt_depth = 1;
static double opt_seconds = 5;
static double opt_warmup = 1;
static bool opt_check_replies;
static bool opt_once;
static const char *opt_message = "Back-off pulling image: ErrImageNeverPull";

/* ---- request payloads ------------------------------------------------- */

/* Each benchmarkable method: its wire name, how to serialize its request,
 * whether every reply must be checked (the answer depends on the daemon's
 * state, so the first OK says nothing about the rest) and, optionally, how
 * to describe a response payload in --once output ("outcome=BUILT ...").
 * Later benchmark sections add their methods here. */
struct method {
    const char *name;
    ProtobufCBinaryData (*encode)(void);
    bool check_every_reply;
    int (*describe)(const ProtobufCBinaryData *payload, char *out, size_t cap);
};

static ProtobufCBinaryData pack_message(const ProtobufCMessage *msg)
{
    ProtobufCBinaryData out;
    out.len = protobuf_c_message_get_packed_size(msg);
    out.data = malloc(out.len ? out.len : 1);
    if (out.data == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(1);
    }
    protobuf_c_message_pack(msg, out.data);
    return out;
}

static ProtobufCBinaryData encode_health(void)
{
    Sidecar__V1__HealthRequest req = SIDECAR__V1__HEALTH_REQUEST__INIT;
    return pack_message(&req.base);
}

static ProtobufCBinaryData encode_classify(void)
{
    Sidecar__V1__ClassifyRequest req = SIDECAR__V1__CLASSIFY_REQUEST__INIT;
    req.message = (char *)opt_message;
    return pack_message(&req.base);
}

/* One key for the whole run: every call is a durable ledger change (a
 * grant, or an EXHAUSTED answer once the bench config's cap is reached). */
static ProtobufCBinaryData encode_reserve(void)
{
    Sidecar__V1__ReserveRetrySlotRequest req = SIDECAR__V1__RESERVE_RETRY_SLOT_REQUEST__INIT;
    req.key = "bench:reserve";
    req.last_error = "connection reset by peer";
    return pack_message(&req.base);
}

/* The file comes from $LOADGEN_DB_PATH; unchanged, every call after the
 * first is answered from the daemon's reused result. */
static ProtobufCBinaryData encode_check_db(void)
{
    Sidecar__V1__CheckDbRequest req = SIDECAR__V1__CHECK_DB_REQUEST__INIT;
    const char *path = getenv("LOADGEN_DB_PATH");
    if (path == NULL || *path == '\0') {
        fprintf(stderr, "loadgen: CheckDb needs LOADGEN_DB_PATH\n");
        exit(2);
    }
    req.path = (char *)path;
    return pack_message(&req.base);
}

/* The image comes from $LOADGEN_IMAGE (default "agent"): a name from the
 * daemon's config or a reference. */
static ProtobufCBinaryData encode_ensure_image(void)
{
    Sidecar__V1__EnsureImageRequest req = SIDECAR__V1__ENSURE_IMAGE_REQUEST__INIT;
    const char *image = getenv("LOADGEN_IMAGE");
    req.image = (char *)(image != NULL && *image != '\0' ? image : "agent");
    return pack_message(&req.base);
}

/* "outcome=PRESENT coalesced=0", or -1 if the payload is not an
 * EnsureImageResponse. */
static int describe_ensure_image(const ProtobufCBinaryData *payload, char *out, size_t cap)
{
    Sidecar__V1__EnsureImageResponse *r =
        sidecar__v1__ensure_image_response__unpack(NULL, payload->len, payload->data);
    if (r == NULL)
        return -1;
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &sidecar__v1__ensure_image_response__outcome__descriptor, (int)r->outcome);
    snprintf(out, cap, "outcome=%s coalesced=%d", v != NULL ? v->name : "UNKNOWN", r->coalesced ? 1 : 0);
    sidecar__v1__ensure_image_response__free_unpacked(r, NULL);
    return 0;
}

static const struct method methods[] = {
    {"Health", encode_health, false, NULL},
    {"Classify", encode_classify, false, NULL},
    {"ReserveRetrySlot", encode_reserve, false, NULL},
    {"CheckDb", encode_check_db, false, NULL},
    {"EnsureImage", encode_ensure_image, true, describe_ensure_image},
};

/* ---- latency histogram ------------------------------------------------ */

/* Log-linear buckets over nanoseconds: exact below 128 ns, then 64 buckets
 * per power of two (under 1.6% error), up to 2^40 ns. Cheap enough to update
 * on every reply, unlike keeping every sample of a million-calls/s run. */
#define HIST_SUB_BITS 6
#define HIST_LINEAR (2u << HIST_SUB_BITS) /* 128 */
#define HIST_MAX_EXP 40
#define HIST_BUCKETS (HIST_LINEAR + (HIST_MAX_EXP - HIST_SUB_BITS - 1) * (1u << HIST_SUB_BITS))

struct histogram {
    uint64_t count[HIST_BUCKETS];
};

static unsigned hist_bucket(uint64_t ns)
{
    if (ns < HIST_LINEAR)
        return (unsigned)ns;
    unsigned exp = 63u - (unsigned)__builtin_clzll(ns); /* >= HIST_SUB_BITS + 1 */
    if (exp >= HIST_MAX_EXP)
        return HIST_BUCKETS - 1;
    unsigned sub = (unsigned)(ns >> (exp - HIST_SUB_BITS)) & ((1u << HIST_SUB_BITS) - 1);
    return HIST_LINEAR + (exp - HIST_SUB_BITS - 1) * (1u << HIST_SUB_BITS) + sub;
}

/* The middle of a bucket's range, in nanoseconds. */
static double hist_value(unsigned bucket)
{
    if (bucket < HIST_LINEAR)
        return bucket;
    unsigned exp = (bucket - HIST_LINEAR) / (1u << HIST_SUB_BITS) + HIST_SUB_BITS + 1;
    unsigned sub = (bucket - HIST_LINEAR) % (1u << HIST_SUB_BITS);
    double width = (double)(1ull << (exp - HIST_SUB_BITS));
    return (double)((1ull << exp) + sub * (1ull << (exp - HIST_SUB_BITS))) + width / 2;
}

static double hist_percentile_ns(const struct histogram *h, uint64_t total, double q)
{
    uint64_t rank = (uint64_t)(q * (double)total + 0.5);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < HIST_BUCKETS; b++) {
        seen += h->count[b];
        if (seen >= rank)
            return hist_value(b);
    }
    return hist_value(HIST_BUCKETS - 1);
}

/* ---- time and errors -------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Set by the first thread that fails; the others stop at their next read. */
static atomic_bool failed;

static void fail(int conn_index, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(int conn_index, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One fprintf, so that lines from several threads do not interleave. */
    fprintf(stderr, "loadgen: connection %d: %s\n", conn_index, msg);
    atomic_store(&failed, true);
}

/* ---- framing ---------------------------------------------------------- */

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Writes frame header + body of `msg` at `out`; returns the bytes written. */
static size_t put_frame(uint8_t *out, const Sidecar__V1__ClientFrame *msg)
{
    size_t body = sidecar__v1__client_frame__pack(msg, out + 4);
    put_be32(out, (uint32_t)body);
    return 4 + body;
}

static int send_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A read buffer holding whatever recv() returned past the frames consumed. */
struct rbuf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

static void rbuf_reserve(struct rbuf *b, size_t need)
{
    if (b->cap - b->len >= need)
        return;
    size_t cap = b->cap ? b->cap : RECV_CHUNK;
    while (cap - b->len < need)
        cap *= 2;
    b->data = realloc(b->data, cap);
    if (b->data == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(1);
    }
    b->cap = cap;
}

/* One recv() into the buffer. Returns 0, or -1 after reporting why. There is
 * always a chunk of free space to read into, so a frame larger than the
 * buffer grows it over several calls. */
static int rbuf_fill(struct rbuf *b, int fd, int conn_index)
{
    rbuf_reserve(b, RECV_CHUNK);
    for (;;) {
        ssize_t n = recv(fd, b->data + b->len, b->cap - b->len, 0);
        if (n > 0) {
            b->len += (size_t)n;
            return 0;
        }
        if (n == 0) {
            fail(conn_index, "the server closed the connection");
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            fail(conn_index, "no reply within %d s", REPLY_TIMEOUT_S);
        else if (errno == ECONNRESET)
            fail(conn_index, "the server closed the connection (reset)");
        else
            fail(conn_index, "recv: %s", strerror(errno));
        return -1;
    }
}

/* The length of the complete frame at `off` in the buffer, 0 if it is not
 * all there yet, or -1 after reporting a length no server would send (the
 * only check made on most replies). */
static long frame_at(const struct rbuf *b, size_t off, int conn_index)
{
    if (b->len - off < 4)
        return 0;
    uint32_t body = get_be32(b->data + off);
    if (body > MAX_BODY_BYTES) {
        fail(conn_index, "a reply frame of %u bytes: not the Sidecar framing", body);
        return -1;
    }
    if (b->len - off - 4 < body)
        return 0;
    return 4 + (long)body;
}

static void rbuf_consume(struct rbuf *b, size_t n)
{
    b->len -= n;
    memmove(b->data, b->data + n, b->len);
}

/* ---- connections ------------------------------------------------------ */

struct conn {
    int index;
    int fd;
    int echo;                 /* the server echoes frames (echo_server) */
    pthread_t thread;
    struct rbuf in;
    uint64_t *sent_at;        /* ring of send times of the calls in flight */
    uint8_t *out;             /* room for opt_depth encoded calls */
    uint64_t calls;           /* replies in the measured window */
    struct histogram hist;
    int ok;
};

static ProtobufCBinaryData payload;  /* the serialized request, shared */
static size_t max_call_frame;        /* bytes of the largest CALL frame */
static uint64_t measure_start, measure_end;

static Sidecar__V1__ClientFrame call_frame(uint64_t call_id)
{
    Sidecar__V1__ClientFrame f = SIDECAR__V1__CLIENT_FRAME__INIT;
    f.kind = SIDECAR__V1__CLIENT_FRAME__KIND__CALL;
    f.call_id = call_id;
    f.method = (char *)opt_method;
    f.payload = payload;
    return f;
}

static int connect_socket(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "loadgen: socket path too long: %s\n", path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "loadgen: socket: %s\n", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        fprintf(stderr, "loadgen: connect to %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    /* Blocking I/O, but never blocked for ever: a hung server fails the run. */
    struct timeval tv = {.tv_sec = REPLY_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

/* HELLO, then exactly one frame back: sidecard's HELLO_ACK, or the HELLO
 * itself from echo_server. Sets c->echo to tell which. */
static int hello(struct conn *c)
{
    Sidecar__V1__ClientFrame f = SIDECAR__V1__CLIENT_FRAME__INIT;
    f.kind = SIDECAR__V1__CLIENT_FRAME__KIND__HELLO;
    f.call_id = 0;
    f.protocol_version = SIDECAR__V1__PROTOCOL_VERSION__PROTOCOL_VERSION_1;
    f.client_name = CLIENT_NAME;
    uint8_t frame[256];
    if (4 + sidecar__v1__client_frame__get_packed_size(&f) > sizeof frame)
        abort(); /* cannot happen: the HELLO is a few bytes */
    size_t len = put_frame(frame, &f);
    if (send_all(c->fd, frame, len) < 0) {
        fail(c->index, "sending HELLO: %s", strerror(errno));
        return -1;
    }

    long n;
    while ((n = frame_at(&c->in, 0, c->index)) == 0)
        if (rbuf_fill(&c->in, c->fd, c->index) < 0)
            return -1;
    if (n < 0)
        return -1;

    int rc = 0;
    if ((size_t)n == len && memcmp(c->in.data, frame, len) == 0) {
        c->echo = 1;
        if (opt_check_replies || opt_once) {
            fail(c->index, "the server echoes: --check-replies and --once need sidecard");
            rc = -1;
        }
    } else {
        Sidecar__V1__ServerFrame *ack =
            sidecar__v1__server_frame__unpack(NULL, (size_t)n - 4, c->in.data + 4);
        if (ack == NULL) {
            fail(c->index, "the answer to HELLO is not a ServerFrame");
            rc = -1;
        } else if (ack->kind == SIDECAR__V1__SERVER_FRAME__KIND__GOAWAY) {
            fail(c->index, "HELLO answered with GOAWAY: %s", ack->status_message);
            rc = -1;
        } else if (ack->kind != SIDECAR__V1__SERVER_FRAME__KIND__HELLO_ACK) {
            fail(c->index, "the answer to HELLO is not a HELLO_ACK");
            rc = -1;
        } else if (ack->max_inflight_calls != 0 &&
                   (uint32_t)opt_depth > ack->max_inflight_calls) {
            fail(c->index, "--depth %d is over the server's max_inflight_calls (%u)", opt_depth,
                 ack->max_inflight_calls);
            rc = -1;
        }
        if (ack != NULL)
            sidecar__v1__server_frame__free_unpacked(ack, NULL);
    }
    rbuf_consume(&c->in, (size_t)n);
    return rc;
}

/* A reply from sidecard must be an OK REPLY to `call_id` (an error status
 * would benchmark the error path). On success, and when `payload` is not
 * NULL, the unpacked frame is handed back in *frame_out for the caller to
 * read and free; otherwise it is freed here. */
static int check_reply(struct conn *c, const uint8_t *frame, size_t len, uint64_t call_id,
                       Sidecar__V1__ServerFrame **frame_out)
{
    Sidecar__V1__ServerFrame *r = sidecar__v1__server_frame__unpack(NULL, len - 4, frame + 4);
    int rc = -1;
    if (r == NULL) {
        fail(c->index, "the reply to call %llu is not a ServerFrame", (unsigned long long)call_id);
    } else if (r->kind == SIDECAR__V1__SERVER_FRAME__KIND__GOAWAY) {
        fail(c->index, "GOAWAY instead of a reply: %s", r->status_message);
    } else if (r->kind != SIDECAR__V1__SERVER_FRAME__KIND__REPLY ||
               (call_id != 0 && r->call_id != call_id)) {
        fail(c->index, "expected the REPLY to call %llu, got kind %d for call %llu (out of order?)",
             (unsigned long long)call_id, (int)r->kind, (unsigned long long)r->call_id);
    } else if (r->status_code != 0) {
        fail(c->index, "%s failed: call %llu: status %u: %s", opt_method,
             (unsigned long long)r->call_id, r->status_code, r->status_message);
    } else {
        rc = 0;
    }
    if (rc == 0 && frame_out != NULL) {
        *frame_out = r;
        return 0;
    }
    if (r != NULL)
        sidecar__v1__server_frame__free_unpacked(r, NULL);
    return rc;
}

/* The first reply of a connection must answer call 1: from sidecard an OK
 * REPLY, from echo_server the call itself. */
static int check_first_reply(struct conn *c, const uint8_t *frame, size_t len)
{
    if (c->echo) {
        /* c->out still holds the first batch of calls, call 1 first. */
        Sidecar__V1__ClientFrame f = call_frame(1);
        size_t elen = 4 + sidecar__v1__client_frame__get_packed_size(&f);
        if (len != elen || memcmp(frame, c->out, len) != 0) {
            fail(c->index, "the echo server's first reply is not a copy of call 1");
            return -1;
        }
        return 0;
    }
    return check_reply(c, frame, len, 1, NULL);
}

static void *run_conn(void *arg)
{
    struct conn *c = arg;
    const unsigned depth = (unsigned)opt_depth;
    uint64_t next_id = 1;
    unsigned head = 0;     /* ring index of the oldest call in flight */
    unsigned inflight = 0;
    uint64_t reply_id = 1; /* the call the next reply must answer */
    int checked = 0;

    for (;;) {
        uint64_t now = now_ns();

        /* Top up to `depth` calls in flight with one send, stamped after
         * encoding so that latency leaves out the client's own work. */
        if (now < measure_end && inflight < depth) {
            size_t len = 0;
            unsigned n = depth - inflight;
            for (unsigned i = 0; i < n; i++) {
                Sidecar__V1__ClientFrame f = call_frame(next_id++);
                len += put_frame(c->out + len, &f);
            }
            uint64_t sent = now_ns();
            for (unsigned i = 0; i < n; i++)
                c->sent_at[(head + inflight + i) % depth] = sent;
            inflight += n;
            if (send_all(c->fd, c->out, len) < 0) {
                fail(c->index, "send: %s", strerror(errno));
                return NULL;
            }
        } else if (inflight == 0) {
            break; /* time is up and every call has its reply */
        }

        if (atomic_load_explicit(&failed, memory_order_relaxed))
            return NULL;
        if (rbuf_fill(&c->in, c->fd, c->index) < 0)
            return NULL;
        uint64_t received = now_ns();

        size_t off = 0;
        long n;
        while ((n = frame_at(&c->in, off, c->index)) > 0) {
            if (inflight == 0) {
                fail(c->index, "a reply to no call in flight");
                return NULL;
            }
            if (!checked) {
                if (check_first_reply(c, c->in.data + off, (size_t)n) < 0)
                    return NULL;
                checked = 1;
            } else if (opt_check_replies &&
                       check_reply(c, c->in.data + off, (size_t)n, reply_id, NULL) < 0) {
                return NULL;
            }
            reply_id++;
            if (received >= measure_start && received < measure_end) {
                c->hist.count[hist_bucket(received - c->sent_at[head])]++;
                c->calls++;
            }
            head = (head + 1) % depth;
            inflight--;
            off += (size_t)n;
        }
        if (n < 0)
            return NULL;
        rbuf_consume(&c->in, off);
    }
    c->ok = 1;
    return NULL;
}

/* ---- --once ------------------------------------------------------------ */

static uint64_t unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One answer in --once: which call, when it was read, what it said. */
struct answer {
    int conn;
    uint64_t call_id;
    uint64_t at_unix_ns;
    char what[96];
};

/* Reads and checks the complete frames in c's buffer; each must be an OK
 * REPLY to one of calls 1...depth not answered yet. Returns the answers
 * recorded, or -1. */
static int once_take_frames(struct conn *c, const struct method *m, uint8_t *answered,
                            uint64_t read_at, struct answer *out, int room)
{
    size_t off = 0;
    long n;
    int taken = 0;
    while ((n = frame_at(&c->in, off, c->index)) > 0) {
        Sidecar__V1__ServerFrame *r = NULL;
        if (check_reply(c, c->in.data + off, (size_t)n, 0, &r) < 0)
            return -1;
        uint64_t id = r->call_id;
        int rc = 0;
        if (id < 1 || id > (uint64_t)opt_depth || answered[id - 1] || taken == room) {
            fail(c->index, "a reply to call %llu, which is not in flight", (unsigned long long)id);
            rc = -1;
        } else {
            struct answer *a = &out[taken++];
            answered[id - 1] = 1;
            a->conn = c->index;
            a->call_id = id;
            a->at_unix_ns = read_at;
            a->what[0] = '\0';
            if (m->describe != NULL && m->describe(&r->payload, a->what, sizeof a->what) < 0) {
                fail(c->index, "the reply to call %llu is not a %s response",
                     (unsigned long long)id, m->name);
                rc = -1;
            }
        }
        sidecar__v1__server_frame__free_unpacked(r, NULL);
        if (rc < 0)
            return -1;
        off += (size_t)n;
    }
    if (n < 0)
        return -1;
    rbuf_consume(&c->in, off);
    return taken;
}

/* Sends opt_depth calls on every connection, then reads answers from
 * whichever connection has one until each call has its answer, and prints
 * them. One thread, so that the read times are not set by how 200 threads
 * get scheduled on a few CPUs. Returns 0, or -1 after reporting why. */
static int run_once(struct conn *conns, const struct method *m)
{
    const int nconn = opt_connections, depth = opt_depth;
    const int total = nconn * depth;
    int rc = -1, got = 0;
    uint64_t sent_at = 0, first = 0, last = 0;
    struct pollfd *pfds = calloc((size_t)nconn, sizeof *pfds);
    uint8_t *answered = calloc((size_t)total, 1);
    struct answer *answers = calloc((size_t)total, sizeof *answers);
    int *left = calloc((size_t)nconn, sizeof *left);
    size_t *lens = calloc((size_t)nconn, sizeof *lens);
    if (pfds == NULL || answered == NULL || answers == NULL || left == NULL || lens == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        goto out;
    }

    /* Encode every batch first, so that the sends follow each other closely. */
    for (int i = 0; i < nconn; i++) {
        size_t len = 0;
        for (int k = 0; k < depth; k++) {
            Sidecar__V1__ClientFrame f = call_frame((uint64_t)k + 1);
            len += put_frame(conns[i].out + len, &f);
        }
        lens[i] = len;
    }
    for (int i = 0; i < nconn; i++) {
        if (send_all(conns[i].fd, conns[i].out, lens[i]) < 0) {
            fail(i, "send: %s", strerror(errno));
            goto out;
        }
        left[i] = depth;
    }
    sent_at = unix_ns();
    for (int i = 0; i < nconn; i++) {
        pfds[i].fd = conns[i].fd;
        pfds[i].events = POLLIN;
        pfds[i].revents = 0;
    }

    while (got < total) {
        int ready = poll(pfds, (nfds_t)nconn, REPLY_TIMEOUT_S * 1000);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "loadgen: poll: %s\n", strerror(errno));
            goto out;
        }
        if (ready == 0) {
            fprintf(stderr, "loadgen: %d of %d calls had no answer within %d s\n", total - got,
                    total, REPLY_TIMEOUT_S);
            goto out;
        }
        for (int i = 0; i < nconn; i++) {
            if (pfds[i].revents == 0)
                continue;
            struct conn *c = &conns[i];
            if (rbuf_fill(&c->in, c->fd, i) < 0)
                goto out;
            uint64_t read_at = unix_ns();
            int n = once_take_frames(c, m, answered + (size_t)i * (size_t)depth, read_at,
                                     answers + got, left[i]);
            if (n < 0)
                goto out;
            if (n > 0) {
                if (got == 0)
                    first = read_at;
                last = read_at;
            }
            got += n;
            left[i] -= n;
            if (left[i] == 0)
                pfds[i].fd = -1; /* poll ignores it from now on */
        }
    }

    for (int k = 0; k < total; k++)
        printf("answer conn=%d call=%llu unix_ns=%llu%s%s\n", answers[k].conn,
               (unsigned long long)answers[k].call_id, (unsigned long long)answers[k].at_unix_ns,
               answers[k].what[0] ? " " : "", answers[k].what);
    printf("answers=%d sent_unix_ns=%llu first_unix_ns=%llu last_unix_ns=%llu\n", total,
           (unsigned long long)sent_at, (unsigned long long)first, (unsigned long long)last);
    rc = 0;
out:
    free(pfds);
    free(answered);
    free(answers);
    free(left);
    free(lens);
    return rc;
}

/* ---- main ------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: loadgen --socket PATH [--method NAME] [--connections N] [--depth D]\n"
            "               [--seconds S] [--warmup S] [--check-replies] [--once] [--message TEXT]\n"
            "  --socket PATH      Unix socket of sidecard or echo_server (required)\n"
            "  --method NAME      Health, Classify, ReserveRetrySlot, CheckDb or EnsureImage\n"
            "                     (default Health)\n"
            "  --connections N    connections, one thread each (default 1)\n"
            "  --depth D          calls kept in flight per connection (default 1)\n"
            "  --seconds S        measured duration (default 5)\n"
            "  --warmup S         unmeasured lead-in (default 1)\n"
            "  --check-replies    fail on any reply that is not an OK REPLY (sidecard only;\n"
            "                     always on for EnsureImage)\n"
            "  --once             D calls on each connection once; print when each answer\n"
            "                     came (sidecard only)\n"
            "  --message TEXT     Classify's message (default: a kubelet ErrImageNeverPull)\n");
}

static long parse_int(const char *name, const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s || v < min || v > max) {
        fprintf(stderr, "loadgen: %s must be an integer in %ld...%ld, not '%s'\n", name, min, max,
                s);
        exit(2);
    }
    return v;
}

static double parse_seconds(const char *name, const char *s, double min)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || end == s || !(v >= min) || v > 3600) {
        fprintf(stderr, "loadgen: %s must be a number of seconds in %g...3600, not '%s'\n", name,
                min, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 's'},
        {"method", required_argument, NULL, 'm'},
        {"connections", required_argument, NULL, 'c'},
        {"depth", required_argument, NULL, 'd'},
        {"seconds", required_argument, NULL, 't'},
        {"warmup", required_argument, NULL, 'w'},
        {"check-replies", no_argument, NULL, 'r'},
        {"once", no_argument, NULL, 'o'},
        {"message", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': opt_socket = optarg; break;
        case 'm': opt_method = optarg; break;
        case 'c': opt_connections = (int)parse_int("--connections", optarg, 1, 1024); break;
        case 'd': opt_depth = (int)parse_int("--depth", optarg, 1, 4096); break;
        case 't': opt_seconds = parse_seconds("--seconds", optarg, 0.01); break;
        case 'w': opt_warmup = parse_seconds("--warmup", optarg, 0); break;
        case 'r': opt_check_replies = true; break;
        case 'o': opt_once = true; break;
        case 'x': opt_message = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || opt_socket == NULL) {
        usage(stderr);
        return 2;
    }

    const struct method *m = NULL;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i].name, opt_method) == 0)
            m = &methods[i];
    if (m == NULL) {
        fprintf(stderr, "loadgen: unknown method '%s'; known:", opt_method);
        for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
            fprintf(stderr, " %s", methods[i].name);
        fputc('\n', stderr);
        return 2;
    }
    payload = m->encode();
    if (m->check_every_reply)
        opt_check_replies = true;
    Sidecar__V1__ClientFrame largest = call_frame(UINT64_MAX);
    max_call_frame = 4 + sidecar__v1__client_frame__get_packed_size(&largest);

    static struct histogram total; /* static: 18 KiB is a lot for a stack */
    uint64_t calls = 0;
    int ok = 0;
    int started = 0;
    struct conn *conns = calloc((size_t)opt_connections, sizeof *conns);
    if (conns == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        goto out;
    }
    for (int i = 0; i < opt_connections; i++)
        conns[i].fd = -1;

    /* Connect and greet on the main thread, so that a server that is not
     * there fails the run before any thread starts. */
    for (int i = 0; i < opt_connections; i++) {
        struct conn *c = &conns[i];
        c->index = i;
        c->sent_at = calloc((size_t)opt_depth, sizeof *c->sent_at);
        c->out = malloc((size_t)opt_depth * max_call_frame);
        if (c->sent_at == NULL || c->out == NULL) {
            fprintf(stderr, "loadgen: out of memory\n");
            goto out;
        }
        c->fd = connect_socket(opt_socket);
        if (c->fd < 0 || hello(c) < 0)
            goto out;
    }

    if (opt_once) {
        ok = run_once(conns, m) == 0;
        goto out;
    }

    measure_start = now_ns() + (uint64_t)(opt_warmup * 1e9);
    measure_end = measure_start + (uint64_t)(opt_seconds * 1e9);
    ok = 1;
    for (; started < opt_connections; started++) {
        int rc = pthread_create(&conns[started].thread, NULL, run_conn, &conns[started]);
        if (rc != 0) {
            fprintf(stderr, "loadgen: pthread_create: %s\n", strerror(rc));
            atomic_store(&failed, true); /* stops the threads already running */
            ok = 0;
            break;
        }
    }
    for (int i = 0; i < started; i++) {
        struct conn *c = &conns[i];
        pthread_join(c->thread, NULL);
        ok &= c->ok;
        calls += c->calls;
        for (unsigned b = 0; b < HIST_BUCKETS; b++)
            total.count[b] += c->hist.count[b];
    }
    if (ok && calls == 0) {
        fprintf(stderr, "loadgen: no call was answered in the measured window\n");
        ok = 0;
    }
    if (ok)
        printf("calls=%llu seconds=%.2f calls_per_s=%.0f p50_us=%.1f p99_us=%.1f\n",
               (unsigned long long)calls, opt_seconds, (double)calls / opt_seconds,
               hist_percentile_ns(&total, calls, 0.50) / 1000,
               hist_percentile_ns(&total, calls, 0.99) / 1000);

out:
    for (int i = 0; conns != NULL && i < opt_connections; i++) {
        if (conns[i].fd >= 0)
            close(conns[i].fd);
        free(conns[i].in.data);
        free(conns[i].sent_at);
        free(conns[i].out);
    }
    free(conns);
    free(payload.data);
    return ok ? 0 : 1;
}
