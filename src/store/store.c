#include "config.h"

#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/cfg.h"
#include "util/log.h"
#include "util/metrics.h"

static struct {
  struct ev_loop *loop;
  ev_async done_async;
  const struct cfg *cfg;
  char *holder;
  pthread_t thread;
  bool started;

  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct store_op *head, *tail; /* queued, guarded by lock */
  struct store_op *done_head, *done_tail; /* finished, guarded by lock */
  size_t pending;                /* queued + running, guarded by lock */
  bool stopping;
  struct timespec stop_deadline; /* CLOCK_MONOTONIC */

  struct db_conn db; /* store thread only */
  atomic_int connected;
} st = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static const char store_sql_fence[] =
    "SELECT epoch FROM lease WHERE name = 'master' AND holder = ? AND "
    "epoch = ? AND expires > NOW(6) LOCK IN SHARE MODE";

static void store_complete(struct store_op *op, int status) {
  op->status = status;
  op->next = NULL;
  pthread_mutex_lock(&st.lock);
  if (st.done_tail) st.done_tail->next = op;
  else st.done_head = op;
  st.done_tail = op;
  st.pending--;
  pthread_mutex_unlock(&st.lock);
}

static void store_done_cb(struct ev_loop *loop, ev_async *w, int revents) {
  pthread_mutex_lock(&st.lock);
  struct store_op *op = st.done_head;
  st.done_head = st.done_tail = NULL;
  pthread_mutex_unlock(&st.lock);
  while (op != NULL) {
    struct store_op *next = op->next;
    if (op->done != NULL) op->done(op);
    else free(op);
    op = next;
  }
}

static bool store_past_deadline(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec > st.stop_deadline.tv_sec ||
         (now.tv_sec == st.stop_deadline.tv_sec &&
          now.tv_nsec >= st.stop_deadline.tv_nsec);
}

/* Connects, retrying with backoff.  Returns 0, or -1 when stopping past
 * the grace period. */
static int store_ensure_connected(void) {
  unsigned delay_ms = 100;
  bool reported = false;
  while (st.db.m == NULL) {
    if (db_connect(&st.db, st.cfg, true) == 0) {
      if (reported) log_info("store: MariaDB session re-established");
      atomic_store(&st.connected, 1);
      return 0;
    }
    atomic_store(&st.connected, 0);
    if (!reported) {
      log_error("store: %s; retrying", st.db.err);
      reported = true;
    } else {
      log_debug("store: %s", st.db.err);
    }
    pthread_mutex_lock(&st.lock);
    bool stop = st.stopping && store_past_deadline();
    pthread_mutex_unlock(&st.lock);
    if (stop) return -1;
    struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    delay_ms = delay_ms * 2 > 1000 ? 1000 : delay_ms * 2;
  }
  return 0;
}

enum { RUN_OK = 0, RUN_CONN = 1, RUN_FAIL = 2, RUN_FENCED = 3 };

/* Runs ops[0..n) in one transaction.  Returns RUN_OK (all done), RUN_CONN
 * (session lost, nothing known committed), RUN_FAIL (an op failed; index
 * in *bad; rolled back) or RUN_FENCED. */
static int store_run_txn(struct store_op **ops, int n, uint64_t epoch,
                         int *bad) {
  if (db_begin(&st.db) < 0) return st.db.m == NULL ? RUN_CONN : RUN_FAIL;
  if (epoch != 0) {
    struct db_rows r;
    struct db_param p[] = {DB_STR(st.holder), DB_U64(epoch)};
    int rc = db_query(&st.db, store_sql_fence, p, 2, &r);
    if (rc < 0) {
      if (st.db.m == NULL) return RUN_CONN;
      db_rollback(&st.db);
      *bad = -1;
      return RUN_FAIL;
    }
    db_rows_free(&r);
    if (rc == 0) {
      db_rollback(&st.db);
      return RUN_FENCED;
    }
  }
  for (int i = 0; i < n; i++) {
    ops[i]->err[0] = '\0';
    if (ops[i]->work(&st.db, ops[i]) < 0) {
      if (st.db.m == NULL) return RUN_CONN;
      if (ops[i]->err[0] == '\0')
        snprintf(ops[i]->err, sizeof(ops[i]->err), "%s", st.db.err);
      db_rollback(&st.db);
      *bad = i;
      return RUN_FAIL;
    }
  }
  if (db_commit(&st.db) < 0) {
    /* A commit whose reply was lost may have been applied; operations are
     * written to be idempotent, so running them again is safe. */
    if (st.db.m == NULL) return RUN_CONN;
    *bad = -1;
    return RUN_FAIL;
  }
  return RUN_OK;
}

/* Runs a group of ops sharing one epoch until each has completed. */
static void store_run_group(struct store_op **ops, int n, uint64_t epoch) {
  for (;;) {
    if (store_ensure_connected() < 0) {
      for (int i = 0; i < n; i++) {
        snprintf(ops[i]->err, sizeof(ops[i]->err),
                 "store stopped while MariaDB was unreachable");
        store_complete(ops[i], STORE_ERR);
      }
      return;
    }
    int bad = -1;
    int rc = store_run_txn(ops, n, epoch, &bad);
    switch (rc) {
    case RUN_OK:
      for (int i = 0; i < n; i++) store_complete(ops[i], STORE_OK);
      return;
    case RUN_CONN:
      atomic_store(&st.connected, 0);
      log_warn("store: MariaDB session lost (%s); retrying %d operation(s)",
               st.db.err, n);
      continue;
    case RUN_FENCED:
      log_warn("store: write fenced: epoch %llu is no longer this node's "
               "lease; %d operation(s) dropped",
               (unsigned long long)epoch, n);
      for (int i = 0; i < n; i++) {
        snprintf(ops[i]->err, sizeof(ops[i]->err),
                 "fenced: epoch %llu is stale", (unsigned long long)epoch);
        store_complete(ops[i], STORE_FENCED);
      }
      return;
    case RUN_FAIL:
    default:
      if (n == 1) {
        if (ops[0]->err[0] == '\0')
          snprintf(ops[0]->err, sizeof(ops[0]->err), "%s", st.db.err);
        log_warn("store: operation failed: %s", ops[0]->err);
        store_complete(ops[0], STORE_ERR);
        return;
      }
      /* Isolate the failure: run each op in a transaction of its own. */
      for (int i = 0; i < n; i++) store_run_group(&ops[i], 1, epoch);
      return;
    }
  }
}

static void *store_main(void *unused) {
  struct store_op **batch = calloc(st.cfg->db.batch_max, sizeof(*batch));
  if (batch == NULL) {
    log_error("store: out of memory");
    return NULL;
  }
  for (;;) {
    pthread_mutex_lock(&st.lock);
    while (st.head == NULL && !st.stopping)
      pthread_cond_wait(&st.cond, &st.lock);
    if (st.head == NULL && st.stopping) {
      pthread_mutex_unlock(&st.lock);
      break;
    }
    int n = 0;
    while (st.head != NULL && n < (int)st.cfg->db.batch_max) {
      batch[n++] = st.head;
      st.head = st.head->next;
    }
    if (st.head == NULL) st.tail = NULL;
    pthread_mutex_unlock(&st.lock);

    /* Consecutive ops with the same epoch share a transaction. */
    int i = 0;
    while (i < n) {
      int j = i + 1;
      while (j < n && batch[j]->epoch == batch[i]->epoch) j++;
      double t0 = ev_time();
      store_run_group(&batch[i], j - i, batch[i]->epoch);
      metrics_observe(MH_STORE_BATCH, ev_time() - t0);
      i = j;
    }
    ev_async_send(st.loop, &st.done_async);
  }
  free(batch);
  db_close(&st.db);
  ev_async_send(st.loop, &st.done_async);
  return NULL;
}

int store_start(struct ev_loop *loop, const struct cfg *cfg) {
  st.loop = loop;
  st.cfg = cfg;
  st.holder = strdup(cfg->node.name);
  if (st.holder == NULL) return -1;
  db_conn_init(&st.db, 10);
  ev_async_init(&st.done_async, store_done_cb);
  ev_async_start(loop, &st.done_async);
  ev_unref(loop); /* the async watcher alone must not keep the loop alive */
  int rc = pthread_create(&st.thread, NULL, store_main, NULL);
  if (rc != 0) {
    log_error("store: cannot start thread: %s", strerror(rc));
    return -1;
  }
  st.started = true;
  return 0;
}

void store_submit(struct store_op *op) {
  op->next = NULL;
  op->status = STORE_OK;
  op->err[0] = '\0';
  pthread_mutex_lock(&st.lock);
  if (st.tail) st.tail->next = op;
  else st.head = op;
  st.tail = op;
  st.pending++;
  pthread_cond_signal(&st.cond);
  pthread_mutex_unlock(&st.lock);
}

size_t store_pending(void) {
  pthread_mutex_lock(&st.lock);
  size_t n = st.pending;
  pthread_mutex_unlock(&st.lock);
  return n;
}

int store_connected(void) { return atomic_load(&st.connected); }

void store_stop(unsigned grace_ms) {
  if (!st.started) return;
  pthread_mutex_lock(&st.lock);
  st.stopping = true;
  clock_gettime(CLOCK_MONOTONIC, &st.stop_deadline);
  st.stop_deadline.tv_sec += grace_ms / 1000;
  st.stop_deadline.tv_nsec += (long)(grace_ms % 1000) * 1000000L;
  if (st.stop_deadline.tv_nsec >= 1000000000L) {
    st.stop_deadline.tv_sec++;
    st.stop_deadline.tv_nsec -= 1000000000L;
  }
  pthread_cond_signal(&st.cond);
  pthread_mutex_unlock(&st.lock);
  pthread_join(st.thread, NULL);
  st.started = false;
  /* Run the done callbacks of what finished last. */
  store_done_cb(st.loop, &st.done_async, 0);
  ev_ref(st.loop);
  ev_async_stop(st.loop, &st.done_async);
  free(st.holder);
  st.holder = NULL;
}
