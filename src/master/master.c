#include "config.h"

#include "master/master.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/node.h"
#include "master/mailer.h"
#include "master/registry.h"
#include "master/run.h"
#include "master/sched.h"
#include "master/watch.h"
#include "net/auth.h"
#include "net/conn.h"
#include "net/listener.h"
#include "store/elect.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"

/* One accepted connection, before and after it authenticated. */
struct master_peer {
  struct conn *conn;
  struct reg_worker *w; /* NULL until authenticated */
  uint8_t nonce[AUTH_NONCE_SIZE];
  ev_timer auth_timer;
  struct master_peer *prev, *next;
};

static struct {
  bool active;
  uint64_t epoch;
  struct listener lis;
  ev_timer deadline; /* the lease's local validity */
  ev_timer flush;    /* registry -> MariaDB */
  bool flush_pending;
  struct master_peer *peers;
  size_t npeers;
} ms = {.lis = {.fd = -1}};

static void master_stop(const char *reason);

bool master_active(void) { return ms.active; }
uint64_t master_epoch(void) { return ms.epoch; }

/* ---- writes to MariaDB, fenced by the epoch ---------------------------- */

struct master_hello_op {
  struct store_op op;
  char name[129], address[256], http[256], peer[64], groups[1024],
      version[32];
  bool master_group;
  uint32_t cores, max_running;
  uint64_t mem_total;
};

static const char master_sql_hello[] =
    "INSERT INTO nodes (name, address, http, peer, host_groups, master_group,"
    " version, cores, max_running, mem_total, connected, epoch, connected_at,"
    " heartbeat_at, last_seen) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, NOW(6), NOW(6), NOW(6)) "
    "ON DUPLICATE KEY UPDATE address = VALUES(address), http = VALUES(http),"
    " peer = VALUES(peer), host_groups = VALUES(host_groups),"
    " master_group = VALUES(master_group), version = VALUES(version),"
    " cores = VALUES(cores), max_running = VALUES(max_running),"
    " mem_total = VALUES(mem_total), connected = 1, epoch = VALUES(epoch),"
    " connected_at = NOW(6), heartbeat_at = NOW(6), last_seen = NOW(6)";

static int master_hello_work(struct db_conn *db, struct store_op *op) {
  struct master_hello_op *h = (struct master_hello_op *)op;
  struct db_param p[] = {
      DB_STR(h->name),          DB_STR(h->address),    DB_STR(h->http),
      DB_STR(h->peer),          DB_STR(h->groups),     DB_I64(h->master_group),
      DB_STR(h->version),       DB_U64(h->cores),      DB_U64(h->max_running),
      DB_U64(h->mem_total),     DB_U64(op->epoch)};
  return db_exec(db, master_sql_hello, p, 11) < 0 ? -1 : 0;
}

/* A write of ours was refused: another node holds the lease now.  Results
 * of writes from an earlier term (epoch) of ours do not concern this one. */
static void master_fenced(const char *what, uint64_t epoch) {
  if (!ms.active || epoch != ms.epoch) return;
  log_warn("master: %s was refused by the fence: another node holds the "
           "lease", what);
  elect_step_down("a fenced write was refused");
  master_stop("fenced write refused");
}

static void master_op_done(struct store_op *op) {
  if (op->status == STORE_FENCED) master_fenced("a registry write", op->epoch);
  free(op);
}

struct master_gone_op {
  struct store_op op;
  char name[129];
};

static const char master_sql_gone[] =
    "UPDATE nodes SET connected = 0, last_seen = NOW(6) "
    "WHERE name = ? AND epoch = ?";

static int master_gone_work(struct db_conn *db, struct store_op *op) {
  struct master_gone_op *g = (struct master_gone_op *)op;
  struct db_param p[] = {DB_STR(g->name), DB_U64(op->epoch)};
  return db_exec(db, master_sql_gone, p, 2) < 0 ? -1 : 0;
}

struct master_flush_row {
  char name[129];
  uint32_t cores, running;
  uint64_t mem_total, mem_used;
  double load_avg;
  uint64_t age_us; /* heartbeat age when copied */
  char *load_json; /* owned */
};

struct master_flush_op {
  struct store_op op;
  size_t n;
  struct master_flush_row *rows; /* owned */
};

static const char master_sql_flush[] =
    "UPDATE nodes SET cores = ?, mem_total = ?, mem_used = ?, load_avg = ?,"
    " load_json = ?, running = ?, connected = 1, epoch = ?,"
    " heartbeat_at = NOW(6) - INTERVAL ? MICROSECOND, last_seen = NOW(6) "
    "WHERE name = ?";

static int master_flush_work(struct db_conn *db, struct store_op *op) {
  struct master_flush_op *f = (struct master_flush_op *)op;
  for (size_t i = 0; i < f->n; i++) {
    struct master_flush_row *r = &f->rows[i];
    struct db_param p[] = {DB_U64(r->cores),    DB_U64(r->mem_total),
                           DB_U64(r->mem_used), DB_DBL(r->load_avg),
                           DB_STR(r->load_json), DB_U64(r->running),
                           DB_U64(op->epoch),   DB_U64(r->age_us),
                           DB_STR(r->name)};
    if (db_exec(db, master_sql_flush, p, 9) < 0) return -1;
  }
  return 0;
}

static void master_flush_free(struct master_flush_op *f) {
  for (size_t i = 0; i < f->n; i++) free(f->rows[i].load_json);
  free(f->rows);
  free(f);
}

static void master_flush_done(struct store_op *op) {
  struct master_flush_op *f = (struct master_flush_op *)op;
  ms.flush_pending = false;
  if (op->status == STORE_FENCED)
    master_fenced("the registry flush", op->epoch);
  master_flush_free(f);
}

/* Formats loads as a JSON array of numbers ("[0.12,0.05]"). */
static char *master_load_json(const struct reg_worker *w) {
  size_t cap = 3 + (size_t)w->nload * 8;
  char *s = malloc(cap);
  if (s == NULL) return NULL;
  size_t off = 0;
  s[off++] = '[';
  for (int i = 0; i < w->nload; i++) {
    int n = snprintf(s + off, cap - off, "%s%.3f", i ? "," : "",
                     (double)w->load[i]);
    if (n < 0 || (size_t)n >= cap - off) break;
    off += (size_t)n;
  }
  s[off++] = ']';
  s[off] = '\0';
  return s;
}

static void master_flush_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  if (!ms.active || ms.flush_pending) return;
  size_t n = 0;
  for (struct reg_worker *w = registry_first(); w; w = w->next)
    if (w->dirty) n++;
  if (n == 0) return;
  struct master_flush_op *f = calloc(1, sizeof(*f));
  if (f == NULL || (f->rows = calloc(n, sizeof(*f->rows))) == NULL) {
    free(f);
    log_error("master: out of memory flushing the registry");
    return;
  }
  ev_tstamp now = ev_now(loop);
  for (struct reg_worker *w = registry_first(); w && f->n < n; w = w->next) {
    if (!w->dirty) continue;
    struct master_flush_row *r = &f->rows[f->n];
    r->load_json = master_load_json(w);
    if (r->load_json == NULL) break;
    snprintf(r->name, sizeof(r->name), "%s", w->name);
    r->cores = w->cores;
    r->running = w->running;
    r->mem_total = w->mem_total;
    r->mem_used = w->mem_used;
    r->load_avg = w->load_avg;
    double age = now - w->last_heartbeat;
    r->age_us = age > 0 ? (uint64_t)(age * 1e6) : 0;
    w->dirty = false;
    f->n++;
  }
  f->op.work = master_flush_work;
  f->op.done = master_flush_done;
  f->op.epoch = ms.epoch;
  ms.flush_pending = true;
  store_submit(&f->op);
}

/* ---- the protocol ------------------------------------------------------ */

static void master_peer_free(struct master_peer *p) {
  ev_timer_stop(node.loop, &p->auth_timer);
  if (p->prev) p->prev->next = p->next;
  else ms.peers = p->next;
  if (p->next) p->next->prev = p->prev;
  ms.npeers--;
  free(p);
}

static void master_send_error(struct conn *c, Heracron__Error__Code code,
                              const char *msg, uint64_t reply_to) {
  Heracron__Envelope env = HERACRON__ENVELOPE__INIT;
  Heracron__Error err = HERACRON__ERROR__INIT;
  err.code = code;
  err.message = (char *)msg;
  env.reply_to = reply_to;
  env.payload_case = HERACRON__ENVELOPE__PAYLOAD_ERROR;
  env.error = &err;
  conn_send(c, &env);
}

/* Refuses the peer: tells it why, then closes. */
static int master_refuse(struct master_peer *p, Heracron__Error__Code code,
                         const char *msg, uint64_t reply_to) {
  master_send_error(p->conn, code, msg, reply_to);
  conn_close_after_send(p->conn, msg);
  return -1;
}

static bool master_name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 128) return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
      return false;
  return true;
}

static bool master_text_ok(const char *s, size_t max) {
  if (strlen(s) > max) return false;
  for (; *s; s++)
    if ((unsigned char)*s < 0x20) return false;
  return true;
}

static int master_on_hello(struct master_peer *p, const Heracron__Envelope *env) {
  const Heracron__Hello *h = env->hello;
  char msg[256];
  if (h->protocol != FRAME_PROTOCOL_VERSION) {
    snprintf(msg, sizeof(msg), "protocol %u not supported (master speaks %u)",
             h->protocol, FRAME_PROTOCOL_VERSION);
    log_warn("master: refused %s: %s", p->conn->name, msg);
    return master_refuse(p, HERACRON__ERROR__CODE__PROTOCOL, msg, env->id);
  }
  if (!master_name_ok(h->name) || !master_text_ok(h->address, 255) ||
      !master_text_ok(h->http, 255) || !master_text_ok(h->version, 31) ||
      h->n_groups > CFG_MAX_GROUPS || h->nonce.len != AUTH_NONCE_SIZE) {
    snprintf(msg, sizeof(msg), "malformed hello");
    log_warn("master: refused %s: %s", p->conn->name, msg);
    return master_refuse(p, HERACRON__ERROR__CODE__BAD_REQUEST, msg, env->id);
  }
  char groups[1024] = "";
  size_t off = 0;
  for (size_t i = 0; i < h->n_groups; i++) {
    if (!master_name_ok(h->groups[i]) ||
        off + strlen(h->groups[i]) + 2 >= sizeof(groups)) {
      log_warn("master: refused %s: bad group name", p->conn->name);
      return master_refuse(p, HERACRON__ERROR__CODE__BAD_REQUEST, "bad group name", env->id);
    }
    off += (size_t)snprintf(groups + off, sizeof(groups) - off, "%s%s",
                            i ? "," : "", h->groups[i]);
  }
  if (!auth_check(AUTH_HELLO, node.cfg.cluster.token, p->nonce, h->nonce.data,
                  h->name, h->proof.data, h->proof.len)) {
    log_warn("master: authentication failed for worker '%s' from %s: wrong "
             "cluster token",
             h->name, p->conn->peer);
    return master_refuse(p, HERACRON__ERROR__CODE__AUTH_FAILED, "authentication failed: wrong cluster token", env->id);
  }
  struct reg_worker *old = registry_find(h->name);
  if (old != NULL) {
    snprintf(msg, sizeof(msg),
             "node name '%s' is already in use by a worker connected from %s",
             h->name, old->peer);
    log_warn("master: refused %s: %s", p->conn->peer, msg);
    return master_refuse(p, HERACRON__ERROR__CODE__NAME_IN_USE, msg, env->id);
  }

  struct reg_worker *w = registry_add(h->name);
  struct master_hello_op *op = calloc(1, sizeof(*op));
  if (w == NULL || op == NULL) {
    if (w) registry_remove(w);
    free(op);
    log_error("master: out of memory registering %s", h->name);
    return master_refuse(p, HERACRON__ERROR__CODE__INTERNAL, "out of memory", env->id);
  }
  w->conn = p->conn;
  snprintf(w->address, sizeof(w->address), "%s", h->address);
  snprintf(w->http, sizeof(w->http), "%s", h->http);
  snprintf(w->peer, sizeof(w->peer), "%s", p->conn->peer);
  snprintf(w->groups, sizeof(w->groups), "%s", groups);
  snprintf(w->version, sizeof(w->version), "%s", h->version);
  w->master_group = h->master_group;
  w->cores = h->cores;
  w->max_running = h->max_running;
  w->mem_total = h->mem_total;
  w->connected_at = ev_now(node.loop);
  p->w = w;

  uint8_t proof[AUTH_PROOF_SIZE];
  if (auth_proof(AUTH_WELCOME, node.cfg.cluster.token, p->nonce,
                 h->nonce.data, h->name, proof) < 0) {
    free(op);
    return master_refuse(p, HERACRON__ERROR__CODE__INTERNAL, "internal error", env->id);
  }
  Heracron__Envelope out = HERACRON__ENVELOPE__INIT;
  Heracron__Welcome wel = HERACRON__WELCOME__INIT;
  wel.proof.data = proof;
  wel.proof.len = sizeof(proof);
  wel.epoch = ms.epoch;
  wel.master = node.cfg.node.name;
  wel.heartbeat_ms = node.cfg.master.heartbeat_ms;
  out.reply_to = env->id;
  out.payload_case = HERACRON__ENVELOPE__PAYLOAD_WELCOME;
  out.welcome = &wel;
  ev_timer_stop(node.loop, &p->auth_timer);
  conn_set_state(p->conn, CONN_READY);
  conn_set_name(p->conn, "worker %s %s", h->name, p->conn->peer);
  p->conn->lim.idle_timeout = node.cfg.master.worker_timeout_ms / 1000.0;
  p->conn->idle.repeat = p->conn->lim.idle_timeout;
  ev_timer_again(node.loop, &p->conn->idle);
  conn_send(p->conn, &out);

  snprintf(op->name, sizeof(op->name), "%s", w->name);
  snprintf(op->address, sizeof(op->address), "%s", w->address);
  snprintf(op->http, sizeof(op->http), "%s", w->http);
  snprintf(op->peer, sizeof(op->peer), "%s", w->peer);
  snprintf(op->groups, sizeof(op->groups), "%s", w->groups);
  snprintf(op->version, sizeof(op->version), "%s", w->version);
  op->master_group = w->master_group;
  op->cores = w->cores;
  op->max_running = w->max_running;
  op->mem_total = w->mem_total;
  op->op.work = master_hello_work;
  op->op.done = master_op_done;
  op->op.epoch = ms.epoch;
  store_submit(&op->op);
  log_info("master: worker %s connected from %s (groups %s, %u cores)",
           w->name, w->peer, w->groups, w->cores);
  return 0;
}

static int master_on_heartbeat(struct master_peer *p,
                               const Heracron__Envelope *env) {
  const Heracron__Heartbeat *hb = env->heartbeat;
  struct reg_worker *w = p->w;
  w->nload = 0;
  for (size_t i = 0; i < hb->n_load && i < REG_MAX_LOAD; i++) {
    float v = hb->load[i];
    w->load[w->nload++] = v != v ? 0.0f : v < 0 ? 0.0f : v > 1 ? 1.0f : v;
  }
  w->mem_used = hb->mem_used;
  if (hb->mem_total) w->mem_total = hb->mem_total;
  if (hb->cores) w->cores = hb->cores;
  w->load_avg = hb->load_avg;
  /* Ended instances whose report is not yet acknowledged come with
   * TRIGGER_NONE: they are the worker's still, but use no capacity. */
  uint64_t *ids = hb->n_running ? malloc(hb->n_running * sizeof(*ids)) : NULL;
  w->running = 0;
  w->nids = 0;
  for (size_t i = 0; i < hb->n_running; i++) {
    if (hb->running[i]->trigger != HERACRON__TRIGGER__TRIGGER_NONE) w->running++;
    if (ids) ids[w->nids++] = hb->running[i]->instance_id;
  }
  free(w->ids);
  w->ids = ids;
  w->last_heartbeat = ev_now(node.loop);
  w->heartbeats++;
  w->dispatched = 0; /* the heartbeat's running count includes them */
  w->dirty = true;

  Heracron__Envelope out = HERACRON__ENVELOPE__INIT;
  Heracron__HeartbeatAck ack = HERACRON__HEARTBEAT_ACK__INIT;
  ack.epoch = ms.epoch;
  out.reply_to = env->id;
  out.payload_case = HERACRON__ENVELOPE__PAYLOAD_HEARTBEAT_ACK;
  out.heartbeat_ack = &ack;
  conn_send(p->conn, &out);
  run_kick();
  return 0;
}

static int master_on_message(struct conn *c, Heracron__Envelope *env) {
  struct master_peer *p = c->data;
  char msg[160];
  if (c->state == CONN_HANDSHAKE) {
    if (env->payload_case == HERACRON__ENVELOPE__PAYLOAD_HELLO)
      return master_on_hello(p, env);
    snprintf(msg, sizeof(msg), "expected hello, got payload %d before "
             "authenticating", (int)env->payload_case);
    log_warn("master: %s, %s", msg, c->name);
    return master_refuse(p, HERACRON__ERROR__CODE__PROTOCOL, msg, env->id);
  }
  switch (env->payload_case) {
  case HERACRON__ENVELOPE__PAYLOAD_HEARTBEAT:
    return master_on_heartbeat(p, env);
  case HERACRON__ENVELOPE__PAYLOAD_STATUS:
    return run_on_status(c, p->w, env);
  case HERACRON__ENVELOPE__PAYLOAD_LOG_CHUNK:
    run_on_log(p->w, env->log_chunk);
    return 0;
  case HERACRON__ENVELOPE__PAYLOAD_ERROR:
    log_warn("master: %s reports: %s", c->name,
             env->error->message ? env->error->message : "");
    return 0;
  default:
    snprintf(msg, sizeof(msg), "unexpected payload %d from a worker",
             (int)env->payload_case);
    log_warn("master: %s, %s", msg, c->name);
    return master_refuse(p, HERACRON__ERROR__CODE__UNKNOWN_PAYLOAD, msg, env->id);
  }
}

static void master_on_close(struct conn *c, const char *reason) {
  struct master_peer *p = c->data;
  if (p->w != NULL) {
    log_info("master: worker %s disconnected: %s", p->w->name, reason);
    if (ms.active) {
      struct master_gone_op *g = calloc(1, sizeof(*g));
      if (g != NULL) {
        snprintf(g->name, sizeof(g->name), "%s", p->w->name);
        g->op.work = master_gone_work;
        g->op.done = master_op_done;
        g->op.epoch = ms.epoch;
        store_submit(&g->op);
      }
    }
    registry_remove(p->w);
  } else {
    log_debug("master: %s closed before authenticating: %s", c->name, reason);
  }
  master_peer_free(p);
}

static const struct conn_ops master_conn_ops = {
    .on_message = master_on_message,
    .on_connect = NULL,
    .on_close = master_on_close,
};

static void master_auth_timeout_cb(struct ev_loop *loop, ev_timer *t,
                                   int revents) {
  struct master_peer *p =
      (struct master_peer *)(void *)((char *)t -
                                     offsetof(struct master_peer, auth_timer));
  char msg[96];
  snprintf(msg, sizeof(msg), "did not authenticate within %u ms",
           node.cfg.master.auth_timeout_ms);
  log_warn("master: %s %s", p->conn->name, msg);
  conn_close(p->conn, msg);
}

static void master_accept_cb(struct listener *l, int fd, void *arg) {
  struct master_peer *p = calloc(1, sizeof(*p));
  if (p == NULL) {
    close(fd);
    return;
  }
  struct conn_limits lim = {
      .max_frame = node.cfg.master.max_frame,
      .write_queue_max = node.cfg.master.write_queue_max,
      .idle_timeout = node.cfg.master.auth_timeout_ms / 1000.0,
  };
  p->conn = conn_accept(node.loop, fd, &lim, &master_conn_ops, p);
  if (p->conn == NULL) {
    free(p);
    return;
  }
  p->next = ms.peers;
  if (ms.peers) ms.peers->prev = p;
  ms.peers = p;
  ms.npeers++;
  ev_timer_init(&p->auth_timer, master_auth_timeout_cb,
                node.cfg.master.auth_timeout_ms / 1000.0, 0.);
  ev_timer_start(node.loop, &p->auth_timer);

  Heracron__Envelope env = HERACRON__ENVELOPE__INIT;
  Heracron__Challenge ch = HERACRON__CHALLENGE__INIT;
  if (auth_nonce(p->nonce, sizeof(p->nonce)) < 0) {
    conn_close(p->conn, "no randomness for the challenge");
    return;
  }
  ch.nonce.data = p->nonce;
  ch.nonce.len = sizeof(p->nonce);
  ch.master = node.cfg.node.name;
  ch.epoch = ms.epoch;
  ch.protocol = FRAME_PROTOCOL_VERSION;
  env.payload_case = HERACRON__ENVELOPE__PAYLOAD_CHALLENGE;
  env.challenge = &ch;
  conn_send(p->conn, &env);
}

/* ---- role changes ------------------------------------------------------ */

static void master_arm_deadline(uint64_t valid_until) {
  uint64_t now = clock_mono_ms();
  double after = valid_until > now ? (double)(valid_until - now) / 1000.0 : 0;
  ev_timer_stop(node.loop, &ms.deadline);
  ev_timer_set(&ms.deadline, after, 0.);
  ev_timer_start(node.loop, &ms.deadline);
}

static void master_deadline_cb(struct ev_loop *loop, ev_timer *t,
                               int revents) {
  struct lease_view v = elect_view();
  if (v.master && v.epoch == ms.epoch && v.valid_until > clock_mono_ms()) {
    master_arm_deadline(v.valid_until); /* renewed meanwhile */
    return;
  }
  log_warn("master: lease of epoch %llu not renewed in time; stepping down",
           (unsigned long long)ms.epoch);
  elect_step_down("lease not renewed in time");
  master_stop("lease expired");
}

static int master_start(uint64_t epoch, uint64_t valid_until) {
  char err[256];
  if (listener_open(node.loop, &ms.lis, node.cfg.master.listen,
                    master_accept_cb, NULL, err, sizeof(err)) < 0) {
    log_error("master: %s; giving up the lease", err);
    elect_step_down("cannot open the worker port");
    return -1;
  }
  ms.active = true;
  ms.epoch = epoch;
  ms.flush_pending = false;
  ev_timer_init(&ms.deadline, master_deadline_cb, 0., 0.);
  master_arm_deadline(valid_until);
  double fl = node.cfg.master.flush_ms / 1000.0;
  ev_timer_init(&ms.flush, master_flush_cb, fl, fl);
  ev_timer_start(node.loop, &ms.flush);
  run_start(epoch);
  sched_start(epoch);
  watch_start(epoch);
  metrics_set_master(epoch);
  mailer_set_epoch(epoch);
  log_info("master: serving workers on %s as master of epoch %llu",
           node.cfg.master.listen, (unsigned long long)epoch);
  return 0;
}

static void master_stop(const char *reason) {
  if (!ms.active) return;
  metrics_set_master(0);
  mailer_set_epoch(0);
  watch_stop();
  sched_stop();
  run_stop();
  ms.active = false; /* first: closing peers must not write any more */
  listener_close(node.loop, &ms.lis);
  ev_timer_stop(node.loop, &ms.deadline);
  ev_timer_stop(node.loop, &ms.flush);
  size_t n = ms.npeers;
  while (ms.peers != NULL) conn_close(ms.peers->conn, "master stepped down");
  log_warn("master: stepped down from epoch %llu (%s); closed the worker "
           "port and %zu connection(s)",
           (unsigned long long)ms.epoch, reason, n);
  ms.epoch = 0;
}

void master_on_elect(const struct lease_view *v) {
  if (node.stopping) return;
  if (v->master) {
    if (ms.active && ms.epoch == v->epoch) {
      master_arm_deadline(v->valid_until);
      return;
    }
    if (ms.active) master_stop("epoch changed");
    master_start(v->epoch, v->valid_until);
  } else if (ms.active) {
    master_stop("lease lost");
  }
}

void master_shutdown(void) {
  if (ms.active) master_stop("shutting down");
}
