#include "config.h"

#include "master/fanout.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/run.h"
#include "store/db.h"
#include "util/text.h"

static const char fanout_sql_start[] =
    "UPDATE instances SET status = 'RUNNING', started_at = NOW(6) "
    "WHERE id = ? AND status = 'QUEUED' AND parent_id IS NULL";
static const char fanout_sql_part[] =
    "INSERT INTO instances (job_id, trigger_kind, attempt, status, host_group,"
    " script, operator, bizdate, parent_id, shard_index, shard_count,"
    " pin_worker) "
    "SELECT job_id, trigger_kind, 1, 'QUEUED', host_group, script, operator,"
    " COALESCE(bizdate, DATE_FORMAT(COALESCE((SELECT fire_at FROM actions"
    "  WHERE id = p.action_id), queued_at), '%Y%m%d')), id, ?, ?, ? "
    "FROM instances p WHERE id = ?";

int fanout_expand_work(struct db_conn *db, uint64_t parent,
                       const char *const *workers, size_t nworkers,
                       uint32_t shards, int64_t *made) {
  struct db_param p[] = {DB_U64(parent)};
  *made = 0;
  int64_t n = db_exec(db, fanout_sql_start, p, 1);
  if (n <= 0) return n < 0 ? -1 : 0; /* taken or canceled meanwhile */
  uint32_t count = nworkers ? (uint32_t)nworkers : shards;
  for (uint32_t i = 0; i < count; i++) {
    struct db_param q[] = {DB_U64(i), DB_U64(count),
                           nworkers ? DB_STR(workers[i]) : DB_NUL(),
                           DB_U64(parent)};
    if (db_exec(db, fanout_sql_part, q, 4) != 1) return -1;
  }
  *made = count;
  return 0;
}

static const char fanout_sql_root[] =
    "INSERT INTO instances (job_id, trigger_kind, attempt, status, host_group,"
    " script, operator, bizdate, parent_id, shard_index, task_name, task_depth) "
    "SELECT job_id, trigger_kind, 1, 'QUEUED', host_group, script, operator,"
    " COALESCE(bizdate, DATE_FORMAT(COALESCE((SELECT fire_at FROM actions"
    "  WHERE id = p.action_id), queued_at), '%Y%m%d')), id, 0, 'root', 0 "
    "FROM instances p WHERE id = ?";

int fanout_expand_map_work(struct db_conn *db, uint64_t parent, int64_t *made) {
  struct db_param p[] = {DB_U64(parent)};
  *made = 0;
  int64_t n = db_exec(db, fanout_sql_start, p, 1);
  if (n <= 0) return n < 0 ? -1 : 0;
  if (db_exec(db, fanout_sql_root, p, 1) != 1) return -1;
  *made = 1;
  return 0;
}

/* The latest attempt of each part of parent, by status. */
static const char fanout_sql_parts[] =
    "SELECT c.status, COUNT(*) FROM instances c WHERE c.parent_id = ?"
    " AND c.id IN (SELECT MAX(id) FROM instances WHERE parent_id = ?"
    "  GROUP BY shard_index) GROUP BY c.status";
static const char fanout_sql_parent_of[] =
    "SELECT c.parent_id, j.min_success_pct, j.fanout, j.map_reduce FROM"
    " instances c JOIN jobs j ON j.id = c.job_id"
    " WHERE c.id = ? AND c.parent_id IS NOT NULL";
static const char fanout_sql_parent_job[] =
    "SELECT p.id, j.min_success_pct, j.fanout, j.map_reduce FROM instances p"
    " JOIN jobs j ON j.id = p.job_id WHERE p.id = ?";
static const char fanout_sql_has_reduce[] =
    "SELECT COUNT(*) FROM instances WHERE parent_id = ? AND task_name = 'reduce'";
static const char fanout_sql_results[] =
    "SELECT COALESCE(c.result, '') FROM instances c WHERE c.parent_id = ?"
    " AND c.status = 'SUCCEEDED' AND c.task_name NOT IN ('root', 'reduce')"
    " ORDER BY c.shard_index";
static const char fanout_sql_reduce[] =
    "INSERT INTO instances (job_id, trigger_kind, attempt, status, host_group,"
    " script, operator, bizdate, parent_id, task_name, task_input, task_depth) "
    "SELECT job_id, trigger_kind, 1, 'QUEUED', host_group, script, operator,"
    " bizdate, parent_id, 'reduce', ?, 0 FROM instances WHERE id = ?"
    " AND task_name = 'root'";
static const char fanout_sql_root_of[] =
    "SELECT MIN(id) FROM instances WHERE parent_id = ? AND task_name = 'root'";
static const char fanout_sql_numbered[] =
    "UPDATE instances SET shard_index = id WHERE id = LAST_INSERT_ID()";

#define FANOUT_REDUCE_MAX (16u << 20) /* bytes of results given to reduce */

/* All sub-tasks of a map job's instance succeeded: its reduce part, with
 * their results one a line.  1 if queued, 0 if not wanted, -1. */
static int fanout_reduce(struct db_conn *db, uint64_t parent) {
  struct db_param p[] = {DB_U64(parent)};
  struct db_rows r;
  if (db_query(db, fanout_sql_results, p, 1, &r) < 0) return -1;
  size_t len = 0;
  for (int i = 0; i < r.nrows; i++) len += strlen(db_cell(&r, i, 0)) + 1;
  if (len > FANOUT_REDUCE_MAX) len = FANOUT_REDUCE_MAX;
  char *in = malloc(len + 1);
  size_t off = 0;
  for (int i = 0; in && i < r.nrows; i++) {
    size_t l = strlen(db_cell(&r, i, 0));
    if (off + l + 1 > len) break;
    memcpy(in + off, db_cell(&r, i, 0), l);
    off += l;
    in[off++] = '\n';
  }
  db_rows_free(&r);
  if (in == NULL) return -1;
  in[off] = '\0';
  struct db_rows root;
  int rc = -1;
  int nr = db_query(db, fanout_sql_root_of, p, 1, &root);
  if (nr == 1 && db_cell(&root, 0, 0)) {
    struct db_param q[] = {DB_STRN(in, off),
                           DB_U64(strtoull(db_cell(&root, 0, 0), NULL, 10))};
    rc = db_exec(db, fanout_sql_reduce, q, 2) == 1 &&
                 db_exec(db, fanout_sql_numbered, NULL, 0) >= 0
             ? 1
             : -1;
  }
  if (nr > 0) db_rows_free(&root);
  free(in);
  return rc;
}
static const char fanout_sql_end[] =
    "UPDATE instances SET status = ?, reason = ?, ended_at = NOW(6),"
    " exit_code = ? WHERE id = ? AND status = 'RUNNING' AND worker = ''";

/* Whether a part of parent is still to run (an index lookup: this runs
 * at the end of every part, and a map may have 100,000 of them). */
static const char fanout_sql_open[] =
    "SELECT 1 FROM instances WHERE parent_id = ? AND status IN"
    " ('WAITING', 'QUEUED', 'DISPATCHED', 'RUNNING') LIMIT 1";

/* Ends parent if none of its parts is still to run. */
static int fanout_try_end(struct db_conn *db, uint64_t parent, long pct,
                          bool shards, bool map, bool reduce) {
  struct db_param p[] = {DB_U64(parent), DB_U64(parent)};
  struct db_rows r;
  int open1 = db_query(db, fanout_sql_open, p, 1, &r);
  if (open1 != 0) {
    if (open1 > 0) db_rows_free(&r);
    return open1 < 0 ? -1 : 0;
  }
  int n = db_query(db, fanout_sql_parts, p, 2, &r);
  if (n < 0) return -1;
  long total = 0, ok = 0, stopped = 0, open = 0;
  for (int i = 0; i < n; i++) {
    const char *st = db_cell(&r, i, 0);
    long k = strtol(db_cell(&r, i, 1), NULL, 10);
    total += k;
    if (!strcmp(st, "SUCCEEDED")) ok += k;
    else if (!strcmp(st, "STOPPED")) stopped += k;
    else if (!strcmp(st, "QUEUED") || !strcmp(st, "DISPATCHED") ||
             !strcmp(st, "RUNNING") || !strcmp(st, "WAITING"))
      open += k;
  }
  db_rows_free(&r);
  if (total == 0 || open > 0) return 0;
  long need = shards || map ? 100 : pct;
  if (map && reduce && ok == total) { /* all mapped: reduce, once */
    struct db_param q[] = {DB_U64(parent)};
    struct db_rows h;
    if (db_query(db, fanout_sql_has_reduce, q, 1, &h) < 1) return -1;
    bool has = strcmp(db_cell(&h, 0, 0), "0") != 0;
    db_rows_free(&h);
    if (!has) return fanout_reduce(db, parent) < 0 ? -1 : 0;
  }
  const char *state = stopped > 0                  ? "STOPPED"
                      : ok * 100 >= need * total   ? "SUCCEEDED"
                                                   : "FAILED";
  char reason[160];
  snprintf(reason, sizeof(reason), "%ld of %ld part(s) succeeded (%ld%% needed)",
           ok, total, need);
  struct db_param e[] = {DB_STR(state), DB_STR(reason),
                         DB_I64(strcmp(state, "SUCCEEDED") ? 1 : 0),
                         DB_U64(parent)};
  int64_t done = db_exec(db, fanout_sql_end, e, 4);
  if (done < 0) return -1;
  if (done == 0) return 0; /* ended already */
  /* as any instance: its action, downstream jobs, alerts; no retry (the
   * parts had theirs) */
  return run_ended_work(db, parent, state, false, NULL, 0);
}

static int fanout_end_of(struct db_conn *db, const char *sql, uint64_t id) {
  struct db_param p[] = {DB_U64(id)};
  struct db_rows r;
  int n = db_query(db, sql, p, 1, &r);
  if (n <= 0) return n;
  uint64_t parent = strtoull(db_cell(&r, 0, 0), NULL, 10);
  long pct = strtol(db_cell(&r, 0, 1), NULL, 10);
  bool shards = strcmp(db_cell(&r, 0, 2), "shards") == 0;
  bool map = strcmp(db_cell(&r, 0, 2), "map") == 0;
  bool reduce = strcmp(db_cell(&r, 0, 3), "1") == 0;
  db_rows_free(&r);
  return fanout_try_end(db, parent, pct, shards, map, reduce);
}

static const char fanout_sql_last_chunk[] =
    "SELECT data FROM instance_logs WHERE instance_id = ? ORDER BY seq DESC "
    "LIMIT 1";
static const char fanout_sql_result[] =
    "UPDATE instances SET result = ? WHERE id = ? AND task_name IS NOT NULL"
    " AND status = 'SUCCEEDED'";

/* A map part's result: the last line of its output (at most 1 KiB). */
static int fanout_result(struct db_conn *db, uint64_t part) {
  struct db_param p[] = {DB_U64(part)};
  struct db_rows r;
  int n = db_query(db, fanout_sql_last_chunk, p, 1, &r);
  if (n <= 0) return n;
  const char *d = db_cell(&r, 0, 0);
  char line[1025];
  size_t len = text_last_line(d, strlen(d), line, sizeof(line));
  struct db_param q[] = {DB_STRN(line, len), DB_U64(part)};
  int rc = db_exec(db, fanout_sql_result, q, 2) < 0 ? -1 : 0;
  db_rows_free(&r);
  return rc;
}

int fanout_part_ended_work(struct db_conn *db, uint64_t part) {
  if (fanout_result(db, part) < 0) return -1;
  return fanout_end_of(db, fanout_sql_parent_of, part);
}

int fanout_parent_check_work(struct db_conn *db, uint64_t parent) {
  struct db_param p[] = {DB_U64(parent)};
  struct db_rows r;
  int open = db_query(db, fanout_sql_open, p, 1, &r);
  if (open != 0) {
    if (open > 0) db_rows_free(&r);
    return open < 0 ? -1 : 0;
  }
  return fanout_end_of(db, fanout_sql_parent_job, parent);
}

static const char fanout_sql_open_parents[] =
    "SELECT p.id FROM instances p WHERE p.status = 'RUNNING' AND p.worker = ''"
    " AND p.parent_id IS NULL AND EXISTS (SELECT 1 FROM instances c"
    "  WHERE c.parent_id = p.id) AND NOT EXISTS (SELECT 1 FROM instances c"
    "  WHERE c.parent_id = p.id"
    "  AND c.status IN ('WAITING', 'QUEUED', 'DISPATCHED', 'RUNNING')) LIMIT 100";

int fanout_settle_work(struct db_conn *db) {
  struct db_rows r;
  if (db_query(db, fanout_sql_open_parents, NULL, 0, &r) < 0) return -1;
  int rc = 0;
  for (int i = 0; i < r.nrows && rc == 0; i++)
    rc = fanout_end_of(db, fanout_sql_parent_job,
                       strtoull(db_cell(&r, i, 0), NULL, 10)) < 0 ? -1 : 0;
  db_rows_free(&r);
  return rc;
}
