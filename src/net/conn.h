/* conn: one TCP peer on the libev loop, carrying frames of Envelopes.
 *
 * Read path: at most CONN_READ_CHUNK bytes per read event (so one chatty
 * peer cannot starve the others) -> frame decoder -> protobuf unpack ->
 * replies go to the pending request they answer (rpc), everything else to
 * ops->on_message.  A frame over the maximum, an undecodable frame or an
 * Envelope without a known payload closes the connection with a logged
 * reason; nothing else is affected.
 *
 * Write path: conn_send() appends the frame to the connection's queue; the
 * queue is written before the loop sleeps (an ev_prepare pass), and the
 * write watcher runs only for what the socket did not take.  Above the
 * high-water mark (a quarter of the limit) the peer is no longer read
 * until its queue drains; at the limit the connection is closed.
 *
 * Lifetime: conn_close() may be called from anywhere, also from inside the
 * connection's own callbacks: it stops the watchers, closes the socket,
 * fails pending requests, calls ops->on_close once, and frees the struct
 * in the next prepare pass. */
#ifndef HERACRON_CONN_H
#define HERACRON_CONN_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/frame.h"
#include "net/rpc.h"
#include "proto/heracron.pb-c.h"

#define CONN_READ_CHUNK 16384

enum conn_state {
  CONN_CONNECTING, /* outgoing connect in progress */
  CONN_HANDSHAKE,  /* connected, not yet authenticated */
  CONN_READY,      /* authenticated */
  CONN_CLOSED,     /* closed, waiting to be freed */
  CONN_NSTATES
};

struct conn;

struct conn_ops {
  /* A message that is not a reply to a pending request.  env is freed by
   * the connection after the call.  Return 0, or -1 after closing c. */
  int (*on_message)(struct conn *c, Heracron__Envelope *env);
  /* An outgoing connection is established (may be NULL). */
  void (*on_connect)(struct conn *c);
  /* c is closed (reason is human-readable); drop every reference to it.
   * Called exactly once. */
  void (*on_close)(struct conn *c, const char *reason);
};

struct conn_limits {
  uint32_t max_frame;       /* bytes of payload, both directions */
  uint32_t write_queue_max; /* bytes queued before the peer is dropped */
  double idle_timeout;      /* s without a received frame; 0 = none */
};

struct conn {
  int fd;
  enum conn_state state;
  struct ev_loop *loop;
  ev_io rio, wio;
  ev_timer idle;
  ev_tstamp last_read;        /* ev_now() of the last frame received */
  struct conn_limits lim;
  struct frame_dec dec;
  uint8_t *wbuf;              /* queued output: [wstart, wlen) is unsent */
  size_t wstart, wlen, wcap;
  bool read_paused;           /* backpressure: peer's queue too long */
  bool in_flush;              /* on the flush list */
  struct conn *flush_next;
  struct conn *free_next;
  uint64_t next_id;           /* last request id used */
  struct rpc_table rpc;       /* requests awaiting replies */
  const struct conn_ops *ops;
  void *data;                 /* the owner's, untouched by conn */
  char peer[64];              /* "ip:port" of the remote end */
  char name[192];             /* log context, e.g. "worker n1 10.0.0.7:5123" */
  uint64_t frames_in, frames_out;
  int connect_err;            /* errno of a connect that failed at once */
  bool closing;               /* close once the output queue is written */
  char close_reason[160];
};

/* Sets up the loop-wide prepare watcher.  Call once per loop. */
void conn_global_init(struct ev_loop *loop);
/* Frees what is pending and stops the prepare watcher. */
void conn_global_shutdown(struct ev_loop *loop);

/* Wraps an accepted, connected socket (made non-blocking here).  Takes
 * ownership of fd (closed on failure too).  Returns NULL on failure. */
struct conn *conn_accept(struct ev_loop *loop, int fd,
                         const struct conn_limits *lim,
                         const struct conn_ops *ops, void *data);

/* Starts a non-blocking connect to addr.  ops->on_connect or on_close
 * follows.  Returns NULL (with reason logged) if the socket cannot even
 * be created. */
struct conn *conn_connect(struct ev_loop *loop, const struct sockaddr *addr,
                          socklen_t alen, const struct conn_limits *lim,
                          const struct conn_ops *ops, void *data);

/* Queues env.  Returns 0, or -1 if c is closed or this send overflowed
 * the queue (c is then closed). */
int conn_send(struct conn *c, const Heracron__Envelope *env);

/* Sends env as a request (assigns env->id) and calls fn with the reply,
 * or with NULL on timeout or close.  Returns 0 or -1 (fn not called). */
int conn_request(struct conn *c, Heracron__Envelope *env, uint32_t timeout_ms,
                 rpc_fn fn, void *arg);

/* Closes c; see the lifetime note above.  reason is logged by the caller
 * (this only passes it to on_close). */
void conn_close(struct conn *c, const char *reason);

/* Stops reading from c and closes it once its queued output (e.g. an
 * Error telling the peer why) has been written, or when the idle timeout
 * strikes first. */
void conn_close_after_send(struct conn *c, const char *reason);

void conn_set_state(struct conn *c, enum conn_state s);
const char *conn_state_name(enum conn_state s);

/* Sets the log context shown in messages about c. */
void conn_set_name(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Bytes waiting to be written. */
static inline size_t conn_queued(const struct conn *c) {
  return c->wlen - c->wstart;
}

#endif
