#include "config.h"

#include "master/run.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/node.h"
#include "master/alert.h"
#include "master/batch.h"
#include "master/fanout.h"
#include "master/registry.h"
#include "master/sched.h"
#include "master/script.h"
#include "net/conn.h"
#include "sched/select.h"
#include "store/elect.h"
#include "store/store.h"
#include "util/log.h"
#include "util/metrics.h"

#define RUN_POLL_S 0.2      /* how often the queue is read from MariaDB */
#define RUN_LOG_FLUSH_S 0.05 /* log chunks are written in batches */
#define RUN_LOG_BATCH (256u << 10)
#define RUN_ITEMS_MAX 4096   /* read ahead of dispatch at most this many */
#define RUN_BUCKETS 8192     /* of the index by id: a power of 2 */

enum run_state { RS_QUEUED, RS_DISPATCHING, RS_SENT };

/* The three waiting lines, taken from in turn so none starves the others. */
enum { RUN_Q_SCHEDULE, RUN_Q_MANUAL, RUN_Q_DEBUG, RUN_NQ };
_Static_assert(RUN_Q_SCHEDULE == 0 && RUN_Q_MANUAL == 1 && RUN_Q_DEBUG == 2,
               "instances.queue (sql/007_queue.sql) numbers the queues so");

/* An instance the master is getting onto a worker. */
struct run_item {
  struct run_item *next;
  struct run_item *hnext; /* in its bucket of rn.by_id */
  uint64_t id;
  uint32_t job_id;
  int64_t action_id;
  uint32_t attempt, timeout_s;
  char trigger[16], group[65], type[33], job_name[129], bizdate[9];
  char *script; /* owned; NULL if it could not be expanded */
  double due;   /* wall time it was queued or due, for the latency metric */
  char fanout[16];  /* the job's: none, broadcast, shards */
  uint32_t shards;
  uint64_t parent;  /* a fan-out part: its parent instance */
  uint32_t shard_index, shard_count;
  char pin[129];    /* a broadcast part: the one worker it runs on */
  char task_name[65];   /* a map job's part: root, a map name, reduce */
  char *task_input;     /* owned: its item or the results, or NULL */
  bool runner;          /* a map sub-task for a runner (job's map_runner) */
  char error[256]; /* why not */
  enum run_state state;
  int queue; /* RUN_Q_* */
  bool waiting_logged;
  char worker[129];
};

static struct {
  bool active;
  uint64_t epoch;
  ev_timer poll, log_flush;
  bool poll_pending;
  bool poll_again; /* asked for while one was running */
  struct run_item *q[RUN_NQ]; /* FIFO each */
  struct run_item *tail[RUN_NQ];
  struct run_item *by_id[RUN_BUCKETS]; /* the same items, by id */
  size_t nitems;
  ev_prepare dispatch;   /* a dispatch pass before the loop waits */
  struct {
    struct run_disp *v; /* owned */
    size_t n, cap;
  } disp;                /* dispatched by the pass, to be marked */
  struct run_logs *logs; /* chunks waiting to be written */
  size_t cursor;         /* round robin among equal workers */
} rn;

static const struct {
  const char *name;
  Heracron__Trigger t;
} run_triggers[] = {{"SCHEDULE", HERACRON__TRIGGER__SCHEDULE},
                    {"MANUAL", HERACRON__TRIGGER__MANUAL},
                    {"RECOVERY", HERACRON__TRIGGER__RECOVERY},
                    {"SUPER_RECOVERY", HERACRON__TRIGGER__SUPER_RECOVERY},
                    {"RERUN", HERACRON__TRIGGER__RERUN},
                    {"DEBUG", HERACRON__TRIGGER__DEBUG}};

static Heracron__Trigger run_trigger(const char *s) {
  for (size_t i = 0; i < sizeof(run_triggers) / sizeof(run_triggers[0]); i++)
    if (strcmp(s, run_triggers[i].name) == 0) return run_triggers[i].t;
  return HERACRON__TRIGGER__MANUAL;
}

static void run_dispatch(void);
static void run_logs_flush(void);
static void run_mark_done(struct store_op *op);
static void run_poll_cb(struct ev_loop *loop, ev_timer *t, int revents);

static struct run_item *run_find(uint64_t id) {
  for (struct run_item *it = rn.by_id[id & (RUN_BUCKETS - 1)]; it; it = it->hnext)
    if (it->id == id) return it;
  return NULL;
}

bool run_in_flight(uint64_t id) { return run_find(id) != NULL; }

static void run_append(struct run_item *it) {
  it->next = NULL;
  if (rn.tail[it->queue]) rn.tail[it->queue]->next = it;
  else rn.q[it->queue] = it;
  rn.tail[it->queue] = it;
  struct run_item **b = &rn.by_id[it->id & (RUN_BUCKETS - 1)];
  it->hnext = *b;
  *b = it;
  rn.nitems++;
}

static void run_remove(struct run_item *it) {
  struct run_item *prev = NULL;
  for (struct run_item **pp = &rn.q[it->queue]; *pp; prev = *pp, pp = &(*pp)->next)
    if (*pp == it) {
      *pp = it->next;
      if (rn.tail[it->queue] == it) rn.tail[it->queue] = prev;
      rn.nitems--;
      break;
    }
  for (struct run_item **pp = &rn.by_id[it->id & (RUN_BUCKETS - 1)]; *pp;
       pp = &(*pp)->hnext)
    if (*pp == it) {
      *pp = it->hnext;
      break;
    }
  free(it->script);
  free(it->task_input);
  free(it);
}

/* A fenced write refused: another master took over. */
void run_on_fenced(const struct store_op *op) {
  if (!rn.active || op->epoch != rn.epoch) return;
  log_warn("run: a write was refused by the fence; stepping down");
  elect_step_down("a fenced write was refused");
}

/* ---- reading the queue ------------------------------------------------- */

#define RUN_POLL_MAX (3 * 256)

struct run_poll_op {
  struct store_op op;
  uint64_t after[RUN_NQ]; /* read ids above these (0: from the start) */
  uint64_t *known;        /* owned, sorted: ids held already (skipped) */
  size_t nknown;
  int read[RUN_NQ];       /* rows read per queue, known or not */
  int n;
  struct run_item *found[RUN_POLL_MAX];
};

#define RUN_SQL_QUEUE(queue)                                                  \
  "(SELECT i.id, COALESCE(i.job_id, 0), COALESCE(i.action_id, 0),"           \
  " i.trigger_kind, i.attempt, i.host_group, COALESCE(i.script, j.script),"   \
  " COALESCE(j.type, 'shell'), COALESCE(j.timeout_s, 0), COALESCE(j.name, ''),"\
  " COALESCE(i.bizdate, DATE_FORMAT(COALESCE(a.fire_at, i.queued_at),"        \
  " '%Y%m%d')), j.variables, j.folder, i.bizdate,"                            \
  " UNIX_TIMESTAMP(GREATEST(i.queued_at, COALESCE(a.fire_at, i.queued_at))),"\
  " COALESCE(j.fanout, 'none'), COALESCE(j.shards, 0),"                       \
  " COALESCE(i.parent_id, 0), COALESCE(i.shard_index, 0),"                    \
  " COALESCE(i.shard_count, 0), COALESCE(i.pin_worker, ''),"                  \
  " COALESCE(i.task_name, ''), i.task_input, COALESCE(j.map_runner, 0) "     \
  "FROM instances i LEFT JOIN jobs j ON j.id = i.job_id"                      \
  " LEFT JOIN actions a ON a.id = i.action_id "                               \
  "WHERE i.status = 'QUEUED' AND i.queued_at <= NOW(6)"                       \
  " AND i.queue = " queue " AND i.id > ? ORDER BY i.id LIMIT 256)"

/* Each queue read separately, so a flood in one does not hide the rest;
 * queue is 0 for SCHEDULE, 2 for DEBUG, 1 for the other triggers
 * (sql/007_queue.sql), as RUN_Q_*. */
static const char run_sql_queued[] =
    RUN_SQL_QUEUE("0") " UNION ALL " RUN_SQL_QUEUE("1") " UNION ALL "
    RUN_SQL_QUEUE("2");

static const char run_sql_folders[] =
    "SELECT path, variables FROM folders WHERE variables IS NOT NULL";

/* Expands its script in place (variables, date macros); on a bad macro
 * the script is dropped and the reason kept, to fail the instance. */
static void run_render(struct run_item *it, const struct db_rows *r, int i,
                       const struct db_rows *fr) {
  struct script_folder *f = calloc(fr->nrows ? (size_t)fr->nrows : 1, sizeof(*f));
  if (f == NULL) return;
  for (int k = 0; k < fr->nrows; k++)
    f[k] = (struct script_folder){db_cell(fr, k, 0), db_cell(fr, k, 1)};
  struct civil anchor;
  script_anchor(it->action_id, db_cell(r, i, 13), &anchor);
  char *out = script_render(it->script, db_cell(r, i, 11), db_cell(r, i, 12),
                            f, (size_t)fr->nrows, &anchor, it->error,
                            sizeof(it->error));
  free(f);
  free(it->script);
  it->script = out;
}

static int run_queue_of(const char *trigger) {
  return strcmp(trigger, "SCHEDULE") == 0 ? RUN_Q_SCHEDULE
         : strcmp(trigger, "DEBUG") == 0  ? RUN_Q_DEBUG
                                          : RUN_Q_MANUAL;
}

static int run_id_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int run_poll_work(struct db_conn *db, struct store_op *op) {
  struct run_poll_op *p = (struct run_poll_op *)op;
  struct db_rows r, fr = {0};
  struct db_param a[] = {DB_U64(p->after[RUN_Q_SCHEDULE]),
                         DB_U64(p->after[RUN_Q_MANUAL]),
                         DB_U64(p->after[RUN_Q_DEBUG])};
  if (db_query(db, run_sql_queued, a, 3, &r) < 0) return -1;
  if (r.nrows > 0 && db_query(db, run_sql_folders, NULL, 0, &fr) < 0) {
    db_rows_free(&r);
    return -1;
  }
  for (int i = 0; i < r.nrows && p->n < RUN_POLL_MAX; i++) {
    uint64_t id = strtoull(db_cell(&r, i, 0), NULL, 10);
    p->read[run_queue_of(db_cell(&r, i, 3))]++;
    if (p->nknown > 0 &&
        bsearch(&id, p->known, p->nknown, sizeof(*p->known), run_id_cmp))
      continue; /* held already: not read, rendered and freed again */
    struct run_item *it = calloc(1, sizeof(*it));
    if (it == NULL) break;
    it->id = id;
    it->job_id = (uint32_t)strtoul(db_cell(&r, i, 1), NULL, 10);
    it->action_id = strtoll(db_cell(&r, i, 2), NULL, 10);
    snprintf(it->trigger, sizeof(it->trigger), "%s", db_cell(&r, i, 3));
    it->queue = run_queue_of(it->trigger);
    it->attempt = (uint32_t)strtoul(db_cell(&r, i, 4), NULL, 10);
    snprintf(it->group, sizeof(it->group), "%s", db_cell(&r, i, 5));
    it->script = strdup(db_cell(&r, i, 6) ? db_cell(&r, i, 6) : "");
    snprintf(it->type, sizeof(it->type), "%s", db_cell(&r, i, 7));
    it->timeout_s = (uint32_t)strtoul(db_cell(&r, i, 8), NULL, 10);
    snprintf(it->job_name, sizeof(it->job_name), "%s", db_cell(&r, i, 9));
    snprintf(it->bizdate, sizeof(it->bizdate), "%s",
             db_cell(&r, i, 10) ? db_cell(&r, i, 10) : "");
    it->due = db_cell(&r, i, 14) ? strtod(db_cell(&r, i, 14), NULL) : 0;
    snprintf(it->fanout, sizeof(it->fanout), "%s", db_cell(&r, i, 15));
    it->shards = (uint32_t)strtoul(db_cell(&r, i, 16), NULL, 10);
    it->parent = strtoull(db_cell(&r, i, 17), NULL, 10);
    it->shard_index = (uint32_t)strtoul(db_cell(&r, i, 18), NULL, 10);
    it->shard_count = (uint32_t)strtoul(db_cell(&r, i, 19), NULL, 10);
    snprintf(it->pin, sizeof(it->pin), "%s", db_cell(&r, i, 20));
    snprintf(it->task_name, sizeof(it->task_name), "%s", db_cell(&r, i, 21));
    if (db_cell(&r, i, 22)) it->task_input = strdup(db_cell(&r, i, 22));
    it->runner = strcmp(db_cell(&r, i, 23), "1") == 0;
    if (it->script) run_render(it, &r, i, &fr);
    p->found[p->n++] = it;
  }
  db_rows_free(&r);
  db_rows_free(&fr);
  return 0;
}

/* An instance whose script cannot be expanded, or that a worker cannot
 * run for a reason that would not go away, fails without running. */
static const char run_sql_bad_script[] =
    "UPDATE instances SET status = 'FAILED', reason = ?, ended_at = NOW(6) "
    "WHERE id = ? AND status IN ('QUEUED', 'DISPATCHED')";
static const char run_sql_bad_action[] =
    "UPDATE actions a JOIN instances i ON i.action_id = a.id"
    " SET a.status = 'FAILED', a.instance_id = i.id WHERE i.id = ?";

struct run_fail_op {
  struct store_op op;
  uint64_t id;
  char reason[256];
};

static int run_fail_work(struct db_conn *db, struct store_op *op) {
  struct run_fail_op *f = (struct run_fail_op *)op;
  struct db_param p[] = {DB_STR(f->reason), DB_U64(f->id)};
  struct db_param a[] = {DB_U64(f->id)};
  int64_t n = db_exec(db, run_sql_bad_script, p, 2);
  if (n < 0 || db_exec(db, run_sql_bad_action, a, 1) < 0) return -1;
  return n == 1 && (alert_failure_work(db, f->id) < 0 ||
                    fanout_part_ended_work(db, f->id) < 0)
             ? -1
             : 0;
}

static void run_fail(struct run_item *it) {
  log_warn("run: instance %llu fails without running: %s",
           (unsigned long long)it->id, it->error);
  struct run_fail_op *f = calloc(1, sizeof(*f));
  if (f == NULL) return;
  f->id = it->id;
  snprintf(f->reason, sizeof(f->reason), "%s", it->error);
  f->op.work = run_fail_work;
  f->op.done = run_mark_done;
  f->op.epoch = rn.epoch;
  store_submit(&f->op);
}

static void run_poll_done(struct store_op *op) {
  struct run_poll_op *p = (struct run_poll_op *)op;
  rn.poll_pending = false;
  /* A full page means more are waiting: read on at once. */
  int fresh = 0;
  for (int i = 0; i < p->n; i++) {
    struct run_item *it = p->found[i];
    if (!rn.active || op->status != STORE_OK || run_find(it->id) ||
        it->script == NULL) {
      if (rn.active && op->status == STORE_OK && it->error[0] &&
          !run_find(it->id))
        run_fail(it);
      free(it->script);
      free(it->task_input);
      free(it);
      continue;
    }
    fresh++;
    run_append(it);
  }
  bool again = rn.poll_again && op->status == STORE_OK;
  for (int q = 0; q < RUN_NQ; q++)
    if (p->read[q] >= RUN_POLL_MAX / RUN_NQ && fresh > 0 &&
        rn.nitems < RUN_ITEMS_MAX)
      again = op->status == STORE_OK;
  rn.poll_again = false;
  free(p->known);
  free(p);
  run_dispatch();
  if (again) run_poll_now();
}

void run_poll_now(void) {
  if (rn.poll_pending) rn.poll_again = true;
  else run_poll_cb(node.loop, &rn.poll, 0);
}

/* The tick reads each queue from its start (instances put back in the
 * queue have lower ids); a read asked for because a page was full goes on
 * after the ids already held. */
static void run_poll_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  if (!rn.active || rn.poll_pending) return;
  struct run_poll_op *p = calloc(1, sizeof(*p));
  if (p == NULL) return;
  p->known = rn.nitems ? malloc(rn.nitems * sizeof(*p->known)) : NULL;
  for (int q = 0; q < RUN_NQ; q++)
    for (struct run_item *it = rn.q[q]; it; it = it->next) {
      if (revents == 0 && it->id > p->after[q]) p->after[q] = it->id;
      if (p->known && p->nknown < rn.nitems) p->known[p->nknown++] = it->id;
    }
  if (p->nknown > 1) /* qsort wants a real array, even for none */
    qsort(p->known, p->nknown, sizeof(*p->known), run_id_cmp);
  p->op.work = run_poll_work;
  p->op.done = run_poll_done;
  rn.poll_pending = true;
  store_submit(&p->op);
}

/* ---- dispatch ---------------------------------------------------------- */

/* The worker to run an instance of group, or NULL (with why logged once
 * per queue pass by the caller). */
static struct reg_worker *run_pick(const char *group, enum select_why *why) {
  static struct select_worker *views;
  static struct reg_worker **regs;
  static size_t cap;
  size_t n = registry_count();
  if (n > cap) {
    struct select_worker *nv = realloc(views, n * sizeof(*views));
    struct reg_worker **nr = nv ? realloc(regs, n * sizeof(*regs)) : NULL;
    if (nv) views = nv;
    if (nr == NULL) {
      *why = SELECT_NO_GROUP;
      return NULL;
    }
    regs = nr;
    cap = n;
  }
  ev_tstamp now = ev_now(node.loop);
  size_t i = 0;
  for (struct reg_worker *w = registry_first(); w && i < n; w = w->next, i++) {
    double cpu = 0;
    for (int k = 0; k < w->nload; k++) cpu += w->load[k];
    views[i] = (struct select_worker){
        .groups = w->groups,
        .age_ms = w->last_heartbeat == 0
                      ? UINT64_MAX
                      : (uint64_t)((now - w->last_heartbeat) * 1000.0),
        /* A heartbeat misses what was sent but had not started yet, so
         * what this master knows it sent counts too. */
        .running = w->running + w->dispatched > w->outstanding
                       ? w->running + w->dispatched
                       : w->outstanding,
        .sent = 0,
        .max_running = w->max_running,
        .cpu = w->nload ? cpu / w->nload : 0,
        .mem = w->mem_total ? (double)w->mem_used / (double)w->mem_total : 0};
    regs[i] = w;
  }
  struct select_limits lim = {
      .fresh_ms = 3u * node.cfg.master.heartbeat_ms,
      .max_cpu = node.cfg.master.max_cpu_pct / 100.0,
      .max_mem = node.cfg.master.max_mem_pct / 100.0};
  int k = select_worker(views, i, group, &lim, &rn.cursor, why);
  return k < 0 ? NULL : regs[k];
}

struct run_mark_op {
  struct store_op op;
  uint64_t id;
  char worker[129];
};

static const char run_sql_refused[] =
    "UPDATE instances SET status = 'QUEUED', worker = '' "
    "WHERE id = ? AND status = 'DISPATCHED' AND worker = ?";

static int run_mark_refused_work(struct db_conn *db, struct store_op *op) {
  struct run_mark_op *m = (struct run_mark_op *)op;
  struct db_param p[] = {DB_U64(m->id), DB_STR(m->worker)};
  return db_exec(db, run_sql_refused, p, 2) < 0 ? -1 : 0;
}

static void run_mark_done(struct store_op *op) {
  if (op->status == STORE_FENCED) run_on_fenced(op);
  free(op);
}

static void run_submit_mark(uint64_t id, const char *worker, store_work_fn fn,
                            store_done_fn done) {
  struct run_mark_op *m = calloc(1, sizeof(*m));
  if (m == NULL) return;
  m->id = id;
  snprintf(m->worker, sizeof(m->worker), "%s", worker);
  m->op.work = fn;
  m->op.done = done ? done : run_mark_done;
  m->op.epoch = rn.epoch;
  store_submit(&m->op);
}

/* An instance sent to worker has ended or was not taken: its slot is
 * free now, not at the worker's next heartbeat. */
static void run_slot_free(const char *worker) {
  struct reg_worker *w = registry_find(worker);
  if (w == NULL) return;
  if (w->outstanding > 0) w->outstanding--;
  if (w->dispatched > 0) w->dispatched--;
  else if (w->running > 0) w->running--;
}

static void run_exec_reply(struct conn *c, void *arg,
                           const Heracron__Envelope *reply) {
  uint64_t id = (uint64_t)(uintptr_t)arg;
  struct run_item *it = run_find(id);
  if (reply != NULL &&
      reply->payload_case == HERACRON__ENVELOPE__PAYLOAD_EXECUTE_ACK) {
    if (rn.active) batch_running(id);
    metrics_count(MC_STARTED);
    if (it && it->due > 0) metrics_observe(MH_DISPATCH, ev_time() - it->due);
    if (it) run_remove(it); /* the worker owns it now */
    return;
  }
  if (it == NULL) return;
  if (reply == NULL) {
    /* No answer: the worker may have started it.  It stays DISPATCHED;
     * the watch adopts it if the worker's heartbeats list it, and queues
     * it again if they do not (watch.c). */
    log_warn("run: worker %s did not answer for instance %llu",
             it->worker, (unsigned long long)id);
    run_slot_free(it->worker);
    run_remove(it);
    return;
  }
  if (reply->payload_case == HERACRON__ENVELOPE__PAYLOAD_ERROR &&
      reply->error->code == HERACRON__ERROR__CODE__BAD_REQUEST) {
    snprintf(it->error, sizeof(it->error), "worker %s: %s", it->worker,
             reply->error->message ? reply->error->message : "refused");
    if (rn.active) run_fail(it);
    run_slot_free(it->worker);
    run_remove(it);
    return;
  }
  /* Refused: it did not start, so it goes back in the queue. */
  log_warn("run: worker %s did not take instance %llu: %s", it->worker,
           (unsigned long long)id,
           reply->payload_case == HERACRON__ENVELOPE__PAYLOAD_ERROR
               ? reply->error->message
               : "unexpected answer");
  if (rn.active) run_submit_mark(id, it->worker, run_mark_refused_work, NULL);
  run_slot_free(it->worker);
  run_remove(it);
}

static void run_send(struct run_item *it) {
  struct reg_worker *w = registry_find(it->worker);
  if (w == NULL || w->conn == NULL) { /* gone meanwhile */
    run_submit_mark(it->id, it->worker, run_mark_refused_work, NULL);
    run_remove(it);
    return;
  }
  Heracron__Envelope env = HERACRON__ENVELOPE__INIT;
  Heracron__Execute x = HERACRON__EXECUTE__INIT;
  x.instance_id = it->id;
  x.job_id = it->job_id;
  x.action_id = it->action_id;
  x.trigger = run_trigger(it->trigger);
  x.type = it->type;
  x.script = it->script;
  x.timeout_s = it->timeout_s;
  x.bizdate = it->bizdate;
  x.attempt = it->attempt;
  x.job_name = it->job_name;
  x.shard_index = it->shard_index;
  x.shard_count = it->shard_count;
  x.task_name = it->task_name;
  x.parent_id = it->parent;
  x.runner = it->runner;
  x.task_input.data = (uint8_t *)it->task_input;
  x.task_input.len = it->task_input ? strlen(it->task_input) : 0;
  env.payload_case = HERACRON__ENVELOPE__PAYLOAD_EXECUTE;
  env.execute = &x;
  it->state = RS_SENT;
  if (conn_request(w->conn, &env, node.cfg.master.request_timeout_ms,
                   run_exec_reply, (void *)(uintptr_t)it->id) < 0) {
    /* Not sent at all: safe to queue again. */
    run_submit_mark(it->id, it->worker, run_mark_refused_work, NULL);
    run_slot_free(it->worker);
    run_remove(it);
  }
}

/* The instances a dispatch pass put on workers, marked DISPATCHED by one
 * store operation, then sent: per worker an UPDATE ... id IN (...), and
 * when fewer rows changed than ids (one canceled meanwhile, or this is a
 * retry after a lost commit) a SELECT says which are now its. */
struct run_disp {
  uint64_t id;
  char worker[129];
  bool changed;
};

struct run_dispatch_op {
  struct store_op op;
  size_t n;
  struct run_disp *v; /* owned, sorted by worker */
};

static const char run_sql_dispatch_in[] =
    "UPDATE instances SET status = 'DISPATCHED', worker = ?, epoch = ? "
    "WHERE status = 'QUEUED' AND id IN ";
static const char run_sql_dispatched_in[] =
    "SELECT id FROM instances WHERE status = 'DISPATCHED' AND worker = ?"
    " AND epoch = ? AND id IN ";

/* Marks v[0..k), all for one worker (k <= DB_IN_MAX). */
static int run_dispatch_some(struct db_conn *db, uint64_t epoch,
                             struct run_disp *v, size_t k) {
  static char *upd[4], *sel[4]; /* store thread only */
  size_t cls;
  const char *sql = db_sql_in(run_sql_dispatch_in, k, &cls, upd);
  struct db_param p[2 + DB_IN_MAX];
  p[0] = DB_STR(v[0].worker);
  p[1] = DB_U64(epoch);
  for (size_t c = 0; c < cls; c++) p[2 + c] = DB_U64(v[c < k ? c : k - 1].id);
  int64_t changed = sql ? db_exec(db, sql, p, 2 + (int)cls) : -1;
  if (changed < 0) return -1;
  if ((size_t)changed == k) {
    for (size_t c = 0; c < k; c++) v[c].changed = true;
    return 0;
  }
  struct db_rows r;
  if ((sql = db_sql_in(run_sql_dispatched_in, k, &cls, sel)) == NULL ||
      db_query(db, sql, p, 2 + (int)cls, &r) < 0)
    return -1;
  for (int i = 0; i < r.nrows; i++) {
    uint64_t id = strtoull(db_cell(&r, i, 0), NULL, 10);
    for (size_t c = 0; c < k; c++)
      if (v[c].id == id) v[c].changed = true;
  }
  db_rows_free(&r);
  return 0;
}

static int run_dispatch_work(struct db_conn *db, struct store_op *op) {
  struct run_dispatch_op *d = (struct run_dispatch_op *)op;
  for (size_t i = 0; i < d->n;) {
    size_t j = i;
    while (j < d->n && j - i < DB_IN_MAX && !strcmp(d->v[j].worker, d->v[i].worker))
      d->v[j++].changed = false;
    if (run_dispatch_some(db, op->epoch, d->v + i, j - i) < 0) return -1;
    i = j;
  }
  return 0;
}

static void run_dispatch_done(struct store_op *op) {
  struct run_dispatch_op *d = (struct run_dispatch_op *)op;
  if (op->status == STORE_FENCED) run_on_fenced(op);
  for (size_t i = 0; i < d->n; i++) {
    struct run_item *it = run_find(d->v[i].id);
    if (it == NULL) continue;
    if (op->status == STORE_OK && d->v[i].changed && rn.active)
      run_send(it); /* persisted first, then sent */
    else { /* taken or canceled meanwhile */
      run_slot_free(it->worker);
      run_remove(it);
    }
  }
  free(d->v);
  free(d);
}

static int run_disp_cmp(const void *a, const void *b) {
  return strcmp(((const struct run_disp *)a)->worker,
                ((const struct run_disp *)b)->worker);
}

/* Marks what this pass dispatched, in one operation. */
static void run_dispatch_submit(void) {
  if (rn.disp.n == 0) return;
  struct run_dispatch_op *d = calloc(1, sizeof(*d));
  if (d == NULL) { /* they stay DISPATCHING until the watch requeues them */
    log_error("run: out of memory marking %zu dispatched instances", rn.disp.n);
    rn.disp.n = 0;
    return;
  }
  d->n = rn.disp.n;
  d->v = rn.disp.v;
  memset(&rn.disp, 0, sizeof(rn.disp));
  if (d->n > 1) qsort(d->v, d->n, sizeof(*d->v), run_disp_cmp);
  d->op.work = run_dispatch_work;
  d->op.done = run_dispatch_done;
  d->op.epoch = rn.epoch;
  store_submit(&d->op);
}

static int run_disp_add(uint64_t id, const char *worker) {
  if (rn.disp.n == rn.disp.cap) {
    size_t cap = rn.disp.cap ? 2 * rn.disp.cap : 64;
    struct run_disp *v = realloc(rn.disp.v, cap * sizeof(*v));
    if (v == NULL) return -1;
    rn.disp.v = v;
    rn.disp.cap = cap;
  }
  struct run_disp *e = &rn.disp.v[rn.disp.n++];
  e->id = id;
  snprintf(e->worker, sizeof(e->worker), "%s", worker);
  e->changed = false;
  return 0;
}

/* ---- fan-out ----------------------------------------------------------- */

struct run_expand_op {
  struct store_op op;
  uint64_t parent;
  uint32_t shards;
  size_t nworkers;
  char (*workers)[129]; /* owned */
  bool map;             /* a map job: one root part first */
  int64_t made;
};

static int run_expand_work(struct db_conn *db, struct store_op *op) {
  struct run_expand_op *e = (struct run_expand_op *)op;
  if (e->map) return fanout_expand_map_work(db, e->parent, &e->made);
  const char *names[1024];
  for (size_t i = 0; i < e->nworkers && i < 1024; i++) names[i] = e->workers[i];
  return fanout_expand_work(db, e->parent, names, e->nworkers, e->shards,
                            &e->made);
}

static void run_expand_done(struct store_op *op) {
  struct run_expand_op *e = (struct run_expand_op *)op;
  struct run_item *it = run_find(e->parent);
  if (op->status == STORE_FENCED) run_on_fenced(op);
  else if (op->status == STORE_OK && e->made > 0)
    log_info("run: instance %llu runs as %lld part(s)",
             (unsigned long long)e->parent, (long long)e->made);
  if (it) run_remove(it); /* its parts are in the queue now */
  free(e->workers);
  free(e);
  run_poll_now();
}

/* Whether w serves group g (its groups are a comma list). */
static bool run_in_group(const struct reg_worker *w, const char *g) {
  size_t n = strlen(g);
  for (const char *p = w->groups; p && *p;) {
    const char *c = strchr(p, ',');
    size_t l = c ? (size_t)(c - p) : strlen(p);
    if (l == n && strncmp(p, g, n) == 0) return true;
    p = c ? c + 1 : NULL;
  }
  return false;
}

/* A fan-out job's instance: its parts are created (broadcast: one for
 * each worker of the group with a fresh heartbeat). */
static void run_expand(struct run_item *it) {
  struct run_expand_op *e = calloc(1, sizeof(*e));
  if (e == NULL) return;
  e->parent = it->id;
  if (strcmp(it->fanout, "broadcast") == 0) {
    size_t n = registry_count();
    e->workers = calloc(n ? n : 1, sizeof(*e->workers));
    ev_tstamp now = ev_now(node.loop);
    double fresh = 3.0 * node.cfg.master.heartbeat_ms / 1000.0;
    for (struct reg_worker *w = registry_first(); w && e->workers; w = w->next)
      if (run_in_group(w, it->group) && w->last_heartbeat > 0 &&
          now - w->last_heartbeat <= fresh)
        snprintf(e->workers[e->nworkers++], sizeof(e->workers[0]), "%s", w->name);
    if (e->nworkers == 0) { /* nobody to run it: it waits */
      if (!it->waiting_logged)
        log_info("run: broadcast instance %llu waits: no worker of group %s",
                 (unsigned long long)it->id, it->group);
      it->waiting_logged = true;
      free(e->workers);
      free(e);
      return;
    }
  } else if (strcmp(it->fanout, "map") == 0) {
    e->map = true;
  } else {
    e->shards = it->shards ? it->shards : 1;
  }
  it->state = RS_DISPATCHING;
  e->op.work = run_expand_work;
  e->op.done = run_expand_done;
  e->op.epoch = rn.epoch;
  store_submit(&e->op);
}

/* A broadcast part runs on its worker only; if that worker is gone, the
 * part fails (the others go on). */
static struct reg_worker *run_pick_pinned(struct run_item *it, bool *gone) {
  struct reg_worker *w = registry_find(it->pin);
  *gone = w == NULL;
  if (w == NULL) return NULL;
  uint32_t busy = w->running + w->dispatched > w->outstanding
                      ? w->running + w->dispatched
                      : w->outstanding;
  return busy < (w->max_running ? w->max_running : 1) ? w : NULL;
}

/* Groups found without a free worker in this dispatch pass: their other
 * instances are not tried again in it (a map may hold 4,096 of them). */
struct run_full {
  char group[16][65];
  int n;
};

static bool run_is_full(const struct run_full *f, const char *group) {
  for (int i = 0; i < f->n; i++)
    if (strcmp(f->group[i], group) == 0) return true;
  return false;
}

/* Gets it onto a worker, or leaves it waiting (and its group in full). */
static void run_try(struct run_item *it, struct run_full *full) {
  if (it->parent == 0 && strcmp(it->fanout, "none") != 0) {
    run_expand(it);
    return;
  }
  enum select_why why = SELECT_FULL;
  bool gone = false;
  struct reg_worker *w = it->pin[0] ? run_pick_pinned(it, &gone)
                                    : run_pick(it->group, &why);
  if (gone) {
    snprintf(it->error, sizeof(it->error),
             "worker %s left before its broadcast part could run", it->pin);
    it->state = RS_DISPATCHING;
    run_fail(it);
    run_remove(it);
    return;
  }
  if (w == NULL) { /* it waits; instances of other groups may still go */
    if (!it->pin[0] && full->n < 16) /* the same for all of its group */
      snprintf(full->group[full->n++], sizeof(full->group[0]), "%s", it->group);
    if (!it->waiting_logged) {
      log_info("run: instance %llu waits: %s (group %s)",
               (unsigned long long)it->id,
               it->pin[0] ? "its worker is busy" : select_why_text(why),
               it->group);
      it->waiting_logged = true;
    }
    return;
  }
  if (run_disp_add(it->id, w->name) < 0) return; /* stays queued */
  w->dispatched++;
  w->outstanding++;
  it->state = RS_DISPATCHING;
  snprintf(it->worker, sizeof(it->worker), "%s", w->name);
}

/* One instance from each queue in turn, so a flood in one queue does not
 * starve the others. */
static void run_dispatch_now(void) {
  if (!rn.active) return;
  struct run_item *cur[RUN_NQ];
  struct run_full full;
  full.n = 0;
  memcpy(cur, rn.q, sizeof(cur));
  for (bool more = true; more;) {
    more = false;
    for (int q = 0; q < RUN_NQ; q++) {
      while (cur[q] && (cur[q]->state != RS_QUEUED ||
                        (!cur[q]->pin[0] && run_is_full(&full, cur[q]->group))))
        cur[q] = cur[q]->next;
      if (cur[q] == NULL) continue;
      struct run_item *it = cur[q];
      cur[q] = it->next;
      run_try(it, &full);
      more = true;
    }
  }
  run_dispatch_submit();
}

static void run_dispatch_cb(struct ev_loop *loop, ev_prepare *w, int revents) {
  (void)revents;
  ev_prepare_stop(loop, w);
  run_dispatch_now();
}

/* A pass over the queues before the loop waits again: the store's
 * answers come in batches, and each used to start a pass of its own. */
static void run_dispatch(void) {
  if (rn.active && !ev_is_active(&rn.dispatch))
    ev_prepare_start(node.loop, &rn.dispatch);
}

void run_kick(void) { run_dispatch(); }

/* ---- status reports ---------------------------------------------------- */

struct run_status_op {
  struct store_op op;
  struct run_finish f;
  int64_t applied;
  struct conn *conn;   /* to answer; checked against the registry */
  char conn_worker[129];
  uint64_t request_id;
};

static const char run_sql_final[] =
    "UPDATE instances SET status = ?, exit_code = ?, exit_signal = ?,"
    " reason = ?, report_ms = ?, ended_at = NOW(6),"
    " started_at = COALESCE(started_at, NOW(6)) "
    "WHERE id = ? AND worker = ? AND report_ms < ?"
    " AND status IN ('DISPATCHED', 'RUNNING')";
/* The same, from a worker that said which fan-out parent the instance
 * has (0: none), with a map part's result. */
static const char run_sql_final_said[] =
    "UPDATE instances SET status = ?, exit_code = ?, exit_signal = ?,"
    " reason = ?, report_ms = ?, ended_at = NOW(6),"
    " started_at = COALESCE(started_at, NOW(6)),"
    " result = IF(? = 'SUCCEEDED' AND task_name IS NOT NULL, ?, result) "
    "WHERE id = ? AND worker = ? AND report_ms < ?"
    " AND status IN ('DISPATCHED', 'RUNNING') AND COALESCE(parent_id, 0) = ?";
static const char run_sql_action[] =
    "UPDATE actions a JOIN instances i ON i.action_id = a.id SET a.status = ?,"
    " a.instance_id = i.id WHERE i.id = ?";
/* A retry: a new attempt of the same action or job, after the job's wait,
 * while attempts remain.  Debug runs are not retried. */
static const char run_sql_retry[] =
    "INSERT INTO instances (action_id, job_id, trigger_kind, attempt, status,"
    " host_group, script, operator, queued_at, bizdate, rerun_id, parent_id,"
    " shard_index, shard_count, pin_worker, task_name, task_input, task_depth) "
    "SELECT i.action_id, i.job_id, i.trigger_kind, i.attempt + 1, 'QUEUED',"
    " i.host_group, i.script, i.operator,"
    " NOW(6) + INTERVAL j.retry_wait_s SECOND, i.bizdate, i.rerun_id,"
    " i.parent_id, i.shard_index, i.shard_count, i.pin_worker, i.task_name,"
    " i.task_input, i.task_depth "
    "FROM instances i JOIN jobs j ON j.id = i.job_id "
    "WHERE i.id = ? AND i.attempt <= j.retries";
/* SUPER_RECOVERY: once an action of the chain succeeded, each downstream
 * action whose upstreams have all succeeded runs next, in the same way. */
static const char run_sql_chain[] =
    "INSERT INTO instances (action_id, job_id, trigger_kind, status,"
    " host_group, operator) "
    "SELECT a.id, a.job_id, 'SUPER_RECOVERY', 'QUEUED', j.host_group,"
    " i.operator "
    "FROM instances i JOIN action_deps d ON d.upstream_id = i.action_id"
    " JOIN actions a ON a.id = d.action_id JOIN jobs j ON j.id = a.job_id "
    "WHERE i.id = ? AND i.trigger_kind = 'SUPER_RECOVERY' AND j.deleted = 0"
    " AND NOT EXISTS (SELECT 1 FROM action_deps d2 JOIN actions u"
    "  ON u.id = d2.upstream_id WHERE d2.action_id = a.id"
    "  AND u.status <> 'SUCCEEDED')"
    " AND NOT EXISTS (SELECT 1 FROM instances x WHERE x.action_id = a.id"
    "  AND x.status IN ('WAITING', 'QUEUED', 'DISPATCHED', 'RUNNING'))";
/* ...and such an action is no longer released by its schedule. */
static const char run_sql_chain_mark[] =
    "UPDATE actions a JOIN action_deps d ON d.action_id = a.id"
    " JOIN instances i ON i.action_id = d.upstream_id SET a.status = 'QUEUED' "
    "WHERE i.id = ? AND i.trigger_kind = 'SUPER_RECOVERY' AND"
    " a.status = 'WAITING' AND EXISTS (SELECT 1 FROM instances x WHERE"
    " x.action_id = a.id AND x.status = 'QUEUED'"
    " AND x.trigger_kind = 'SUPER_RECOVERY')";

/* A part of a fan-out (no action, no alert of its own): a retry.  Its
 * parent is checked after the batch (batch.h), once for all its parts
 * that ended meanwhile. */
static int run_part_ended_work(struct db_conn *db, uint64_t id,
                               const char *state, bool retry) {
  struct db_param i[] = {DB_U64(id)};
  if (retry && strcmp(state, "SUCCEEDED") != 0 && strcmp(state, "STOPPED") != 0)
    return db_exec(db, run_sql_retry, i, 1) < 0 ? -1 : 0;
  return 0;
}

int run_ended_work(struct db_conn *db, uint64_t id, const char *state,
                   bool retry, int64_t *actions, uint64_t parent) {
  if (actions) *actions = 0;
  if (parent != 0 && parent != RUN_PARENT_UNKNOWN)
    return run_part_ended_work(db, id, state, retry);
  /* fan-out bookkeeping only where it may apply (parent unknown) */
  bool maybe_part = parent == RUN_PARENT_UNKNOWN;
  struct db_param a[] = {DB_STR(state), DB_U64(id)};
  struct db_param i[] = {DB_U64(id)};
  int64_t n = db_exec(db, run_sql_action, a, 2);
  if (n < 0) return -1;
  if (actions) *actions = n;
  if (strcmp(state, "SUCCEEDED") == 0)
    return db_exec(db, run_sql_chain, i, 1) < 0 ||
                   db_exec(db, run_sql_chain_mark, i, 1) < 0 ||
                   alert_success_work(db, id) < 0 ||
                   (maybe_part && fanout_part_ended_work(db, id) < 0)
               ? -1
               : 0;
  if (strcmp(state, "STOPPED") == 0) /* an operator's doing: no alert */
    return maybe_part ? fanout_part_ended_work(db, id) : 0;
  int64_t retried = retry ? db_exec(db, run_sql_retry, i, 1) : 0;
  if (retried < 0) return -1;
  if (retried > 0) return 0;
  /* the last attempt failed: the owners hear of it, in this transaction */
  return alert_failure_work(db, id) < 0 ||
                 (maybe_part && fanout_part_ended_work(db, id) < 0)
             ? -1
             : 0;
}

int run_finish_work(struct db_conn *db, struct run_finish *f,
                    int64_t *applied) {
  uint64_t parent = f->parent;
  *applied = 0;
  if (parent != RUN_PARENT_UNKNOWN) { /* what the worker said, if true */
    struct db_param p[] = {DB_STR(f->state),     DB_I64(f->exit_code),
                           DB_I64(f->sig),       DB_STR(f->reason),
                           DB_U64(f->report_ms), DB_STR(f->state),
                           DB_STR(f->result),    DB_U64(f->id),
                           DB_STR(f->worker),    DB_U64(f->report_ms),
                           DB_U64(parent)};
    *applied = db_exec(db, run_sql_final_said, p, 11);
    if (*applied < 0) return -1;
  }
  if (*applied == 0) {
    parent = f->parent = RUN_PARENT_UNKNOWN; /* checked in full below */
    struct db_param p[] = {DB_STR(f->state),     DB_I64(f->exit_code),
                           DB_I64(f->sig),       DB_STR(f->reason),
                           DB_U64(f->report_ms), DB_U64(f->id),
                           DB_STR(f->worker),    DB_U64(f->report_ms)};
    *applied = db_exec(db, run_sql_final, p, 8);
    if (*applied < 0) return -1;
    if (*applied == 0) return 0; /* stale, or not this worker's */
  }
  return run_ended_work(db, f->id, f->state, true, &f->actions, parent);
}

static int run_status_work(struct db_conn *db, struct store_op *op) {
  struct run_status_op *s = (struct run_status_op *)op;
  return run_finish_work(db, &s->f, &s->applied);
}

static void run_status_done(struct store_op *op) {
  struct run_status_op *s = (struct run_status_op *)op;
  if (op->status == STORE_FENCED) run_on_fenced(op);
  /* Answer only after the state is persisted, and only if the connection
   * is still the one of that worker. */
  struct reg_worker *w = registry_find(s->conn_worker);
  if (op->status == STORE_OK && w != NULL && w->conn == s->conn) {
    Heracron__Envelope env = HERACRON__ENVELOPE__INIT;
    Heracron__StatusAck ack = HERACRON__STATUS_ACK__INIT;
    ack.instance_id = s->f.id;
    ack.applied = s->applied == 1;
    env.reply_to = s->request_id;
    env.payload_case = HERACRON__ENVELOPE__PAYLOAD_STATUS_ACK;
    env.status_ack = &ack;
    conn_send(w->conn, &env);
  }
  if (op->status == STORE_OK && s->applied == 1) {
    log_info("run: instance %llu %s on %s", (unsigned long long)s->f.id,
             s->f.state, s->f.worker);
    /* Its slot is free now, not at the worker's next heartbeat. */
    run_slot_free(s->f.worker);
    metrics_count_end(s->f.state);
    if (s->f.parent != 0 && s->f.parent != RUN_PARENT_UNKNOWN)
      batch_parent_check(s->f.parent);
    if (strcmp(s->f.state, "SUCCEEDED") != 0) run_poll_now(); /* a retry */
    else if (s->f.actions > 0) sched_kick(); /* its downstream may go */
  }
  else if (op->status == STORE_OK)
    log_warn("run: dropped a report of instance %llu from %s (stale or not "
             "its worker)",
             (unsigned long long)s->f.id, s->f.worker);
  free(s);
  run_dispatch();
}

int run_on_status(struct conn *c, struct reg_worker *w,
                  const Heracron__Envelope *env) {
  const Heracron__StatusReport *r = env->status;
  static const char *const names[] = {"", "RUNNING", "SUCCEEDED", "FAILED",
                                      "TIMED_OUT", "STOPPED"};
  if (!rn.active || r->state <= HERACRON__RUN_STATE__RUNNING ||
      (unsigned)r->state >= sizeof(names) / sizeof(names[0]))
    return 0;
  struct run_status_op *s = calloc(1, sizeof(*s));
  if (s == NULL) return 0;
  s->f.id = r->instance_id;
  snprintf(s->f.state, sizeof(s->f.state), "%s", names[r->state]);
  /* The connection's authenticated name, not what the report claims. */
  snprintf(s->f.worker, sizeof(s->f.worker), "%s", w->name);
  snprintf(s->f.reason, sizeof(s->f.reason), "%s", r->reason ? r->reason : "");
  s->f.exit_code = r->exit_code;
  s->f.sig = r->signal;
  s->f.parent = r->parent_id;
  snprintf(s->f.result, sizeof(s->f.result), "%s", r->result ? r->result : "");
  s->f.report_ms = r->report_ms;
  s->conn = c;
  snprintf(s->conn_worker, sizeof(s->conn_worker), "%s", w->name);
  s->request_id = env->id;
  s->op.work = run_status_work;
  s->op.done = run_status_done;
  s->op.epoch = rn.epoch;
  /* The worker sent the output before the report: write it first (the
   * store runs operations in order), so a final state means a whole log. */
  run_logs_flush();
  store_submit(&s->op);
  return 0;
}

/* ---- logs -------------------------------------------------------------- */

struct run_chunk {
  uint64_t id;
  uint32_t seq;
  size_t len;
  uint8_t *data; /* owned */
};

struct run_logs {
  struct store_op op;
  size_t n, cap, bytes;
  struct run_chunk *c;
};

static const char run_sql_log[] =
    "INSERT IGNORE INTO instance_logs (instance_id, seq, data) VALUES (?, ?, ?)";

static int run_logs_work(struct db_conn *db, struct store_op *op) {
  struct run_logs *l = (struct run_logs *)op;
  for (size_t i = 0; i < l->n; i++) {
    struct db_param p[] = {DB_U64(l->c[i].id), DB_U64(l->c[i].seq),
                           DB_STRN((const char *)l->c[i].data, l->c[i].len)};
    if (db_exec(db, run_sql_log, p, 3) < 0) return -1;
  }
  return 0;
}

static void run_logs_free(struct run_logs *l) {
  for (size_t i = 0; i < l->n; i++) free(l->c[i].data);
  free(l->c);
  free(l);
}

static void run_logs_done(struct store_op *op) {
  if (op->status == STORE_FENCED) run_on_fenced(op);
  run_logs_free((struct run_logs *)op);
}

static void run_logs_flush(void) {
  struct run_logs *l = rn.logs;
  if (l == NULL) return;
  rn.logs = NULL;
  l->op.work = run_logs_work;
  l->op.done = run_logs_done;
  l->op.epoch = rn.epoch;
  store_submit(&l->op);
}

static void run_log_flush_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  run_logs_flush();
}

void run_on_log(struct reg_worker *w, const Heracron__LogChunk *lc) {
  if (!rn.active || lc->data.len == 0) return;
  if (rn.logs == NULL && (rn.logs = calloc(1, sizeof(*rn.logs))) == NULL)
    return;
  struct run_logs *l = rn.logs;
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 64;
    struct run_chunk *c = realloc(l->c, nc * sizeof(*c));
    if (c == NULL) return;
    l->c = c;
    l->cap = nc;
  }
  uint8_t *d = malloc(lc->data.len);
  if (d == NULL) return;
  memcpy(d, lc->data.data, lc->data.len);
  l->c[l->n++] = (struct run_chunk){lc->instance_id, lc->seq, lc->data.len, d};
  l->bytes += lc->data.len;
  if (l->bytes >= RUN_LOG_BATCH) run_logs_flush();
  else if (!ev_is_active(&rn.log_flush)) {
    ev_timer_set(&rn.log_flush, RUN_LOG_FLUSH_S, 0.);
    ev_timer_start(node.loop, &rn.log_flush);
  }
}

/* ---- role -------------------------------------------------------------- */

void run_start(uint64_t epoch) {
  rn.active = true;
  rn.epoch = epoch;
  rn.poll_pending = false;
  ev_timer_init(&rn.poll, run_poll_cb, 0., RUN_POLL_S);
  ev_timer_start(node.loop, &rn.poll);
  ev_init(&rn.log_flush, run_log_flush_cb);
  ev_prepare_init(&rn.dispatch, run_dispatch_cb);
  batch_start(epoch);
}

void run_stop(void) {
  if (!rn.active) return;
  run_logs_flush(); /* fenced: lands only if our term still holds */
  batch_stop();
  rn.active = false;
  ev_timer_stop(node.loop, &rn.poll);
  ev_timer_stop(node.loop, &rn.log_flush);
  ev_prepare_stop(node.loop, &rn.dispatch);
  free(rn.disp.v);
  memset(&rn.disp, 0, sizeof(rn.disp));
  for (int q = 0; q < RUN_NQ; q++)
    while (rn.q[q]) run_remove(rn.q[q]);
}
