#include "config.h"

#include "worker/worker.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/node.h"
#include "net/auth.h"
#include "net/conn.h"
#include "sched/backoff.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/sysinfo.h"
#include "worker/exec.h"
#include "worker/workdir.h"
#include "worker/outlog.h"

/* What a lookup of the lease row found. */
struct worker_lookup_op {
  struct store_op op;
  bool found;               /* an unexpired lease with a holder */
  char holder[129];
  char address[256];
  uint64_t epoch;
  struct sockaddr_storage addr; /* resolved address */
  socklen_t alen;
  char resolve_err[160];
};

enum worker_phase {
  WP_IDLE,       /* waiting for the retry timer */
  WP_LOOKUP,     /* reading the lease row */
  WP_CONNECTING, /* TCP connect */
  WP_HANDSHAKE,  /* challenge/hello/welcome */
  WP_READY,
  WP_STOPPED,
};

static struct {
  enum worker_phase phase;
  struct conn *conn;
  struct backoff backoff;
  ev_timer retry;     /* next connection attempt */
  ev_timer heartbeat; /* heartbeat period while ready */
  ev_timer watch;     /* re-reads the lease while ready */
  bool watch_pending;
  char master[129];   /* holder we are connected to */
  uint64_t epoch;     /* its epoch, from the lease row */
  uint8_t nonce[AUTH_NONCE_SIZE];
  uint8_t master_nonce[AUTH_NONCE_SIZE];
  struct sysinfo_cpu cpu;
  float load[SYSINFO_MAX_CORES];
  uint32_t cores;
  uint64_t mem_total;
  bool hb_inflight;
  char last_error[256]; /* suppresses repeated identical log lines */
  char refusal[320];    /* the master's last refusal, logged once */
  struct worker_report *reports; /* final states not yet acknowledged */
  uint64_t running_ids[1024];
  Heracron__Trigger running_triggers[1024];
  unsigned int seed;
} wk = {.phase = WP_IDLE};

static void worker_schedule_retry(void);

/* A final state of an instance, kept until a master acknowledges it: an
 * instance that ends while no master is reachable is reported to the next
 * one. */
struct worker_report {
  struct worker_report *next;
  Heracron__StatusReport r;
  char reason[128];
  char result[1025];
  bool inflight;
};

static void worker_send_reports(void);

static void worker_log_problem(const char *msg) {
  if (strcmp(msg, wk.last_error) == 0) {
    log_debug("worker: %s", msg);
    return;
  }
  snprintf(wk.last_error, sizeof(wk.last_error), "%s", msg);
  log_warn("worker: %s", msg);
}

/* ---- finding the master ------------------------------------------------ */

static const char worker_sql_lease[] =
    "SELECT holder, address, epoch FROM lease "
    "WHERE name = 'master' AND holder <> '' AND expires > NOW(6)";

static int worker_lookup_work(struct db_conn *db, struct store_op *op) {
  struct worker_lookup_op *l = (struct worker_lookup_op *)op;
  struct db_rows r;
  if (db_query(db, worker_sql_lease, NULL, 0, &r) < 0) return -1;
  if (r.nrows == 1) {
    l->found = true;
    snprintf(l->holder, sizeof(l->holder), "%s", db_cell(&r, 0, 0));
    snprintf(l->address, sizeof(l->address), "%s", db_cell(&r, 0, 1));
    l->epoch = strtoull(db_cell(&r, 0, 2), NULL, 10);
  }
  db_rows_free(&r);
  if (!l->found) return 0;
  /* Name resolution may block: it is done here, off the loop. */
  char host[256];
  uint16_t port;
  if (cfg_split_hostport(l->address, host, sizeof(host), &port) < 0) {
    snprintf(l->resolve_err, sizeof(l->resolve_err),
             "master address '%s' is not host:port", l->address);
    return 0;
  }
  char ps[8];
  snprintf(ps, sizeof(ps), "%u", port);
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, ps, &hints, &ai);
  if (rc != 0 || ai == NULL) {
    snprintf(l->resolve_err, sizeof(l->resolve_err),
             "cannot resolve master address %s: %s", l->address,
             gai_strerror(rc));
    return 0;
  }
  memcpy(&l->addr, ai->ai_addr, ai->ai_addrlen);
  l->alen = ai->ai_addrlen;
  freeaddrinfo(ai);
  return 0;
}

static const struct conn_ops worker_conn_ops;

static void worker_lookup_done(struct store_op *op) {
  struct worker_lookup_op *l = (struct worker_lookup_op *)op;
  if (wk.phase != WP_LOOKUP) { /* stopped meanwhile */
    free(l);
    return;
  }
  char msg[256];
  if (op->status != STORE_OK) {
    snprintf(msg, sizeof(msg), "cannot read the lease: %s", op->err);
    worker_log_problem(msg);
    free(l);
    worker_schedule_retry();
    return;
  }
  if (!l->found || l->resolve_err[0]) {
    worker_log_problem(l->found ? l->resolve_err
                                : "no master holds the lease yet; waiting");
    free(l);
    worker_schedule_retry();
    return;
  }
  snprintf(wk.master, sizeof(wk.master), "%s", l->holder);
  wk.epoch = l->epoch;
  struct conn_limits lim = {
      .max_frame = node.cfg.master.max_frame,
      .write_queue_max = node.cfg.master.write_queue_max,
      .idle_timeout = node.cfg.master.worker_timeout_ms / 1000.0,
  };
  wk.phase = WP_CONNECTING;
  wk.conn = conn_connect(node.loop, (struct sockaddr *)&l->addr, l->alen, &lim,
                         &worker_conn_ops, NULL);
  if (wk.conn == NULL) {
    wk.phase = WP_IDLE;
    worker_schedule_retry();
  } else {
    conn_set_name(wk.conn, "master %s %s", l->holder, l->address);
    log_debug("worker: connecting to master %s at %s (epoch %llu)", l->holder,
              l->address, (unsigned long long)l->epoch);
  }
  free(l);
}

static void worker_lookup(void) {
  struct worker_lookup_op *l = calloc(1, sizeof(*l));
  if (l == NULL) {
    worker_schedule_retry();
    return;
  }
  wk.phase = WP_LOOKUP;
  l->op.work = worker_lookup_work;
  l->op.done = worker_lookup_done;
  store_submit(&l->op);
}

static void worker_retry_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  if (wk.phase == WP_IDLE) worker_lookup();
}

static void worker_schedule_retry(void) {
  if (wk.phase == WP_STOPPED) return;
  wk.phase = WP_IDLE;
  uint32_t ms = backoff_next(&wk.backoff, (uint32_t)rand_r(&wk.seed));
  ev_timer_stop(node.loop, &wk.retry);
  ev_timer_set(&wk.retry, ms / 1000.0, 0.);
  ev_timer_start(node.loop, &wk.retry);
}

/* While connected, the lease is re-read now and then: if it names another
 * master (ours paused, say), we leave for the new one. */
static void worker_watch_done(struct store_op *op) {
  struct worker_lookup_op *l = (struct worker_lookup_op *)op;
  wk.watch_pending = false;
  if (wk.phase == WP_READY && op->status == STORE_OK && l->found &&
      (strcmp(l->holder, wk.master) != 0 || l->epoch != wk.epoch) &&
      wk.conn != NULL) {
    char msg[300];
    snprintf(msg, sizeof(msg), "lease now held by %s (epoch %llu)",
             l->holder, (unsigned long long)l->epoch);
    log_info("worker: leaving master %s: %s", wk.master, msg);
    conn_close(wk.conn, msg);
  }
  free(l);
}

static void worker_watch_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  if (wk.phase != WP_READY || wk.watch_pending) return;
  struct worker_lookup_op *l = calloc(1, sizeof(*l));
  if (l == NULL) return;
  wk.watch_pending = true;
  l->op.work = worker_lookup_work;
  l->op.done = worker_watch_done;
  store_submit(&l->op);
}

/* ---- heartbeats -------------------------------------------------------- */

static void worker_hb_reply(struct conn *c, void *arg,
                            const Heracron__Envelope *reply) {
  wk.hb_inflight = false;
  if (reply == NULL) {
    if (c->state != CONN_CLOSED) {
      char msg[128];
      snprintf(msg, sizeof(msg), "master did not answer a heartbeat within %u ms",
               node.cfg.master.worker_timeout_ms);
      log_warn("worker: %s", msg);
      conn_close(c, msg);
    }
    return;
  }
  if (reply->payload_case == HERACRON__ENVELOPE__PAYLOAD_ERROR) {
    log_warn("worker: master refused a heartbeat: %s",
             reply->error->message ? reply->error->message : "");
  }
}

static void worker_heartbeat_cb(struct ev_loop *loop, ev_timer *t,
                                int revents) {
  if (wk.phase != WP_READY || wk.conn == NULL || wk.hb_inflight) return;
  int n = sysinfo_cpu_sample(&wk.cpu, NULL, wk.load, SYSINFO_MAX_CORES);
  struct sysinfo_mem mem = {0};
  sysinfo_mem_read(&mem, NULL);
  Heracron__Envelope env = HERACRON__ENVELOPE__INIT;
  Heracron__Heartbeat hb = HERACRON__HEARTBEAT__INIT;
  hb.n_load = n > 0 ? (size_t)n : 0;
  hb.load = wk.load;
  hb.mem_used = mem.used;
  hb.mem_total = mem.total ? mem.total : wk.mem_total;
  hb.cores = wk.cores;
  hb.sent_ms = clock_wall_ms();
  double la = sysinfo_loadavg();
  hb.load_avg = la < 0 ? 0.0f : (float)la;
  size_t nrun = exec_running(wk.running_ids, wk.running_triggers, 1024);
  /* Ended but unacknowledged instances are listed too (no trigger), so a
   * new master knows they are ours and does not mark them lost. */
  for (struct worker_report *r = wk.reports; r && nrun < 1024; r = r->next) {
    wk.running_ids[nrun] = r->r.instance_id;
    wk.running_triggers[nrun++] = HERACRON__TRIGGER__TRIGGER_NONE;
  }
  Heracron__RunningInstance ri[1024];
  Heracron__RunningInstance *rip[1024];
  for (size_t i = 0; i < nrun; i++) {
    heracron__running_instance__init(&ri[i]);
    ri[i].instance_id = wk.running_ids[i];
    ri[i].trigger = wk.running_triggers[i];
    rip[i] = &ri[i];
  }
  hb.n_running = nrun;
  hb.running = rip;
  env.payload_case = HERACRON__ENVELOPE__PAYLOAD_HEARTBEAT;
  env.heartbeat = &hb;
  if (conn_request(wk.conn, &env, node.cfg.master.worker_timeout_ms,
                   worker_hb_reply, NULL) == 0)
    wk.hb_inflight = true;
}

/* ---- running jobs ------------------------------------------------------ */

static void worker_report_reply(struct conn *c, void *arg,
                                const Heracron__Envelope *reply) {
  struct worker_report *r = arg;
  r->inflight = false;
  if (reply == NULL ||
      reply->payload_case != HERACRON__ENVELOPE__PAYLOAD_STATUS_ACK)
    return; /* resent on the next connection */
  for (struct worker_report **pp = &wk.reports; *pp; pp = &(*pp)->next)
    if (*pp == r) {
      *pp = r->next;
      outlog_drop(r->r.instance_id); /* the master has it all */
      free(r);
      return;
    }
}

static void worker_send_reports(void) {
  if (wk.phase != WP_READY || wk.conn == NULL) return;
  for (struct worker_report *r = wk.reports; r; r = r->next) {
    if (r->inflight) continue;
    Heracron__Envelope env = HERACRON__ENVELOPE__INIT;
    env.payload_case = HERACRON__ENVELOPE__PAYLOAD_STATUS;
    env.status = &r->r;
    if (conn_request(wk.conn, &env, node.cfg.master.request_timeout_ms,
                     worker_report_reply, r) == 0)
      r->inflight = true;
  }
}

/* Sends one chunk of output to the master, if there is one now. */
static void worker_send_log(uint64_t id, uint32_t seq, const uint8_t *data,
                            size_t len) {
  if (wk.phase != WP_READY || wk.conn == NULL) return; /* no master now */
  Heracron__Envelope env = HERACRON__ENVELOPE__INIT;
  Heracron__LogChunk lc = HERACRON__LOG_CHUNK__INIT;
  lc.instance_id = id;
  lc.seq = seq;
  lc.data.data = (uint8_t *)data;
  lc.data.len = len;
  env.payload_case = HERACRON__ENVELOPE__PAYLOAD_LOG_CHUNK;
  env.log_chunk = &lc;
  conn_send(wk.conn, &env);
}

/* Output is kept until the end is acknowledged (worker/outlog.h): a master
 * that dies before writing it does not lose it. */
static void worker_on_log(uint64_t id, uint32_t seq, const uint8_t *data,
                          size_t len) {
  if (outlog_add(id, seq, data, len) < 0)
    log_warn("worker: out of memory keeping the output of instance %llu",
             (unsigned long long)id);
  worker_send_log(id, seq, data, len);
}

static void worker_on_exit(uint64_t id, const Heracron__StatusReport *r) {
  struct worker_report *w = calloc(1, sizeof(*w));
  if (w == NULL) {
    log_error("worker: out of memory recording the end of instance %llu",
              (unsigned long long)id);
    return;
  }
  w->r = *r;
  snprintf(w->reason, sizeof(w->reason), "%s", r->reason ? r->reason : "");
  w->r.reason = w->reason;
  snprintf(w->result, sizeof(w->result), "%s", r->result ? r->result : "");
  w->r.result = w->result;
  w->r.worker = node.cfg.node.name;
  w->r.report_ms = clock_wall_ms();
  w->next = wk.reports;
  wk.reports = w;
  worker_send_reports();
}

static int worker_on_execute(struct conn *c, const Heracron__Envelope *env) {
  const Heracron__Execute *x = env->execute;
  char err[256];
  Heracron__Envelope out = HERACRON__ENVELOPE__INIT;
  out.reply_to = env->id;
  int pid = node.stopping ? -1 : exec_start(x, err, sizeof(err));
  if (node.stopping) snprintf(err, sizeof(err), "worker is shutting down");
  if (pid < 0) {
    Heracron__Error e = HERACRON__ERROR__INIT;
    /* BAD_REQUEST: the master fails the instance instead of retrying */
    e.code = pid == -EXEC_PERMANENT ? HERACRON__ERROR__CODE__BAD_REQUEST
                                    : HERACRON__ERROR__CODE__INTERNAL;
    e.message = err;
    out.payload_case = HERACRON__ENVELOPE__PAYLOAD_ERROR;
    out.error = &e;
    log_warn("worker: cannot run instance %llu: %s",
             (unsigned long long)x->instance_id, err);
    return conn_send(c, &out) < 0 ? -1 : 0;
  }
  Heracron__ExecuteAck ack = HERACRON__EXECUTE_ACK__INIT;
  ack.instance_id = x->instance_id;
  ack.pid = pid;
  out.payload_case = HERACRON__ENVELOPE__PAYLOAD_EXECUTE_ACK;
  out.execute_ack = &ack;
  return conn_send(c, &out) < 0 ? -1 : 0;
}

static int worker_on_stop(struct conn *c, const Heracron__Envelope *env) {
  Heracron__Envelope out = HERACRON__ENVELOPE__INIT;
  out.reply_to = env->id;
  if (exec_stop(env->stop->instance_id,
                env->stop->reason ? env->stop->reason : "stopped") < 0) {
    Heracron__Error e = HERACRON__ERROR__INIT;
    e.code = HERACRON__ERROR__CODE__BAD_REQUEST;
    e.message = (char *)"instance is not running on this worker";
    out.payload_case = HERACRON__ENVELOPE__PAYLOAD_ERROR;
    out.error = &e;
  } else {
    Heracron__ExecuteAck ack = HERACRON__EXECUTE_ACK__INIT;
    ack.instance_id = env->stop->instance_id;
    out.payload_case = HERACRON__ENVELOPE__PAYLOAD_EXECUTE_ACK;
    out.execute_ack = &ack;
  }
  return conn_send(c, &out) < 0 ? -1 : 0;
}

/* ---- the connection ---------------------------------------------------- */

static int worker_on_welcome(struct conn *c, const Heracron__Envelope *env);

/* The master's answer to our hello: a welcome, or an error saying why
 * not. */
static void worker_hello_reply(struct conn *c, void *arg,
                               const Heracron__Envelope *reply) {
  if (reply == NULL) {
    if (c->state != CONN_CLOSED)
      conn_close(c, "master did not answer our hello in time");
    return;
  }
  if (reply->payload_case == HERACRON__ENVELOPE__PAYLOAD_WELCOME) {
    worker_on_welcome(c, reply);
    return;
  }
  if (reply->payload_case == HERACRON__ENVELOPE__PAYLOAD_ERROR) {
    const char *m = reply->error->message ? reply->error->message : "";
    char msg[300];
    snprintf(msg, sizeof(msg), "master refused this node: %s%s", m,
             reply->error->code == HERACRON__ERROR__CODE__AUTH_FAILED
                 ? " (check cluster.token)"
                 : "");
    /* Refusals are configuration problems: say so once, loudly. */
    if (strcmp(msg, wk.refusal) != 0) log_error("worker: %s", msg);
    else log_debug("worker: %s", msg);
    snprintf(wk.refusal, sizeof(wk.refusal), "%s", msg);
    conn_close(c, msg);
    return;
  }
  conn_close(c, "unexpected answer to our hello");
}

static int worker_send_hello(struct conn *c, const Heracron__Envelope *env) {
  const Heracron__Challenge *ch = env->challenge;
  if (ch->protocol != FRAME_PROTOCOL_VERSION ||
      ch->nonce.len != AUTH_NONCE_SIZE) {
    char msg[128];
    snprintf(msg, sizeof(msg), "master speaks protocol %u, we speak %u",
             ch->protocol, FRAME_PROTOCOL_VERSION);
    log_error("worker: %s", msg);
    conn_close(c, msg);
    return -1;
  }
  memcpy(wk.master_nonce, ch->nonce.data, AUTH_NONCE_SIZE);
  uint8_t proof[AUTH_PROOF_SIZE];
  if (auth_nonce(wk.nonce, sizeof(wk.nonce)) < 0 ||
      auth_proof(AUTH_HELLO, node.cfg.cluster.token, wk.master_nonce, wk.nonce,
                 node.cfg.node.name, proof) < 0) {
    conn_close(c, "cannot compute the authentication proof");
    return -1;
  }
  Heracron__Envelope out = HERACRON__ENVELOPE__INIT;
  Heracron__Hello h = HERACRON__HELLO__INIT;
  h.name = node.cfg.node.name;
  h.address = node.address;
  h.groups = node.groups;
  h.n_groups = (size_t)node.ngroups;
  h.cores = wk.cores;
  h.version = (char *)PACKAGE_VERSION;
  h.mem_total = wk.mem_total;
  h.nonce.data = wk.nonce;
  h.nonce.len = sizeof(wk.nonce);
  h.proof.data = proof;
  h.proof.len = sizeof(proof);
  h.protocol = FRAME_PROTOCOL_VERSION;
  h.max_running = node.cfg.node.max_running;
  h.http = node.cfg.http.listen;
  h.master_group = node.cfg.node.master_group;
  out.payload_case = HERACRON__ENVELOPE__PAYLOAD_HELLO;
  out.hello = &h;
  return conn_request(c, &out, node.cfg.master.auth_timeout_ms,
                      worker_hello_reply, NULL);
}

static int worker_on_welcome(struct conn *c, const Heracron__Envelope *env) {
  const Heracron__Welcome *w = env->welcome;
  if (!auth_check(AUTH_WELCOME, node.cfg.cluster.token, wk.master_nonce,
                  wk.nonce, node.cfg.node.name, w->proof.data, w->proof.len)) {
    log_error("worker: master %s could not prove the cluster token; "
              "is it another cluster's?", c->peer);
    conn_close(c, "master failed authentication");
    return -1;
  }
  conn_set_state(c, CONN_READY);
  wk.phase = WP_READY;
  wk.last_error[0] = '\0';
  wk.refusal[0] = '\0';
  backoff_reset(&wk.backoff);
  log_info("worker: connected to master %s at %s (epoch %llu)",
           w->master ? w->master : wk.master, c->peer,
           (unsigned long long)w->epoch);
  if (w->master != NULL && w->master[0])
    snprintf(wk.master, sizeof(wk.master), "%s", w->master);
  wk.epoch = w->epoch;
  double hb = node.cfg.master.heartbeat_ms / 1000.0;
  ev_timer_set(&wk.heartbeat, 0., hb);
  ev_timer_again(node.loop, &wk.heartbeat);
  worker_heartbeat_cb(node.loop, &wk.heartbeat, 0); /* first one now */
  for (struct worker_report *r = wk.reports; r; r = r->next) r->inflight = false;
  outlog_each(worker_send_log); /* this master may not have them: again */
  worker_send_reports();
  double watch = 2.0 * node.cfg.master.renew_ms / 1000.0;
  ev_timer_set(&wk.watch, watch, watch);
  ev_timer_again(node.loop, &wk.watch);
  return 0;
}

static int worker_on_message(struct conn *c, Heracron__Envelope *env) {
  switch (env->payload_case) {
  case HERACRON__ENVELOPE__PAYLOAD_CHALLENGE:
    if (c->state != CONN_HANDSHAKE) break;
    wk.phase = WP_HANDSHAKE;
    return worker_send_hello(c, env);
  case HERACRON__ENVELOPE__PAYLOAD_ERROR:
    log_warn("worker: master reports an error: %s",
             env->error->message ? env->error->message : "");
    return 0;
  case HERACRON__ENVELOPE__PAYLOAD_EXECUTE:
    if (c->state != CONN_READY) break;
    return worker_on_execute(c, env);
  case HERACRON__ENVELOPE__PAYLOAD_STOP:
    if (c->state != CONN_READY) break;
    return worker_on_stop(c, env);
  default:
    break;
  }
  char msg[96];
  snprintf(msg, sizeof(msg), "unexpected payload %d from the master",
           (int)env->payload_case);
  log_warn("worker: %s", msg);
  conn_close(c, msg);
  return -1;
}

static void worker_on_connect(struct conn *c) {
  wk.phase = WP_HANDSHAKE;
}

static void worker_on_close(struct conn *c, const char *reason) {
  bool was_ready = wk.phase == WP_READY;
  wk.conn = NULL;
  wk.hb_inflight = false;
  ev_timer_stop(node.loop, &wk.heartbeat);
  ev_timer_stop(node.loop, &wk.watch);
  if (wk.phase == WP_STOPPED) return;
  if (was_ready) {
    log_warn("worker: connection to master %s lost: %s", wk.master, reason);
    wk.last_error[0] = '\0';
  } else {
    char msg[300];
    snprintf(msg, sizeof(msg), "cannot reach master %s: %s", wk.master,
             reason);
    worker_log_problem(msg);
  }
  worker_schedule_retry();
}

static const struct conn_ops worker_conn_ops = {
    .on_message = worker_on_message,
    .on_connect = worker_on_connect,
    .on_close = worker_on_close,
};

int worker_start(void) {
  static const struct exec_sink sink = {worker_on_log, worker_on_exit};
  exec_init(&sink);
  workdir_sweep_start(node.loop);
  struct sysinfo_mem mem = {0};
  wk.cores = (uint32_t)sysinfo_cores();
  if (sysinfo_mem_read(&mem, NULL) == 0) wk.mem_total = mem.total;
  sysinfo_cpu_sample(&wk.cpu, NULL, wk.load, SYSINFO_MAX_CORES);
  wk.seed = (unsigned int)(clock_wall_ms() ^ (uint64_t)getpid());
  backoff_init(&wk.backoff, 100, 5000);
  ev_init(&wk.retry, worker_retry_cb);
  ev_init(&wk.heartbeat, worker_heartbeat_cb);
  ev_init(&wk.watch, worker_watch_cb);
  worker_lookup();
  return 0;
}

void worker_stop(void) {
  wk.phase = WP_STOPPED;
  exec_kill_all(); /* nobody would report them any more */
  workdir_sweep_stop(node.loop);
  ev_timer_stop(node.loop, &wk.retry);
  ev_timer_stop(node.loop, &wk.heartbeat);
  ev_timer_stop(node.loop, &wk.watch);
  if (wk.conn != NULL) conn_close(wk.conn, "shutting down");
  outlog_free_all();
}

bool worker_ready(void) { return wk.phase == WP_READY; }
