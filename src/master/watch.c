#include "config.h"

#include "master/watch.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/node.h"
#include "master/alert.h"
#include "master/fanout.h"
#include "master/registry.h"
#include "master/run.h"
#include "net/conn.h"
#include "store/elect.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"

#define WATCH_S 0.5        /* how often the instances out are compared */
#define WATCH_MAX 4096     /* instances compared per pass */
#define WATCH_GRACE_MS 2000 /* beyond two heartbeats, for a connected one */
#define WATCH_ALERT_TICKS 4 /* overdue and deadline checks: every 2 s */
#define WATCH_TAKEOVER_GRACE_S 5.0 /* for workers to find a new master */

/* An instance out on a worker, as MariaDB has it. */
struct watch_row {
  uint64_t id;
  bool running;        /* RUNNING, else DISPATCHED */
  bool stop_requested;
  char worker[129];
};

/* An instance its owner does not list (or whose owner is away): since
 * when, and whether a stop was sent for it. */
struct watch_mark {
  uint64_t id;
  ev_tstamp missing_since; /* 0 while listed */
  uint64_t heartbeats;     /* its worker's heartbeat count then */
  bool stop_sent;
};

static struct {
  bool active;
  uint64_t epoch;
  ev_timer timer;
  bool pending, alerts_pending;
  ev_tstamp started; /* this term's start */
  unsigned ticks;
  struct watch_mark *marks; /* owned; sorted by id */
  size_t nmarks;
} wt;

static void watch_fenced(const struct store_op *op) {
  if (!wt.active || op->epoch != wt.epoch) return;
  elect_step_down("a fenced write was refused");
}

/* ---- settling one instance --------------------------------------------- */

enum watch_act { WA_ADOPT, WA_REQUEUE, WA_LOST };

struct watch_op {
  struct store_op op;
  enum watch_act act;
  struct run_finish f; /* id, worker; state and reason for WA_LOST */
  int64_t applied;
};

static const char watch_sql_adopt[] =
    "UPDATE instances SET status = 'RUNNING',"
    " started_at = COALESCE(started_at, NOW(6)) "
    "WHERE id = ? AND status = 'DISPATCHED' AND worker = ?";
static const char watch_sql_requeue[] =
    "UPDATE instances SET status = 'QUEUED', worker = '' "
    "WHERE id = ? AND status = 'DISPATCHED' AND worker = ?";

static int watch_op_work(struct db_conn *db, struct store_op *op) {
  struct watch_op *w = (struct watch_op *)op;
  if (w->act == WA_LOST) return run_finish_work(db, &w->f, &w->applied);
  struct db_param p[] = {DB_U64(w->f.id), DB_STR(w->f.worker)};
  w->applied = db_exec(db, w->act == WA_ADOPT ? watch_sql_adopt
                                              : watch_sql_requeue, p, 2);
  return w->applied < 0 ? -1 : 0;
}

static void watch_op_done(struct store_op *op) {
  struct watch_op *w = (struct watch_op *)op;
  static const char *const what[] = {"adopted: it runs on",
                                     "queued again: never started by",
                                     "LOST: gone from"};
  if (op->status == STORE_FENCED) watch_fenced(op);
  else if (op->status == STORE_OK && w->applied == 1 && w->act == WA_LOST)
    metrics_count(MC_LOST);
  if (op->status == STORE_OK && w->applied == 1)
    log_info("watch: instance %llu %s %s", (unsigned long long)w->f.id,
             what[w->act], w->f.worker);
  bool freed_capacity = w->act != WA_ADOPT;
  free(w);
  if (freed_capacity) run_kick();
}

static void watch_settle(const struct watch_row *r, enum watch_act act) {
  struct watch_op *w = calloc(1, sizeof(*w));
  if (w == NULL) return;
  w->act = act;
  w->f.id = r->id;
  snprintf(w->f.worker, sizeof(w->f.worker), "%s", r->worker);
  snprintf(w->f.state, sizeof(w->f.state), "LOST");
  snprintf(w->f.reason, sizeof(w->f.reason), "worker %s lost it", r->worker);
  w->f.exit_code = -1;
  w->f.report_ms = clock_wall_ms();
  w->f.parent = RUN_PARENT_UNKNOWN;
  w->op.work = watch_op_work;
  w->op.done = watch_op_done;
  w->op.epoch = wt.epoch;
  store_submit(&w->op);
}

/* ---- stop requests ----------------------------------------------------- */

static void watch_stop_reply(struct conn *c, void *arg,
                             const Heracron__Envelope *reply) {
  uint64_t id = (uint64_t)(uintptr_t)arg;
  if (reply && reply->payload_case == HERACRON__ENVELOPE__PAYLOAD_ERROR)
    log_warn("watch: stop of instance %llu refused: %s",
             (unsigned long long)id,
             reply->error->message ? reply->error->message : "");
}

static bool watch_send_stop(struct reg_worker *w, uint64_t id) {
  Heracron__Envelope env = HERACRON__ENVELOPE__INIT;
  Heracron__Stop st = HERACRON__STOP__INIT;
  st.instance_id = id;
  st.reason = (char *)"stopped by an operator";
  env.payload_case = HERACRON__ENVELOPE__PAYLOAD_STOP;
  env.stop = &st;
  if (conn_request(w->conn, &env, node.cfg.master.request_timeout_ms,
                   watch_stop_reply, (void *)(uintptr_t)id) < 0)
    return false;
  log_info("watch: asked %s to stop instance %llu", w->name,
           (unsigned long long)id);
  return true;
}

/* ---- the pass ---------------------------------------------------------- */

struct watch_scan_op {
  struct store_op op;
  size_t n;
  struct watch_row rows[WATCH_MAX];
};

static const char watch_sql_out[] =
    "SELECT id, status, worker, stop_requested FROM instances "
    "WHERE status IN ('DISPATCHED', 'RUNNING') AND worker <> ''"
    " ORDER BY id LIMIT 4096"; /* a fan-out parent runs on no worker */

static int watch_scan_work(struct db_conn *db, struct store_op *op) {
  struct watch_scan_op *s = (struct watch_scan_op *)op;
  struct db_rows r;
  if (db_query(db, watch_sql_out, NULL, 0, &r) < 0) return -1;
  for (int i = 0; i < r.nrows && s->n < WATCH_MAX; i++) {
    struct watch_row *w = &s->rows[s->n++];
    w->id = strtoull(db_cell(&r, i, 0), NULL, 10);
    w->running = strcmp(db_cell(&r, i, 1), "RUNNING") == 0;
    snprintf(w->worker, sizeof(w->worker), "%s", db_cell(&r, i, 2));
    w->stop_requested = db_cell(&r, i, 3)[0] == '1';
  }
  db_rows_free(&r);
  return 0;
}

static struct watch_mark *watch_mark_of(struct watch_mark *old, size_t nold,
                                        size_t *k, uint64_t id) {
  while (*k < nold && old[*k].id < id) (*k)++;
  return *k < nold && old[*k].id == id ? &old[*k] : NULL;
}

/* Compares what MariaDB says is out with what the workers say they have:
 * listed DISPATCHED ones are adopted; unlisted ones are queued again (a
 * connected worker that never started them) or LOST (a worker away longer
 * than master.worker_timeout_ms, or one that no longer has them). */
static void watch_scan_done(struct store_op *op) {
  struct watch_scan_op *s = (struct watch_scan_op *)op;
  wt.pending = false;
  if (!wt.active || op->status != STORE_OK) {
    if (op->status == STORE_FENCED) watch_fenced(op);
    free(s);
    return;
  }
  ev_tstamp now = ev_now(node.loop);
  struct watch_mark *marks = calloc(s->n ? s->n : 1, sizeof(*marks));
  if (marks == NULL) {
    free(s);
    return;
  }
  size_t k = 0, n = 0;
  double connected_limit =
      (2.0 * node.cfg.master.heartbeat_ms + WATCH_GRACE_MS) / 1000.0;
  double away_limit = node.cfg.master.worker_timeout_ms / 1000.0;
  for (size_t i = 0; i < s->n; i++) {
    const struct watch_row *r = &s->rows[i];
    if (run_in_flight(r->id)) continue; /* being sent right now */
    struct watch_mark *old = watch_mark_of(wt.marks, wt.nmarks, &k, r->id);
    struct watch_mark *m = &marks[n++];
    *m = old ? *old : (struct watch_mark){.id = r->id};
    struct reg_worker *w = registry_find(r->worker);
    bool heard = w && w->last_heartbeat > 0;
    if (heard && registry_lists(w, r->id)) {
      m->missing_since = 0;
      if (!r->running) watch_settle(r, WA_ADOPT);
      if (r->stop_requested && !m->stop_sent) m->stop_sent = watch_send_stop(w, r->id);
      continue;
    }
    if (m->missing_since == 0) {
      m->missing_since = now;
      m->heartbeats = heard ? w->heartbeats : 0;
    }
    if (heard && m->heartbeats == 0) m->heartbeats = w->heartbeats;
    double missing = now - m->missing_since;
    /* A connected worker must have said twice since that it does not have
     * it (a slow heartbeat is not a loss); an absent one gets its timeout,
     * counted from no earlier than this master's start plus a grace for
     * finding the new master after a failover. */
    if (heard && missing > connected_limit && w->heartbeats >= m->heartbeats + 2)
      watch_settle(r, r->running ? WA_LOST : WA_REQUEUE);
    else if (!w && missing > away_limit && now - wt.started > away_limit + WATCH_TAKEOVER_GRACE_S)
      watch_settle(r, WA_LOST);
  }
  free(wt.marks);
  wt.marks = marks;
  wt.nmarks = n;
  free(s);
}

/* Overdue runs and missed deadlines become alerts (master/alert.c); fan-out
 * parents whose parts all ended are ended (master/fanout.c). */
static int watch_alerts_work(struct db_conn *db, struct store_op *op) {
  return alert_watch_work(db) < 0 || fanout_settle_work(db) < 0 ? -1 : 0;
}

static void watch_alerts_done(struct store_op *op) {
  if (op->status == STORE_FENCED) watch_fenced(op);
  wt.alerts_pending = false;
  free(op);
}

static void watch_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  if (wt.active && !wt.alerts_pending && ++wt.ticks % WATCH_ALERT_TICKS == 0) {
    struct store_op *a = calloc(1, sizeof(*a));
    if (a != NULL) {
      a->work = watch_alerts_work;
      a->done = watch_alerts_done;
      a->epoch = wt.epoch;
      wt.alerts_pending = true;
      store_submit(a);
    }
  }
  if (!wt.active || wt.pending) return;
  struct watch_scan_op *s = calloc(1, sizeof(*s));
  if (s == NULL) return;
  s->op.work = watch_scan_work;
  s->op.done = watch_scan_done;
  wt.pending = true;
  store_submit(&s->op);
}

void watch_start(uint64_t epoch) {
  wt.active = true;
  wt.epoch = epoch;
  wt.pending = wt.alerts_pending = false;
  wt.started = ev_now(node.loop);
  ev_timer_init(&wt.timer, watch_cb, WATCH_S, WATCH_S);
  ev_timer_start(node.loop, &wt.timer);
}

void watch_stop(void) {
  if (!wt.active) return;
  wt.active = false;
  ev_timer_stop(node.loop, &wt.timer);
  free(wt.marks);
  wt.marks = NULL;
  wt.nmarks = 0;
}
