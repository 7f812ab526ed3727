#include "config.h"

#include "store/elect.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/db.h"
#include "util/cfg.h"
#include "util/clock.h"
#include "util/log.h"

static struct {
  struct ev_loop *loop;
  ev_async notify;
  elect_change_fn on_change;
  const struct cfg *cfg;
  pthread_t thread;
  bool started;

  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct lease_view view;  /* guarded by lock */
  bool stop;               /* guarded by lock */
  bool stepdown;           /* guarded by lock */
  char stepdown_reason[128];

  /* election thread only */
  struct db_conn db;
  char lock_name[65];
  bool holding_lock;
  char address[256];
} el = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

/* The takeover and the renewal are one statement.  SET assignments run left
 * to right: acquired_at and epoch must look at holder and epoch before they
 * change.  Parameters: me, epoch (x2), me, address, http, lockname,
 * lease_us, me, epoch, lockname. */
static const char elect_sql_update[] =
    "UPDATE lease SET "
    " acquired_at = IF(holder = ? AND epoch = ?, acquired_at, NOW(6)),"
    " epoch = IF(holder = ? AND epoch = ?, epoch, epoch + 1),"
    " holder = ?, address = ?, http = ?,"
    " lock_conn = IF(IFNULL(IS_USED_LOCK(?), 0) = CONNECTION_ID(),"
    "                CONNECTION_ID(), 0),"
    " renewed_at = NOW(6),"
    " expires = NOW(6) + INTERVAL ? MICROSECOND "
    "WHERE name = 'master' AND ((holder = ? AND epoch = ?)"
    " OR expires < NOW(6)"
    " OR (lock_conn <> 0 AND IFNULL(IS_USED_LOCK(?), 0) <> lock_conn))";
static const char elect_sql_update_nolock[] =
    "UPDATE lease SET "
    " acquired_at = IF(holder = ? AND epoch = ?, acquired_at, NOW(6)),"
    " epoch = IF(holder = ? AND epoch = ?, epoch, epoch + 1),"
    " holder = ?, address = ?, http = ?, lock_conn = 0,"
    " renewed_at = NOW(6),"
    " expires = NOW(6) + INTERVAL ? MICROSECOND "
    "WHERE name = 'master' AND ((holder = ? AND epoch = ?)"
    " OR expires < NOW(6))";
static const char elect_sql_epoch[] =
    "SELECT epoch FROM lease WHERE name = 'master' AND holder = ?";
static const char elect_sql_get_lock[] = "SELECT GET_LOCK(?, ?)";
static const char elect_sql_release_lock[] = "SELECT RELEASE_LOCK(?)";
static const char elect_sql_wait_timeout[] =
    "SET SESSION wait_timeout = ?";
static const char elect_sql_resign[] =
    "UPDATE lease SET expires = NOW(6) - INTERVAL 1 SECOND, lock_conn = 0 "
    "WHERE name = 'master' AND holder = ? AND epoch = ?";
static const char elect_sql_ensure_row[] =
    "INSERT IGNORE INTO lease (name) VALUES ('master')";

static bool elect_lock_takeover(void) {
  /* Named locks are node-local on Galera; see elect.h. */
  return el.cfg->master.lock_takeover;
}

static void elect_publish(void) { ev_async_send(el.loop, &el.notify); }

static void elect_notify_cb(struct ev_loop *loop, ev_async *w, int revents) {
  struct lease_view v = elect_view();
  el.on_change(&v);
}

struct lease_view elect_view(void) {
  pthread_mutex_lock(&el.lock);
  struct lease_view v = el.view;
  pthread_mutex_unlock(&el.lock);
  return v;
}

/* Sleeps up to ms unless stopped or asked to step down. */
static void elect_sleep(uint32_t ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts); /* pthread_cond_timedwait's clock */
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&el.lock);
  while (!el.stop && !el.stepdown)
    if (pthread_cond_timedwait(&el.cond, &el.lock, &ts) != 0) break;
  pthread_mutex_unlock(&el.lock);
}

static void elect_drop_session(void) {
  db_close(&el.db);
  el.holding_lock = false;
}

static int elect_connect(void) {
  if (db_connect(&el.db, el.cfg, true) < 0) return -1;
  /* A hung master keeps its session, and so its named lock, until the
   * server's wait_timeout: keep that short.  We renew far more often. */
  uint64_t wt = (el.cfg->master.lease_ms * 2 + 999) / 1000;
  if (wt < 5) wt = 5;
  struct db_param p[] = {DB_U64(wt)};
  if (db_exec(&el.db, elect_sql_wait_timeout, p, 1) < 0 ||
      db_exec(&el.db, elect_sql_ensure_row, NULL, 0) < 0) {
    elect_drop_session();
    return -1;
  }
  return 0;
}

/* GET_LOCK with a timeout in seconds; sets holding_lock.  Returns 0 or -1
 * on a database error. */
static int elect_try_lock(unsigned wait_s) {
  struct db_param p[] = {DB_STR(el.lock_name), DB_U64(wait_s)};
  struct db_rows r;
  if (db_query(&el.db, elect_sql_get_lock, p, 2, &r) < 0) return -1;
  el.holding_lock = r.nrows == 1 && db_cell(&r, 0, 0) != NULL &&
                    strcmp(db_cell(&r, 0, 0), "1") == 0;
  db_rows_free(&r);
  return 0;
}

static void elect_release_lock(void) {
  struct db_param p[] = {DB_STR(el.lock_name)};
  struct db_rows r;
  if (db_query(&el.db, elect_sql_release_lock, p, 1, &r) >= 0)
    db_rows_free(&r);
  el.holding_lock = false;
}

/* One takeover-or-renew attempt.  Returns 1 (row updated, *epoch set),
 * 0 (held by another node) or -1 (database error). */
static int elect_attempt(uint64_t my_epoch, uint64_t *epoch) {
  const char *me = el.cfg->node.name;
  uint64_t lease_us = (uint64_t)el.cfg->master.lease_ms * 1000u;
  int64_t n;
  if (elect_lock_takeover()) {
    struct db_param p[] = {
        DB_STR(me),          DB_U64(my_epoch),      DB_STR(me),
        DB_U64(my_epoch),    DB_STR(me),            DB_STR(el.address),
        DB_STR(el.cfg->http.listen), DB_STR(el.lock_name), DB_U64(lease_us),
        DB_STR(me),          DB_U64(my_epoch),      DB_STR(el.lock_name)};
    n = db_exec(&el.db, elect_sql_update, p, 12);
  } else {
    struct db_param p[] = {DB_STR(me),       DB_U64(my_epoch),
                           DB_STR(me),       DB_U64(my_epoch),
                           DB_STR(me),       DB_STR(el.address),
                           DB_STR(el.cfg->http.listen), DB_U64(lease_us),
                           DB_STR(me),       DB_U64(my_epoch)};
    n = db_exec(&el.db, elect_sql_update_nolock, p, 10);
  }
  if (n < 0) return -1;
  if (n == 0) return 0;
  struct db_param q[] = {DB_STR(me)};
  struct db_rows r;
  if (db_query(&el.db, elect_sql_epoch, q, 1, &r) < 0) return -1;
  int rc = 0;
  if (r.nrows == 1 && db_cell(&r, 0, 0) != NULL) {
    *epoch = strtoull(db_cell(&r, 0, 0), NULL, 10);
    rc = 1;
  }
  db_rows_free(&r);
  return rc;
}

static void elect_set_view(const struct lease_view *v) {
  pthread_mutex_lock(&el.lock);
  el.view = *v;
  pthread_mutex_unlock(&el.lock);
  elect_publish();
}

static void *elect_main(void *unused) {
  struct lease_view v = {0};
  bool db_reported = false;
  for (;;) {
    pthread_mutex_lock(&el.lock);
    bool stop = el.stop, stepdown = el.stepdown;
    char reason[sizeof(el.stepdown_reason)];
    memcpy(reason, el.stepdown_reason, sizeof(reason));
    el.stepdown = false;
    pthread_mutex_unlock(&el.lock);
    if (stop) break;

    if (stepdown) {
      if (v.master)
        log_warn("election: stepping down from epoch %llu: %s",
                 (unsigned long long)v.epoch, reason);
      lease_reset(&v);
      elect_set_view(&v);
      elect_drop_session(); /* frees the named lock at once */
      elect_sleep(el.cfg->master.renew_ms);
      continue;
    }

    if (el.db.m == NULL && elect_connect() < 0) {
      if (!db_reported) {
        log_error("election: %s; retrying", el.db.err);
        db_reported = true;
      }
      enum lease_outcome o =
          lease_apply(&v, -1, 0, 0, clock_mono_ms(), el.cfg->master.lease_ms);
      if (o == LEASE_EXPIRED) {
        log_warn("election: lease not renewed in time (MariaDB unreachable); "
                 "stepping down");
        elect_set_view(&v);
      }
      elect_sleep(el.cfg->master.renew_ms);
      continue;
    }
    if (db_reported) {
      log_info("election: MariaDB session re-established");
      db_reported = false;
    }

    /* A candidate waits in GET_LOCK for up to one renewal period: it
     * returns at once if the master's lock session dies. */
    bool waited = false;
    if (elect_lock_takeover() && !el.holding_lock) {
      unsigned wait_s = v.master ? 0 : (el.cfg->master.renew_ms + 999) / 1000;
      uint64_t t0 = clock_mono_ms();
      if (elect_try_lock(wait_s) < 0) goto db_error;
      waited = clock_mono_ms() - t0 >= el.cfg->master.renew_ms / 2;
    }

    uint64_t sent = clock_mono_ms();
    uint64_t epoch = 0;
    uint64_t prev_epoch = v.epoch;
    int rc = elect_attempt(v.epoch, &epoch);
    if (rc < 0) goto db_error;
    enum lease_outcome o =
        lease_apply(&v, rc, epoch, sent, clock_mono_ms(), el.cfg->master.lease_ms);
    switch (o) {
    case LEASE_ACQUIRED:
      if (prev_epoch != 0)
        log_warn("election: epoch changed under us (%llu -> %llu)",
                 (unsigned long long)prev_epoch, (unsigned long long)epoch);
      log_info("election: became master with epoch %llu%s",
               (unsigned long long)epoch,
               el.holding_lock ? "" : " (without the named lock)");
      elect_set_view(&v);
      break;
    case LEASE_RENEWED:
      elect_set_view(&v);
      break;
    case LEASE_LOST:
      log_warn("election: lease lost to another node; stepping down");
      elect_set_view(&v);
      elect_drop_session();
      break;
    default:
      break;
    }
    if (!v.master && el.holding_lock) {
      /* We hold the lock but the lease is alive elsewhere (a master that
       * resumed after a pause released it): give it back so the master can
       * re-arm fast failover, and stay away for a while. */
      elect_release_lock();
      elect_sleep(el.cfg->master.renew_ms * 2);
      continue;
    }
    if (v.master) {
      uint64_t now = clock_mono_ms();
      uint64_t next = sent + el.cfg->master.renew_ms;
      if (next > now) elect_sleep((uint32_t)(next - now));
    } else if (!waited) {
      elect_sleep(el.cfg->master.renew_ms);
    }
    continue;

  db_error:
    log_warn("election: %s", el.db.err);
    {
      enum lease_outcome e =
          lease_apply(&v, -1, 0, 0, clock_mono_ms(), el.cfg->master.lease_ms);
      if (e == LEASE_EXPIRED) {
        log_warn("election: lease not renewed in time; stepping down");
        elect_set_view(&v);
      }
    }
    elect_drop_session();
    elect_sleep(el.cfg->master.renew_ms / 2);
  }

  if (v.master && el.db.m != NULL) {
    struct db_param p[] = {DB_STR(el.cfg->node.name), DB_U64(v.epoch)};
    if (db_exec(&el.db, elect_sql_resign, p, 2) > 0)
      log_info("election: resigned the lease (epoch %llu)",
               (unsigned long long)v.epoch);
  }
  lease_reset(&v);
  pthread_mutex_lock(&el.lock);
  el.view = v;
  pthread_mutex_unlock(&el.lock);
  elect_drop_session();
  return NULL;
}

int elect_start(struct ev_loop *loop, const struct cfg *cfg,
                elect_change_fn on_change) {
  el.loop = loop;
  el.cfg = cfg;
  el.on_change = on_change;
  /* Named locks are server-wide: scope ours to the database. */
  snprintf(el.lock_name, sizeof(el.lock_name), "heracron.master.%.40s",
           cfg->db.database);
  snprintf(el.address, sizeof(el.address), "%s", cfg->node.address);
  db_conn_init(&el.db, 5);
  ev_async_init(&el.notify, elect_notify_cb);
  ev_async_start(loop, &el.notify);
  ev_unref(loop);
  int rc = pthread_create(&el.thread, NULL, elect_main, NULL);
  if (rc != 0) {
    log_error("election: cannot start thread: %s", strerror(rc));
    return -1;
  }
  el.started = true;
  return 0;
}

void elect_step_down(const char *reason) {
  pthread_mutex_lock(&el.lock);
  el.stepdown = true;
  snprintf(el.stepdown_reason, sizeof(el.stepdown_reason), "%s", reason);
  lease_reset(&el.view);
  pthread_cond_signal(&el.cond);
  pthread_mutex_unlock(&el.lock);
}

void elect_stop(void) {
  if (!el.started) return;
  pthread_mutex_lock(&el.lock);
  el.stop = true;
  pthread_cond_signal(&el.cond);
  pthread_mutex_unlock(&el.lock);
  pthread_join(el.thread, NULL);
  el.started = false;
  ev_ref(el.loop);
  ev_async_stop(el.loop, &el.notify);
}
