#include "config.h"

#include "net/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

#define container_of(ptr, type, member) \
  ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Output buffers larger than this are released once drained. */
#define CONN_WBUF_KEEP 65536

static struct {
  ev_prepare prepare;
  struct conn *flush_head; /* connections with queued output */
  struct conn *free_head;  /* closed connections awaiting free */
  bool init;
} cg;

static const char *const conn_state_names[CONN_NSTATES] = {
    "connecting", "handshake", "ready", "closed"};

const char *conn_state_name(enum conn_state s) {
  return (unsigned)s < CONN_NSTATES ? conn_state_names[s] : "?";
}

void conn_set_state(struct conn *c, enum conn_state s) {
  log_debug("%s: %s -> %s", c->name, conn_state_name(c->state),
            conn_state_name(s));
  c->state = s;
}

void conn_set_name(struct conn *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->name, sizeof(c->name), fmt, ap);
  va_end(ap);
}

static void conn_free(struct conn *c) {
  frame_dec_free(&c->dec);
  free(c->wbuf);
  free(c);
}

static void conn_flush_one(struct conn *c);

static void conn_prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents) {
  while (cg.flush_head != NULL) {
    struct conn *c = cg.flush_head;
    cg.flush_head = c->flush_next;
    c->in_flush = false;
    c->flush_next = NULL;
    if (c->state != CONN_CLOSED) conn_flush_one(c);
  }
  while (cg.free_head != NULL) {
    struct conn *c = cg.free_head;
    cg.free_head = c->free_next;
    conn_free(c);
  }
}

void conn_global_init(struct ev_loop *loop) {
  if (cg.init) return;
  ev_prepare_init(&cg.prepare, conn_prepare_cb);
  ev_prepare_start(loop, &cg.prepare);
  ev_unref(loop);
  cg.init = true;
}

void conn_global_shutdown(struct ev_loop *loop) {
  if (!cg.init) return;
  conn_prepare_cb(loop, &cg.prepare, 0);
  ev_ref(loop);
  ev_prepare_stop(loop, &cg.prepare);
  cg.init = false;
}

static void conn_schedule_flush(struct conn *c) {
  if (c->in_flush) return;
  c->in_flush = true;
  c->flush_next = cg.flush_head;
  cg.flush_head = c;
}

static void conn_update_backpressure(struct conn *c) {
  size_t high = c->lim.write_queue_max / 4;
  size_t q = conn_queued(c);
  if (!c->read_paused && q > high) {
    c->read_paused = true;
    ev_io_stop(c->loop, &c->rio);
    log_warn("%s: peer is slow to read (%zu bytes queued); pausing input",
             c->name, q);
  } else if (c->read_paused && q <= high / 2 && !c->closing) {
    c->read_paused = false;
    if (c->state != CONN_CONNECTING) ev_io_start(c->loop, &c->rio);
  }
}

/* Writes what the socket takes; arms the write watcher for the rest. */
static void conn_flush_one(struct conn *c) {
  while (c->wstart < c->wlen) {
    ssize_t n = write(c->fd, c->wbuf + c->wstart, c->wlen - c->wstart);
    if (n > 0) {
      c->wstart += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      ev_io_start(c->loop, &c->wio);
      conn_update_backpressure(c);
      return;
    }
    char reason[128];
    snprintf(reason, sizeof(reason), "write failed: %s",
             n < 0 ? strerror(errno) : "wrote nothing");
    conn_close(c, reason);
    return;
  }
  ev_io_stop(c->loop, &c->wio);
  c->wstart = c->wlen = 0;
  if (c->closing) {
    conn_close(c, c->close_reason);
    return;
  }
  if (c->wcap > CONN_WBUF_KEEP) {
    free(c->wbuf);
    c->wbuf = NULL;
    c->wcap = 0;
  }
  conn_update_backpressure(c);
}

static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents) {
  struct conn *c = container_of(w, struct conn, wio);
  if (c->state == CONN_CONNECTING) {
    int err = c->connect_err;
    socklen_t len = sizeof(err);
    if (err == 0 && getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
      err = errno;
    if (err != 0) {
      char reason[160];
      snprintf(reason, sizeof(reason), "connect to %s failed: %s", c->peer,
               strerror(err));
      conn_close(c, reason);
      return;
    }
    ev_io_stop(loop, &c->wio);
    conn_set_state(c, CONN_HANDSHAKE);
    ev_io_start(loop, &c->rio);
    c->last_read = ev_now(loop);
    if (c->lim.idle_timeout > 0) ev_timer_again(loop, &c->idle);
    if (c->ops->on_connect) c->ops->on_connect(c);
    if (c->state != CONN_CLOSED && conn_queued(c) > 0) conn_schedule_flush(c);
    return;
  }
  conn_flush_one(c);
}

/* One decoded frame: unpack, route, hand over.  Returns non-zero to stop
 * the decoder (the connection was closed). */
static int conn_on_frame(void *arg, const uint8_t *p, size_t len) {
  struct conn *c = arg;
  char reason[160];
  Heracron__Envelope *env = heracron__envelope__unpack(NULL, len, p);
  if (env == NULL) {
    snprintf(reason, sizeof(reason),
             "undecodable frame (%zu bytes, not a protobuf Envelope)", len);
    log_warn("%s while reading frame, %s", reason, c->name);
    conn_close(c, reason);
    return 1;
  }
  c->frames_in++;
  c->last_read = ev_now(c->loop);
  if (env->payload_case == HERACRON__ENVELOPE__PAYLOAD__NOT_SET) {
    snprintf(reason, sizeof(reason),
             "frame without a known payload (%zu bytes, %u unknown fields)",
             len, (unsigned)env->base.n_unknown_fields);
    log_warn("%s, %s", reason, c->name);
    heracron__envelope__free_unpacked(env, NULL);
    conn_close(c, reason);
    return 1;
  }
  int rc = 0;
  if (env->reply_to != 0 && rpc_deliver(c->loop, &c->rpc, c, env)) {
    /* delivered to the waiting request */
  } else if (env->reply_to != 0 &&
             env->payload_case != HERACRON__ENVELOPE__PAYLOAD_ERROR) {
    log_debug("%s: late reply to request %llu ignored", c->name,
              (unsigned long long)env->reply_to);
  } else {
    rc = c->ops->on_message(c, env);
  }
  heracron__envelope__free_unpacked(env, NULL);
  return (rc != 0 || c->state == CONN_CLOSED || c->closing) ? 1 : 0;
}

static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents) {
  struct conn *c = container_of(w, struct conn, rio);
  uint8_t buf[CONN_READ_CHUNK];
  ssize_t n = read(c->fd, buf, sizeof(buf));
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    char reason[128];
    snprintf(reason, sizeof(reason), "read failed: %s", strerror(errno));
    conn_close(c, reason);
    return;
  }
  if (n == 0) {
    if (frame_dec_pending(&c->dec) > 0) {
      char reason[128];
      snprintf(reason, sizeof(reason),
               "truncated frame: peer closed the connection after %zu bytes "
               "of a frame",
               frame_dec_pending(&c->dec));
      log_warn("%s, %s", reason, c->name);
      conn_close(c, reason);
    } else {
      conn_close(c, "peer closed the connection");
    }
    return;
  }
  int rc = frame_dec_feed(&c->dec, buf, (size_t)n, conn_on_frame, c);
  if (rc == FRAME_TOO_BIG) {
    char reason[160];
    /* "GET ", "POST", "HEAD" read as a length: someone spoke HTTP here. */
    bool http = c->frames_in == 0 && n >= 4 &&
                (memcmp(buf, "GET ", 4) == 0 || memcmp(buf, "POST", 4) == 0 ||
                 memcmp(buf, "HEAD", 4) == 0);
    snprintf(reason, sizeof(reason), "frame too large (%u bytes > maximum %u)%s",
             c->dec.bad, c->lim.max_frame,
             http ? "; the peer speaks HTTP to the worker port" : "");
    log_warn("%s while reading frame, %s", reason, c->name);
    conn_close(c, reason);
  } else if (rc == FRAME_NOMEM) {
    log_error("out of memory while reading frame, %s", c->name);
    conn_close(c, "out of memory");
  }
}

static void conn_idle_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  struct conn *c = container_of(w, struct conn, idle);
  ev_tstamp left = c->last_read + c->lim.idle_timeout - ev_now(loop);
  if (left > 0) { /* activity since: sleep for what is left */
    w->repeat = left;
    ev_timer_again(loop, w);
    return;
  }
  char reason[96];
  snprintf(reason, sizeof(reason), "no frame received for %.1f s",
           c->lim.idle_timeout);
  log_warn("%s, %s", reason, c->name);
  conn_close(c, reason);
}

static struct conn *conn_new(struct ev_loop *loop, int fd,
                             const struct conn_limits *lim,
                             const struct conn_ops *ops, void *data) {
  struct conn *c = calloc(1, sizeof(*c));
  if (c == NULL) return NULL;
  c->fd = fd;
  c->loop = loop;
  c->lim = *lim;
  c->ops = ops;
  c->data = data;
  frame_dec_init(&c->dec, lim->max_frame);
  rpc_init(&c->rpc);
  ev_io_init(&c->rio, conn_read_cb, fd, EV_READ);
  ev_io_init(&c->wio, conn_write_cb, fd, EV_WRITE);
  ev_init(&c->idle, conn_idle_cb);
  c->idle.repeat = lim->idle_timeout;
  c->last_read = ev_now(loop);
  return c;
}

static void conn_tune_socket(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
}

static void conn_format_addr(const struct sockaddr *sa, char *out,
                             size_t len) {
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
    snprintf(out, len, "%s:%u", host, port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 =
        (const struct sockaddr_in6 *)(const void *)sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
    snprintf(out, len, "[%s]:%u", host, port);
  } else {
    snprintf(out, len, "?");
  }
}

struct conn *conn_accept(struct ev_loop *loop, int fd,
                         const struct conn_limits *lim,
                         const struct conn_ops *ops, void *data) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    close(fd);
    return NULL;
  }
  conn_tune_socket(fd);
  struct conn *c = conn_new(loop, fd, lim, ops, data);
  if (c == NULL) {
    close(fd);
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t sl = sizeof(ss);
  if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
    conn_format_addr((struct sockaddr *)&ss, c->peer, sizeof(c->peer));
  else
    snprintf(c->peer, sizeof(c->peer), "?");
  conn_set_name(c, "peer %s", c->peer);
  c->state = CONN_HANDSHAKE;
  ev_io_start(loop, &c->rio);
  if (lim->idle_timeout > 0) ev_timer_again(loop, &c->idle);
  return c;
}

struct conn *conn_connect(struct ev_loop *loop, const struct sockaddr *addr,
                          socklen_t alen, const struct conn_limits *lim,
                          const struct conn_ops *ops, void *data) {
  int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  0);
  if (fd < 0) {
    log_error("cannot create socket: %s", strerror(errno));
    return NULL;
  }
  conn_tune_socket(fd);
  struct conn *c = conn_new(loop, fd, lim, ops, data);
  if (c == NULL) {
    close(fd);
    return NULL;
  }
  conn_format_addr(addr, c->peer, sizeof(c->peer));
  conn_set_name(c, "master %s", c->peer);
  c->state = CONN_CONNECTING;
  if (connect(fd, addr, alen) < 0 && errno != EINPROGRESS) {
    /* Report through on_close from the loop, like any other failure. */
    c->connect_err = errno;
    ev_io_start(loop, &c->wio); /* a dead socket is writable at once */
    return c;
  }
  ev_io_start(loop, &c->wio);
  return c;
}

int conn_send(struct conn *c, const Heracron__Envelope *env) {
  if (c->state == CONN_CLOSED) return -1;
  size_t plen = heracron__envelope__get_packed_size(env);
  if (plen > c->lim.max_frame) {
    log_error("%s: refusing to send a %zu-byte frame (maximum %u)", c->name,
              plen, c->lim.max_frame);
    return -1;
  }
  size_t need = FRAME_HEADER_SIZE + plen;
  if (conn_queued(c) + need > c->lim.write_queue_max) {
    char reason[128];
    snprintf(reason, sizeof(reason),
             "output queue full (%zu bytes queued, limit %u)", conn_queued(c),
             c->lim.write_queue_max);
    log_warn("%s, %s", reason, c->name);
    conn_close(c, reason);
    return -1;
  }
  if (c->wstart > 0 && c->wlen + need > c->wcap) { /* reclaim sent bytes */
    memmove(c->wbuf, c->wbuf + c->wstart, c->wlen - c->wstart);
    c->wlen -= c->wstart;
    c->wstart = 0;
  }
  if (c->wlen + need > c->wcap) {
    size_t ncap = c->wcap ? c->wcap : 4096;
    while (ncap < c->wlen + need) ncap *= 2;
    uint8_t *nb = realloc(c->wbuf, ncap);
    if (nb == NULL) {
      conn_close(c, "out of memory queueing output");
      return -1;
    }
    c->wbuf = nb;
    c->wcap = ncap;
  }
  frame_put_header(c->wbuf + c->wlen, (uint32_t)plen);
  heracron__envelope__pack(env, c->wbuf + c->wlen + FRAME_HEADER_SIZE);
  c->wlen += need;
  c->frames_out++;
  if (c->state != CONN_CONNECTING) conn_schedule_flush(c);
  return 0;
}

int conn_request(struct conn *c, Heracron__Envelope *env, uint32_t timeout_ms,
                 rpc_fn fn, void *arg) {
  if (c->state == CONN_CLOSED) return -1;
  env->id = ++c->next_id;
  if (rpc_add(c->loop, &c->rpc, c, env->id, timeout_ms, fn, arg) < 0)
    return -1;
  if (conn_send(c, env) < 0) return 0; /* closed: the rpc was failed */
  return 0;
}

void conn_close_after_send(struct conn *c, const char *reason) {
  if (c->state == CONN_CLOSED || c->closing) return;
  c->closing = true;
  snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
  ev_io_stop(c->loop, &c->rio);
  if (c->lim.idle_timeout <= 0) { /* bound the wait for a peer not reading */
    c->idle.repeat = 5.0;
    c->lim.idle_timeout = 5.0;
  }
  ev_timer_again(c->loop, &c->idle);
  conn_schedule_flush(c);
}

void conn_close(struct conn *c, const char *reason) {
  if (c->state == CONN_CLOSED) return;
  c->state = CONN_CLOSED;
  ev_io_stop(c->loop, &c->rio);
  ev_io_stop(c->loop, &c->wio);
  ev_timer_stop(c->loop, &c->idle);
  close(c->fd);
  c->fd = -1;
  rpc_fail_all(c->loop, &c->rpc, c);
  if (c->ops->on_close) c->ops->on_close(c, reason);
  c->free_next = cg.free_head;
  cg.free_head = c;
}
