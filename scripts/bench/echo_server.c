/*
 * echo_server: the floor this machine allows for the Sidecar wire protocol.
 *
 * A minimal libuv server on a Unix socket that speaks the same framing as
 * sidecard (4-byte big-endian length + body, see proto/sidecar/v1/README.md)
 * and answers every frame with a frame carrying the same body. It does no
 * protobuf work at all, so a benchmark against it measures what the kernel,
 * libuv and the load generator cost; sidecard is compared against that.
 *
 *   echo_server SOCKET_PATH
 *
 * Runs until SIGTERM or SIGINT, then closes every connection, removes the
 * socket file and exits 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#define MAX_BODY_BYTES (4u << 20)      /* sidecard's default max_message_bytes */
#define READ_CHUNK (64u << 10)         /* free space offered to each read */
#define MAX_QUEUED_WRITE_BYTES (1u << 20) /* stop reading above this backlog */

struct conn {
    uv_pipe_t pipe;     /* first member: the handle pointer is the conn pointer */
    char *in;           /* bytes read and not yet answered */
    size_t in_len;
    size_t in_cap;
    int reading;        /* 0 while paused because the client does not read */
};

/* One uv_write: the header and the bytes it sends live in one allocation. */
struct write_req {
    uv_write_t req;
    size_t len;
    char data[];
};

static uv_loop_t *loop;
static uv_pipe_t server;
static uv_signal_t sigterm_handle;
static uv_signal_t sigint_handle;
static const char *socket_path;

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void on_conn_closed(uv_handle_t *handle)
{
    struct conn *c = (struct conn *)handle;
    free(c->in);
    free(c);
}

static void close_conn(struct conn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->pipe))
        uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = (struct conn *)handle;
    (void)suggested;
    if (c->in_cap - c->in_len < READ_CHUNK) {
        size_t cap = c->in_cap ? c->in_cap : READ_CHUNK;
        while (cap - c->in_len < READ_CHUNK)
            cap *= 2;
        char *in = realloc(c->in, cap);
        if (in == NULL) {
            /* libuv reports UV_ENOBUFS to on_read, which closes the conn. */
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        c->in = in;
        c->in_cap = cap;
    }
    *buf = uv_buf_init(c->in + c->in_len, (unsigned int)(c->in_cap - c->in_len));
}

static void on_write(uv_write_t *req, int status)
{
    struct conn *c = (struct conn *)req->handle;
    free(req); /* req is the first member of its write_req */
    if (status < 0) {
        /* UV_ECANCELED comes from our own uv_close; anything else is the
         * peer going away. Either way the connection is done. */
        close_conn(c);
        return;
    }
    if (!c->reading && !uv_is_closing((uv_handle_t *)&c->pipe) &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) < MAX_QUEUED_WRITE_BYTES / 2) {
        c->reading = 1;
        uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
    }
}

static uint32_t read_be32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = (struct conn *)stream;
    (void)buf; /* it points into c->in */

    if (nread < 0) {
        if (nread != UV_EOF)
            fprintf(stderr, "echo_server: read: %s\n", uv_strerror((int)nread));
        close_conn(c);
        return;
    }
    c->in_len += (size_t)nread;

    /* Find the complete frames at the front of the buffer. An echo frame is
     * byte for byte the frame received (same length, same body), so the
     * answer to all of them is that prefix, sent with one write. */
    size_t done = 0;
    while (c->in_len - done >= 4) {
        uint32_t body = read_be32(c->in + done);
        if (body > MAX_BODY_BYTES) {
            fprintf(stderr, "echo_server: frame of %u bytes is over the limit; closing\n", body);
            close_conn(c);
            return;
        }
        if (c->in_len - done - 4 < body)
            break; /* split frame: the rest comes with a later read */
        done += 4 + (size_t)body;
    }
    if (done == 0)
        return;

    struct write_req *w = malloc(sizeof *w + done);
    if (w == NULL) {
        fprintf(stderr, "echo_server: out of memory\n");
        close_conn(c);
        return;
    }
    w->len = done;
    memcpy(w->data, c->in, done);
    c->in_len -= done;
    memmove(c->in, c->in + done, c->in_len);

    uv_buf_t out = uv_buf_init(w->data, (unsigned int)w->len);
    int rc = uv_write(&w->req, stream, &out, 1, on_write);
    if (rc < 0) {
        fprintf(stderr, "echo_server: write: %s\n", uv_strerror(rc));
        free(w);
        close_conn(c);
        return;
    }
    /* A client that sends without reading must not make us buffer without
     * bound: pause until the backlog drains (on_write resumes). */
    if (uv_stream_get_write_queue_size(stream) > MAX_QUEUED_WRITE_BYTES) {
        c->reading = 0;
        uv_read_stop(stream);
    }
}

static void on_connection(uv_stream_t *listener, int status)
{
    if (status < 0) {
        fprintf(stderr, "echo_server: accept: %s\n", uv_strerror(status));
        return;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "echo_server: out of memory\n");
        return;
    }
    uv_pipe_init(loop, &c->pipe, 0);
    int rc = uv_accept(listener, (uv_stream_t *)&c->pipe);
    if (rc == 0)
        rc = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
    if (rc < 0) {
        fprintf(stderr, "echo_server: accept: %s\n", uv_strerror(rc));
        close_conn(c);
        return;
    }
    c->reading = 1;
}

/* Connections are the only handles with close callbacks that free memory;
 * the listener and the signal handles are static. */
static void close_any(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (uv_is_closing(handle))
        return;
    if (handle->type == UV_NAMED_PIPE && handle != (uv_handle_t *)&server)
        close_conn((struct conn *)handle);
    else
        uv_close(handle, NULL);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    (void)handle;
    (void)signum;
    uv_walk(loop, close_any, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SOCKET_PATH\n", argv[0]);
        return 2;
    }
    socket_path = argv[1];
    /* Writing to a client that went away must be an error, not a signal. */
    signal(SIGPIPE, SIG_IGN);

    loop = uv_default_loop();
    uv_pipe_init(loop, &server, 0);
    unlink(socket_path); /* a stale socket from an earlier run */
    int rc = uv_pipe_bind(&server, socket_path);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&server, 128, on_connection);
    if (rc < 0) {
        fprintf(stderr, "echo_server: listen on %s: %s\n", socket_path, uv_strerror(rc));
        return 1;
    }
    uv_signal_init(loop, &sigterm_handle);
    uv_signal_start(&sigterm_handle, on_signal, SIGTERM);
    uv_signal_init(loop, &sigint_handle);
    uv_signal_start(&sigint_handle, on_signal, SIGINT);

    uv_run(loop, UV_RUN_DEFAULT); /* returns once on_signal closed everything */

    unlink(socket_path);
    rc = uv_loop_close(loop);
    if (rc < 0) {
        fprintf(stderr, "echo_server: loop close: %s\n", uv_strerror(rc));
        return 1;
    }
    return 0;
}
