#include "config.h"

#include "master/batch.h"

#include <ev.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/node.h"
#include "master/fanout.h"
#include "master/run.h"
#include "store/db.h"
#include "store/store.h"
#include "util/log.h"

struct batch_ids {
  uint64_t *v; /* owned */
  size_t n, cap;
};

struct batch_op {
  struct store_op op;
  struct batch_ids running, parents;
};

static struct {
  bool active;
  uint64_t epoch;
  ev_prepare flush;
  struct batch_ids running, parents;
} bt;

static void batch_add(struct batch_ids *s, uint64_t id) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 64;
    uint64_t *v = realloc(s->v, cap * sizeof(*v));
    if (v == NULL) {
      log_error("batch: out of memory; instance %llu left to the watch",
                (unsigned long long)id);
      return;
    }
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = id;
}

static const char batch_sql_running[] =
    "UPDATE instances SET status = 'RUNNING', started_at = NOW(6) "
    "WHERE status = 'DISPATCHED' AND id IN ";

static int batch_work(struct db_conn *db, struct store_op *op) {
  struct batch_op *b = (struct batch_op *)op;
  static char *sql_in[4]; /* store thread only */
  for (size_t at = 0; at < b->running.n; at += DB_IN_MAX) {
    size_t n = b->running.n - at < DB_IN_MAX ? b->running.n - at : DB_IN_MAX;
    size_t cls;
    const char *sql = db_sql_in(batch_sql_running, n, &cls, sql_in);
    struct db_param p[DB_IN_MAX];
    for (size_t i = 0; i < cls; i++)
      p[i] = DB_U64(b->running.v[at + (i < n ? i : n - 1)]);
    if (sql == NULL || db_exec(db, sql, p, (int)cls) < 0) return -1;
  }
  for (size_t i = 0; i < b->parents.n; i++)
    if (fanout_parent_check_work(db, b->parents.v[i]) < 0) return -1;
  return 0;
}

static void batch_done(struct store_op *op) {
  struct batch_op *b = (struct batch_op *)op;
  if (op->status == STORE_FENCED) run_on_fenced(op);
  free(b->running.v);
  free(b->parents.v);
  free(b);
}

static int batch_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void batch_submit(void) {
  if (bt.running.n == 0 && bt.parents.n == 0) return;
  struct batch_op *b = calloc(1, sizeof(*b));
  if (b == NULL) return; /* kept for the next turn */
  b->running = bt.running;
  b->parents = bt.parents;
  memset(&bt.running, 0, sizeof(bt.running));
  memset(&bt.parents, 0, sizeof(bt.parents));
  /* each parent once */
  if (b->parents.n > 1) /* qsort wants a real array, even for none */
    qsort(b->parents.v, b->parents.n, sizeof(uint64_t), batch_cmp);
  size_t k = 0;
  for (size_t i = 0; i < b->parents.n; i++)
    if (k == 0 || b->parents.v[k - 1] != b->parents.v[i])
      b->parents.v[k++] = b->parents.v[i];
  b->parents.n = k;
  b->op.work = batch_work;
  b->op.done = batch_done;
  b->op.epoch = bt.epoch;
  store_submit(&b->op);
}

static void batch_flush_cb(struct ev_loop *loop, ev_prepare *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
  batch_submit();
}

void batch_start(uint64_t epoch) {
  bt.active = true;
  bt.epoch = epoch;
  ev_prepare_init(&bt.flush, batch_flush_cb);
  ev_prepare_start(node.loop, &bt.flush);
  ev_unref(node.loop); /* it alone must not keep the loop alive */
}

void batch_stop(void) {
  if (!bt.active) return;
  batch_submit();
  bt.active = false;
  ev_ref(node.loop);
  ev_prepare_stop(node.loop, &bt.flush);
  free(bt.running.v);
  free(bt.parents.v);
  memset(&bt.running, 0, sizeof(bt.running));
  memset(&bt.parents, 0, sizeof(bt.parents));
}

void batch_running(uint64_t id) {
  if (bt.active) batch_add(&bt.running, id);
}

void batch_parent_check(uint64_t parent) {
  if (bt.active) batch_add(&bt.parents, parent);
}
