#include "config.h"

#include "master/sched.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/node.h"
#include "master/run.h"
#include "sched/cron.h"
#include "sched/tz.h"
#include "sched/version.h"
#include "store/elect.h"
#include "store/store.h"
#include "util/log.h"

#define SCHED_FIRE_S 0.2  /* due actions are looked for this often */
#define SCHED_GEN_S 2.0   /* job changes are looked for this often */
#define SCHED_DAYS 2      /* horizon: today and tomorrow */
#define SCHED_MAX_PER_JOB 200000

static struct {
  bool active;
  uint64_t epoch;
  ev_timer fire, gen, exact; /* exact: the next due time, if soon */
  bool fire_pending, gen_pending;
  bool fire_again; /* asked for while one was running */
  /* Store-thread state between generations (ops run one at a time). */
  char watermark[128];
  uint32_t *gen_rev; /* job id -> revision last written (sparse: calloc'd) */
} sc;

static void sched_fenced(const struct store_op *op) {
  if (sc.active && op->epoch == sc.epoch) {
    log_warn("sched: a write was refused by the fence; stepping down");
    elect_step_down("a fenced write was refused");
  }
}

/* ---- generation (store thread) ----------------------------------------- */

struct sched_job {
  uint32_t id, revision;
  bool has_cron;
  char cron[256], tz[65];
  uint32_t *ups; /* upstream job ids */
  size_t nups;
  struct version *v; /* generated, sorted by id */
  size_t nv;
  bool done;
};

static const char sched_sql_mark[] =
    "SELECT CONCAT(COALESCE(MAX(updated_at), ''), '/', COUNT(*), '/',"
    " (SELECT COUNT(*) FROM job_upstreams), '/', DATE(NOW())) FROM jobs";
static const char sched_sql_jobs[] =
    "SELECT id, revision, COALESCE(cron, ''), tz FROM jobs ORDER BY id";
static const char sched_sql_edges[] =
    "SELECT job_id, upstream_id FROM job_upstreams ORDER BY job_id, "
    "upstream_id";
static const char sched_sql_withdraw[] =
    "UPDATE actions SET status = 'WITHDRAWN' WHERE job_id = ? AND "
    "status = 'WAITING' AND revision <> ?";
#define SCHED_UPSERT_HEAD "INSERT INTO actions (id, job_id, fire_at, revision) VALUES "
#define SCHED_UPSERT_ROW "(?, ?, FROM_UNIXTIME(?), ?)"
#define SCHED_UPSERT_TAIL                                                     \
  " ON DUPLICATE KEY UPDATE"                                                  \
  " fire_at = IF(status IN ('WAITING', 'WITHDRAWN'), VALUES(fire_at), fire_at),"\
  " status = IF(status = 'WITHDRAWN', 'WAITING', status),"                    \
  " revision = VALUES(revision)"
#define SCHED_DEP_HEAD "INSERT IGNORE INTO action_deps (action_id, upstream_id) VALUES "
#define SCHED_DEP_ROW "(?, ?)"
static const char sched_sql_upsert[] =
    SCHED_UPSERT_HEAD SCHED_UPSERT_ROW SCHED_UPSERT_TAIL;
static const char sched_sql_dep[] = SCHED_DEP_HEAD SCHED_DEP_ROW;

/* Versions are written SCHED_BATCH rows a statement: a job due every
 * minute has 2,880 of them, and one statement a row kept the store thread
 * (and so every other write of the master) busy for seconds. */
#define SCHED_BATCH 200

struct sched_batch {
  const char *one;  /* the statement for one row */
  char *many;       /* owned: the statement for SCHED_BATCH rows */
  int width, n;     /* parameters a row; rows held */
  struct db_param p[SCHED_BATCH * 4];
};

static char *sched_many_sql(const char *head, const char *row,
                            const char *tail) {
  size_t len = strlen(head) + SCHED_BATCH * (strlen(row) + 1) + strlen(tail) + 1;
  char *sql = malloc(len);
  if (sql == NULL) return NULL;
  char *p = sql + sprintf(sql, "%s", head);
  for (int i = 0; i < SCHED_BATCH; i++) p += sprintf(p, "%s%s", i ? "," : "", row);
  sprintf(p, "%s", tail);
  return sql;
}

/* Writes the rows held: all at once if a full batch, else one by one. */
static int sched_batch_flush(struct db_conn *db, struct sched_batch *b) {
  int rc = 0;
  if (b->n == SCHED_BATCH && b->many != NULL)
    rc = db_exec(db, b->many, b->p, b->n * b->width) < 0 ? -1 : 0;
  else
    for (int i = 0; i < b->n && rc == 0; i++)
      rc = db_exec(db, b->one, b->p + i * b->width, b->width) < 0 ? -1 : 0;
  b->n = 0;
  return rc;
}

/* Store thread only. */
static struct sched_batch sched_ups = {.one = sched_sql_upsert, .width = 4};
static struct sched_batch sched_deps = {.one = sched_sql_dep, .width = 2};

static int sched_batch_add(struct db_conn *db, struct sched_batch *b,
                           const struct db_param *row) {
  memcpy(b->p + b->n * b->width, row, (size_t)b->width * sizeof(*row));
  return ++b->n == SCHED_BATCH ? sched_batch_flush(db, b) : 0;
}
/* Only the versions about to be written again: a waiting one whose time
 * has passed keeps its upstreams (after a takeover it still has to run). */
static const char sched_sql_dep_clear[] =
    "DELETE d FROM action_deps d JOIN actions a ON a.id = d.action_id "
    "WHERE a.job_id = ? AND a.status IN ('WAITING', 'WITHDRAWN')"
    " AND a.fire_at >= FROM_UNIXTIME(?)";

static struct sched_job *sched_find(struct sched_job *jobs, size_t n,
                                    uint32_t id) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (jobs[mid].id == id) return &jobs[mid];
    if (jobs[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

/* [start of today, start of today + days) in zone z, as UTC. */
static void sched_horizon(const struct tz *z, int64_t now, int64_t *from,
                          int64_t *to) {
  struct civil lc;
  civil_from_epoch(now + tz_offset(z, now), &lc);
  int64_t day = civil_days(lc.year, lc.month, lc.day) * 86400;
  int64_t u[2];
  *from = tz_to_utc(z, day, u) > 0 ? u[0] : day - tz_offset(z, day);
  int64_t end = day + SCHED_DAYS * 86400;
  *to = tz_to_utc(z, end, u) > 0 ? u[0] : end - tz_offset(z, end);
}

static int sched_cron_versions(struct sched_job *j, int64_t now, char *err,
                               size_t errlen) {
  struct cron c;
  char msg[256];
  if (cron_parse(j->cron, &c, msg, sizeof(msg)) < 0) {
    snprintf(err, errlen, "job %u: bad cron: %s", j->id, msg);
    return 0; /* skip it, do not fail the rest */
  }
  struct tz *z = tz_load(j->tz, msg, sizeof(msg));
  if (z == NULL) return 0;
  int64_t from, to;
  sched_horizon(z, now, &from, &to);
  size_t cap = 1024;
  j->v = malloc(cap * sizeof(*j->v));
  while (j->v != NULL) {
    j->nv = 0;
    if (version_for_cron(&c, z, j->id, from, to, j->v, cap, &j->nv) == 0) break;
    if (cap >= SCHED_MAX_PER_JOB) break; /* keep what fits */
    cap *= 4;
    struct version *nv = realloc(j->v, cap * sizeof(*j->v));
    if (nv == NULL) break;
    j->v = nv;
  }
  tz_free(z);
  return 0;
}

/* Versions of a dependent job, day by day, with their matched upstream
 * actions in *deps (nv * nups). */
static int64_t *sched_dep_versions(struct sched_job *j, struct sched_job *jobs,
                                   size_t njobs) {
  struct sched_job **up = calloc(j->nups, sizeof(*up));
  const struct version **lists = calloc(j->nups, sizeof(*lists));
  size_t *counts = calloc(j->nups, sizeof(*counts));
  size_t cap = 16;
  for (size_t k = 0; up && k < j->nups; k++) {
    up[k] = sched_find(jobs, njobs, j->ups[k]);
    if (up[k] == NULL || up[k]->nv == 0) goto none;
    if (up[k]->nv > cap) cap = up[k]->nv;
  }
  if (!up || !lists || !counts) goto none;
  j->v = malloc(cap * sizeof(*j->v));
  int64_t *deps = malloc(cap * j->nups * sizeof(int64_t));
  if (j->v == NULL || deps == NULL) {
    free(deps);
    goto none;
  }
  /* days come from the first upstream; each day is a run of ids */
  size_t pos0 = 0;
  while (pos0 < up[0]->nv) {
    int64_t day = version_day(up[0]->v[pos0].id);
    for (size_t k = 0; k < j->nups; k++) {
      size_t a = 0;
      while (a < up[k]->nv && version_day(up[k]->v[a].id) < day) a++;
      size_t b = a;
      while (b < up[k]->nv && version_day(up[k]->v[b].id) == day) b++;
      lists[k] = up[k]->v + a;
      counts[k] = b - a;
    }
    j->nv += version_dependent(j->id, lists, counts, j->nups, j->v + j->nv,
                               deps + j->nv * j->nups, cap - j->nv);
    while (pos0 < up[0]->nv && version_day(up[0]->v[pos0].id) == day) pos0++;
  }
  free(up);
  free(lists);
  free(counts);
  return deps;
none:
  free(up);
  free(lists);
  free(counts);
  return NULL;
}

/* One generation.  Computing is done once; writing goes SCHED_CHUNK rows
 * an operation (a transaction each), so the fence's share lock on the
 * lease row is never held long enough to delay the lease's renewal, and
 * the master's other writes go in between. */
#define SCHED_CHUNK 20000

struct sched_gen_op {
  struct store_op op;
  bool computed, finished;
  char mark[128];
  bool new_day;
  int64_t now;
  struct sched_job *jobs; /* owned, n of them */
  size_t n;
  uint32_t *edges;        /* owned */
  int64_t **deps;         /* owned: per job, matched upstream versions */
  size_t job, ver;        /* where the next chunk starts (set by done) */
  size_t next_job, next_ver; /* where this chunk ended */
  size_t written; /* actions written */
  int jobs_done;  /* jobs regenerated */
};

static void sched_gen_free(struct sched_gen_op *g) {
  for (size_t i = 0; g->jobs && i < g->n; i++) {
    free(g->jobs[i].v);
    if (g->deps) free(g->deps[i]);
  }
  free(g->deps);
  free(g->jobs);
  free(g->edges);
  g->jobs = NULL;
  g->deps = NULL;
  g->edges = NULL;
  g->computed = false;
}

/* Reads the jobs and computes every version; 1 if there is nothing to do. */
static int sched_gen_compute(struct db_conn *db, struct sched_gen_op *g) {
  struct db_rows r, e;
  if (db_query(db, sched_sql_mark, NULL, 0, &r) < 0) return -1;
  snprintf(g->mark, sizeof(g->mark), "%s", r.nrows ? db_cell(&r, 0, 0) : "");
  db_rows_free(&r);
  if (strcmp(g->mark, sc.watermark) == 0) return 1; /* nothing changed */
  if (db_query(db, sched_sql_jobs, NULL, 0, &r) < 0) return -1;
  if (db_query(db, sched_sql_edges, NULL, 0, &e) < 0) {
    db_rows_free(&r);
    return -1;
  }
  size_t n = (size_t)r.nrows;
  g->n = n;
  g->jobs = calloc(n ? n : 1, sizeof(*g->jobs));
  g->edges = calloc((size_t)e.nrows + 1, sizeof(uint32_t));
  g->deps = calloc(n ? n : 1, sizeof(*g->deps));
  struct sched_job *jobs = g->jobs;
  int rc = -1;
  if (jobs == NULL || g->edges == NULL || g->deps == NULL) goto out;
  for (size_t i = 0; i < n; i++) {
    jobs[i].id = (uint32_t)strtoul(db_cell(&r, (int)i, 0), NULL, 10);
    jobs[i].revision = (uint32_t)strtoul(db_cell(&r, (int)i, 1), NULL, 10);
    snprintf(jobs[i].cron, sizeof(jobs[i].cron), "%s", db_cell(&r, (int)i, 2));
    snprintf(jobs[i].tz, sizeof(jobs[i].tz), "%s", db_cell(&r, (int)i, 3));
    jobs[i].has_cron = jobs[i].cron[0] != '\0';
  }
  for (int i = 0; i < e.nrows; i++) { /* edges sorted by job id */
    struct sched_job *j = sched_find(jobs, n, (uint32_t)strtoul(db_cell(&e, i, 0), NULL, 10));
    g->edges[i] = (uint32_t)strtoul(db_cell(&e, i, 1), NULL, 10);
    if (j == NULL) continue;
    if (j->ups == NULL) j->ups = &g->edges[i];
    j->nups++;
  }
  g->now = (int64_t)time(NULL);
  char err[300] = "";
  for (size_t i = 0; i < n; i++)
    if (jobs[i].has_cron) {
      sched_cron_versions(&jobs[i], g->now, err, sizeof(err));
      jobs[i].done = true;
    }
  /* dependents after their upstreams (the graph has no cycles) */
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t i = 0; i < n; i++) {
      if (jobs[i].done || jobs[i].nups == 0) continue;
      bool ready = true;
      for (size_t k = 0; k < jobs[i].nups && ready; k++) {
        struct sched_job *u = sched_find(jobs, n, jobs[i].ups[k]);
        ready = u == NULL || u->done;
      }
      if (!ready) continue;
      g->deps[i] = sched_dep_versions(&jobs[i], jobs, n);
      jobs[i].done = progress = true;
    }
  }
  if (err[0]) log_warn("sched: %s", err);
  if (sc.gen_rev == NULL) sc.gen_rev = calloc(VERSION_JOB_MAX + 1, sizeof(uint32_t));
  g->new_day = strcmp(strrchr(g->mark, '/') ? strrchr(g->mark, '/') : "",
                      strrchr(sc.watermark, '/') ? strrchr(sc.watermark, '/') : "") != 0;
  g->computed = true;
  g->job = g->ver = 0;
  rc = 0;
out:
  db_rows_free(&r);
  db_rows_free(&e);
  return rc;
}

/* Whether job i's versions must be written (it or an upstream changed). */
static bool sched_gen_needed(const struct sched_gen_op *g, size_t i) {
  const struct sched_job *j = &g->jobs[i];
  if (sc.gen_rev == NULL || sc.gen_rev[j->id] != j->revision || g->new_day)
    return true;
  for (size_t k = 0; k < j->nups; k++) {
    const struct sched_job *u = sched_find(g->jobs, g->n, j->ups[k]);
    if (u && sc.gen_rev[u->id] != u->revision) return true;
  }
  return false;
}

/* Writes versions from (g->job, g->ver) on, up to SCHED_CHUNK of them. */
static int sched_gen_write(struct db_conn *db, struct sched_gen_op *g) {
  size_t rows = 0, i = g->job, v = g->ver;
  sched_ups.n = sched_deps.n = 0;
  for (; i < g->n && rows < SCHED_CHUNK; i++, v = 0) {
    struct sched_job *j = &g->jobs[i];
    if (!sched_gen_needed(g, i)) continue;
    if (v == 0) { /* the job's first chunk */
      struct db_param w[] = {DB_U64(j->id), DB_U64(j->revision)};
      struct db_param dc[] = {DB_U64(j->id), DB_I64(g->now)};
      if (db_exec(db, sched_sql_withdraw, w, 2) < 0 ||
          (j->nups && db_exec(db, sched_sql_dep_clear, dc, 2) < 0))
        return -1;
      g->jobs_done++;
    }
    for (; v < j->nv && rows < SCHED_CHUNK; v++) {
      /* A time already past when the version is first written is not a
       * misfire: the job did not exist, or had another schedule, then.
       * (Existing rows are left alone: those follow the misfire policy.) */
      if (j->v[v].fire_at < g->now) continue;
      struct db_param p[] = {DB_I64(j->v[v].id), DB_U64(j->id),
                             DB_I64(j->v[v].fire_at), DB_U64(j->revision)};
      if (sched_batch_add(db, &sched_ups, p) < 0) return -1;
      for (size_t k = 0; g->deps[i] && k < j->nups; k++) {
        struct db_param d[] = {DB_I64(j->v[v].id),
                               DB_I64(g->deps[i][v * j->nups + k])};
        if (sched_batch_add(db, &sched_deps, d) < 0) return -1;
      }
      rows++;
    }
    if (v < j->nv) break; /* the chunk is full inside this job */
  }
  if (sched_batch_flush(db, &sched_ups) < 0 ||
      sched_batch_flush(db, &sched_deps) < 0)
    return -1;
  g->written += rows;
  g->next_job = i;
  g->next_ver = i < g->n ? v : 0;
  if (i >= g->n) {
    /* Applied when the last transaction commits; if it does not, the next
     * generation rewrites everything (writes are idempotent). */
    snprintf(sc.watermark, sizeof(sc.watermark), "%s", g->mark);
    for (size_t k = 0; k < g->n && sc.gen_rev; k++)
      sc.gen_rev[g->jobs[k].id] = g->jobs[k].revision;
  }
  return 0;
}

static int sched_gen_work(struct db_conn *db, struct store_op *op) {
  struct sched_gen_op *g = (struct sched_gen_op *)op;
  if (!g->computed) {
    if (sched_ups.many == NULL) {
      sched_ups.many = sched_many_sql(SCHED_UPSERT_HEAD, SCHED_UPSERT_ROW,
                                      SCHED_UPSERT_TAIL);
      sched_deps.many = sched_many_sql(SCHED_DEP_HEAD, SCHED_DEP_ROW, "");
    }
    /* Reading and computing: unfenced, so the lease row is not locked
     * meanwhile.  Writing follows in fenced chunks. */
    int rc = sched_gen_compute(db, g);
    if (rc != 0) g->finished = true;
    return rc < 0 ? -1 : 0;
  }
  return sched_gen_write(db, g);
}

static void sched_gen_done(struct store_op *op) {
  struct sched_gen_op *g = (struct sched_gen_op *)op;
  if (op->status == STORE_OK && !g->finished && g->computed && sc.active &&
      (op->epoch == 0 || g->next_job < g->n)) {
    if (op->epoch != 0) { /* a chunk committed: go on after it */
      g->job = g->next_job;
      g->ver = g->next_ver;
    }
    op->epoch = sc.epoch;
    store_submit(&g->op);
    return;
  }
  sc.gen_pending = false;
  if (op->status == STORE_FENCED) sched_fenced(op);
  else if (op->status != STORE_OK) {
    sc.watermark[0] = '\0'; /* write everything again next time */
    if (sc.gen_rev) memset(sc.gen_rev, 0, (VERSION_JOB_MAX + 1) * sizeof(uint32_t));
  } else if (g->jobs_done > 0)
    log_info("sched: versions of %d job(s) written (%zu actions)",
             g->jobs_done, g->written);
  sched_gen_free(g);
  free(g);
}

static void sched_gen_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  if (!sc.active || sc.gen_pending) return;
  struct sched_gen_op *g = calloc(1, sizeof(*g));
  if (g == NULL) return;
  g->op.work = sched_gen_work;
  g->op.done = sched_gen_done;
  g->op.epoch = 0; /* computing reads only; the writes are fenced */
  sc.gen_pending = true;
  store_submit(&g->op);
}

/* ---- firing ------------------------------------------------------------ */

static const char sched_sql_skip[] =
    "UPDATE actions a JOIN jobs j ON j.id = a.job_id SET a.status = 'SKIPPED' "
    "WHERE a.status = 'WAITING' AND j.misfire = 'skip' AND j.cron IS NOT NULL"
    " AND a.fire_at < NOW(6) - INTERVAL 60 SECOND";
static const char sched_sql_due[] =
    "UPDATE actions a JOIN jobs j ON j.id = a.job_id SET a.status = 'FIRING' "
    "WHERE a.status = 'WAITING' AND a.fire_at <= NOW(6) AND j.enabled = 1"
    " AND j.cron IS NOT NULL AND a.revision = j.revision";
static const char sched_sql_ready[] =
    "SELECT a.id FROM actions a JOIN jobs j ON j.id = a.job_id "
    "WHERE a.status = 'WAITING' AND j.enabled = 1 AND j.cron IS NULL"
    " AND a.revision = j.revision"
    " AND EXISTS (SELECT 1 FROM action_deps d WHERE d.action_id = a.id)"
    " AND NOT EXISTS (SELECT 1 FROM action_deps d JOIN actions u"
    "  ON u.id = d.upstream_id WHERE d.action_id = a.id"
    "  AND u.status <> 'SUCCEEDED') LIMIT 1000";
static const char sched_sql_fire_one[] =
    "UPDATE actions SET status = 'FIRING' WHERE id = ? AND status = 'WAITING'";
static const char sched_sql_instances[] =
    "INSERT INTO instances (action_id, job_id, trigger_kind, status,"
    " host_group) SELECT a.id, a.job_id, 'SCHEDULE', 'QUEUED', j.host_group "
    "FROM actions a JOIN jobs j ON j.id = a.job_id WHERE a.status = 'FIRING'";
static const char sched_sql_queued[] =
    "UPDATE actions SET status = 'QUEUED' WHERE status = 'FIRING'";

/* Backfills: each lets its next days into the manual queue while fewer
 * than its parallel count are under way. */
static const char sched_sql_reruns[] =
    "SELECT r.id, CAST(r.parallel AS SIGNED) - (SELECT COUNT(*) FROM instances x"
    "  WHERE x.rerun_id = r.id AND x.status IN ('QUEUED', 'DISPATCHED',"
    "  'RUNNING')) FROM reruns r WHERE r.id IN (SELECT rerun_id FROM"
    " instances WHERE status = 'WAITING' AND rerun_id IS NOT NULL)";
static const char sched_sql_rerun_next[] =
    "UPDATE instances SET status = 'QUEUED', queued_at = NOW(6) "
    "WHERE rerun_id = ? AND status = 'WAITING' ORDER BY bizdate, id LIMIT ?";

/* Seconds until the next cron action is due, so the master can wake up
 * right then instead of at its next tick. */
static const char sched_sql_next[] =
    "SELECT TIMESTAMPDIFF(MICROSECOND, NOW(6), MIN(a.fire_at)) "
    "FROM actions a JOIN jobs j ON j.id = a.job_id "
    "WHERE a.status = 'WAITING' AND j.enabled = 1 AND j.cron IS NOT NULL"
    " AND a.revision = j.revision AND a.fire_at > NOW(6)";

struct sched_fire_op {
  struct store_op op;
  int64_t fired;
  double next_in; /* seconds; < 0 if unknown */
};

static int sched_reruns_work(struct db_conn *db, int64_t *fired) {
  struct db_rows r;
  if (db_query(db, sched_sql_reruns, NULL, 0, &r) < 0) return -1;
  for (int i = 0; i < r.nrows; i++) {
    long long slots = strtoll(db_cell(&r, i, 1), NULL, 10);
    if (slots <= 0) continue;
    struct db_param p[] = {DB_I64(strtoll(db_cell(&r, i, 0), NULL, 10)),
                           DB_I64(slots)};
    int64_t n = db_exec(db, sched_sql_rerun_next, p, 2);
    if (n < 0) {
      db_rows_free(&r);
      return -1;
    }
    *fired += n;
  }
  db_rows_free(&r);
  return 0;
}

static int sched_fire_work(struct db_conn *db, struct store_op *op) {
  struct sched_fire_op *f = (struct sched_fire_op *)op;
  struct db_rows r;
  if (db_exec(db, sched_sql_skip, NULL, 0) < 0 ||
      db_exec(db, sched_sql_due, NULL, 0) < 0 ||
      db_query(db, sched_sql_ready, NULL, 0, &r) < 0)
    return -1;
  for (int i = 0; i < r.nrows; i++) {
    struct db_param p[] = {DB_I64(strtoll(db_cell(&r, i, 0), NULL, 10))};
    if (db_exec(db, sched_sql_fire_one, p, 1) < 0) {
      db_rows_free(&r);
      return -1;
    }
  }
  db_rows_free(&r);
  f->fired = db_exec(db, sched_sql_instances, NULL, 0);
  if (f->fired < 0 || db_exec(db, sched_sql_queued, NULL, 0) < 0 ||
      sched_reruns_work(db, &f->fired) < 0 ||
      db_query(db, sched_sql_next, NULL, 0, &r) < 0)
    return -1;
  f->next_in = r.nrows && db_cell(&r, 0, 0)
                   ? strtod(db_cell(&r, 0, 0), NULL) / 1e6
                   : -1.0;
  db_rows_free(&r);
  return 0;
}

static void sched_fire_cb(struct ev_loop *loop, ev_timer *t, int revents);

static void sched_fire_done(struct store_op *op) {
  struct sched_fire_op *f = (struct sched_fire_op *)op;
  sc.fire_pending = false;
  if (op->status == STORE_FENCED) sched_fenced(op);
  else if (op->status == STORE_OK && f->fired > 0) {
    log_info("sched: %lld action(s) queued", (long long)f->fired);
    run_poll_now(); /* they go out now, not at the queue's next read */
  }
  /* Due before the next tick: wake up exactly then. */
  if (sc.active && op->status == STORE_OK && f->next_in >= 0 &&
      f->next_in < SCHED_FIRE_S) {
    ev_timer_stop(node.loop, &sc.exact);
    ev_timer_set(&sc.exact, f->next_in + 0.0002, 0.);
    ev_timer_start(node.loop, &sc.exact);
  }
  free(f);
  if (sc.fire_again) {
    sc.fire_again = false;
    sched_fire_cb(node.loop, &sc.fire, 0);
  }
}

void sched_kick(void) { sched_fire_cb(node.loop, &sc.fire, 0); }

static void sched_fire_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  if (!sc.active) return;
  if (sc.fire_pending) {
    if (t != &sc.fire || revents == 0) sc.fire_again = true; /* not the tick */
    return;
  }
  struct sched_fire_op *f = calloc(1, sizeof(*f));
  if (f == NULL) return;
  f->op.work = sched_fire_work;
  f->op.done = sched_fire_done;
  f->op.epoch = sc.epoch;
  sc.fire_pending = true;
  store_submit(&f->op);
}

void sched_start(uint64_t epoch) {
  sc.active = true;
  sc.epoch = epoch;
  sc.fire_pending = sc.gen_pending = false;
  /* A new term writes everything again (another master may have written
   * meanwhile); the ops run in order on the store thread, so this is
   * seen before the first generation of the term. */
  sc.watermark[0] = '\0';
  if (sc.gen_rev) memset(sc.gen_rev, 0, (VERSION_JOB_MAX + 1) * sizeof(uint32_t));
  ev_timer_init(&sc.gen, sched_gen_cb, 0., SCHED_GEN_S);
  ev_timer_start(node.loop, &sc.gen);
  ev_timer_init(&sc.fire, sched_fire_cb, 0.1, SCHED_FIRE_S);
  ev_timer_start(node.loop, &sc.fire);
  ev_init(&sc.exact, sched_fire_cb);
}

void sched_stop(void) {
  if (!sc.active) return;
  sc.active = false;
  ev_timer_stop(node.loop, &sc.gen);
  ev_timer_stop(node.loop, &sc.fire);
  ev_timer_stop(node.loop, &sc.exact);
}
