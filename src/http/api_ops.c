#include "config.h"

#include "http/api_ops.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/civil.h"
#include "sched/cron.h"
#include "sched/jobdef.h"
#include "sched/tz.h"
#include "store/db.h"

#define API_RERUN_MAX_DAYS 366
#define API_RERUN_MAX_PARALLEL 64

static const char api_sql_last_id[] = "SELECT LAST_INSERT_ID()";

/* id of the row just inserted on c, or -1. */
static long long api_last_id(struct db_conn *c) {
  struct db_rows r;
  if (db_query(c, api_sql_last_id, NULL, 0, &r) < 1) return -1;
  long long id = strtoll(db_cell(&r, 0, 0), NULL, 10);
  db_rows_free(&r);
  return id;
}

/* Splits "/api/<kind>/<id>/<verb>" after prefix: id and verb ("" if
 * none).  Returns false if the id is not a number. */
static bool api_id_verb(const char *path, const char *prefix, long long *id,
                        const char **verb) {
  const char *p = path + strlen(prefix);
  char *end;
  *id = strtoll(p, &end, 10);
  if (end == p || *id <= 0) return false;
  if (*end == '\0') *verb = "";
  else if (*end == '/') *verb = end + 1;
  else return false;
  return true;
}

static const char *api_status_of(struct db_conn *c, const char *sql,
                                 long long id, char *buf, size_t len) {
  struct db_rows r;
  struct db_param p[] = {DB_I64(id)};
  int n = db_query(c, sql, p, 1, &r);
  if (n < 1) return NULL;
  snprintf(buf, len, "%s", db_cell(&r, 0, 0));
  db_rows_free(&r);
  return buf;
}

/* Looks up the owner of what sql (one id parameter) names and checks the
 * caller may change it.  1 if so; 0 with a 404 or 403; -1 with a 503. */
static int api_owned(struct db_conn *c, const char *sql, long long id,
                     const char *kind, const struct http_req *req,
                     struct http_resp *resp) {
  struct db_rows r;
  struct db_param p[] = {DB_I64(id)};
  int n = db_query(c, sql, p, 1, &r);
  if (n < 0) {
    http_error(resp, 503, "database unavailable: %s", c->err);
    return -1;
  }
  if (n == 0) {
    http_error(resp, 404, "no such %s: %lld", kind, id);
    return 0;
  }
  char what[200];
  snprintf(what, sizeof(what), "%s %lld (%s)", kind, id, db_cell(&r, 0, 1));
  int ok = http_may_change(req, resp, what, db_cell(&r, 0, 0));
  db_rows_free(&r);
  return ok;
}

static const char api_sql_action_owner[] =
    "SELECT j.owner, j.name FROM actions a JOIN jobs j ON j.id = a.job_id "
    "WHERE a.id = ?";
static const char api_sql_instance_owner[] =
    "SELECT COALESCE(j.owner, i.operator), COALESCE(j.name, 'debug run') "
    "FROM instances i LEFT JOIN jobs j ON j.id = i.job_id WHERE i.id = ?";

/* ---- actions ----------------------------------------------------------- */

static const char api_sql_actions[] =
    "SELECT a.id, a.job_id, j.name, a.fire_at, a.status, a.instance_id,"
    " (SELECT GROUP_CONCAT(d.upstream_id ORDER BY d.upstream_id)"
    "  FROM action_deps d WHERE d.action_id = a.id) "
    "FROM actions a JOIN jobs j ON j.id = a.job_id "
    "WHERE a.fire_at >= ? AND a.fire_at < ? + INTERVAL 1 DAY"
    " AND (? = 0 OR a.job_id = ?) AND (? = '' OR j.name = ?)"
    " AND a.status <> 'WITHDRAWN' ORDER BY a.fire_at, a.id LIMIT 10000";

void api_actions_list(const struct http_req *req, struct http_resp *resp) {
  const char *date = http_query(req, "date"), *job = http_query(req, "job");
  char day[11];
  struct civil cv;
  if (date != NULL) {
    if (civil_parse(date, &cv) < 0) {
      http_field_error(resp, "date", "must be YYYY-MM-DD");
      return;
    }
  } else {
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    cv = (struct civil){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 0, 0, 0};
  }
  snprintf(day, sizeof(day), "%04d-%02d-%02d", cv.year, cv.month, cv.day);
  char *end = NULL;
  long long job_id = job ? strtoll(job, &end, 10) : 0;
  const char *job_name = job && (end == job || *end != '\0') ? job : "";
  if (*job_name) job_id = 0;
  struct db_param p[] = {DB_STR(day),      DB_STR(day),     DB_I64(job_id),
                         DB_I64(job_id),   DB_STR(job_name), DB_STR(job_name)};
  struct db_rows r;
  if (http_db_read(resp, api_sql_actions, p, 6, &r) < 0) return;
  json_t *list = json_array();
  for (int i = 0; i < r.nrows; i++) {
    json_t *ups = json_array();
    const char *u = db_cell(&r, i, 6);
    while (u && *u) {
      json_array_append_new(ups, json_integer(strtoll(u, &end, 10)));
      u = *end == ',' ? end + 1 : "";
    }
    const char *inst = db_cell(&r, i, 5);
    json_array_append_new(
        list, json_pack("{s:I,s:I,s:s,s:s,s:s,s:o,s:o}", "id",
                        (json_int_t)strtoll(db_cell(&r, i, 0), NULL, 10),
                        "job_id",
                        (json_int_t)strtoll(db_cell(&r, i, 1), NULL, 10),
                        "job", db_cell(&r, i, 2), "fire_at", db_cell(&r, i, 3),
                        "status", db_cell(&r, i, 4), "instance",
                        inst ? json_integer(strtoll(inst, NULL, 10))
                             : json_null(),
                        "upstreams", ups));
  }
  db_rows_free(&r);
  resp->json = json_pack("{s:s,s:o}", "date", day, "actions", list);
}

static const char api_sql_action_status[] =
    "SELECT status FROM actions WHERE id = ?";
/* A recovery run of an action; refused while one of it is under way. */
static const char api_sql_recover[] =
    "INSERT INTO instances (action_id, job_id, trigger_kind, status,"
    " host_group, operator) "
    "SELECT a.id, a.job_id, ?, 'QUEUED', j.host_group, ? "
    "FROM actions a JOIN jobs j ON j.id = a.job_id WHERE a.id = ?"
    " AND NOT EXISTS (SELECT 1 FROM instances x WHERE x.action_id = a.id"
    "  AND x.status IN ('QUEUED', 'DISPATCHED', 'RUNNING'))";
/* Not yet fired: its schedule must not run it a second time. */
static const char api_sql_recover_mark[] =
    "UPDATE actions SET status = 'QUEUED' WHERE id = ? AND status = 'WAITING'";

/* POST /api/actions/{id}/recover  {"chain": bool} */
void api_actions_op(const struct http_req *req, struct http_resp *resp) {
  long long id;
  const char *verb;
  if (!api_id_verb(req->path, "/api/actions/", &id, &verb) ||
      strcmp(verb, "recover") != 0) {
    http_error(resp, 404, "no such resource: %s", req->path);
    return;
  }
  json_t *body = NULL;
  bool chain = false;
  if (req->body_len > 0) {
    if (http_body_json(req, resp, &body) < 0) return;
    json_t *ch = json_object_get(body, "chain");
    if (ch && !json_is_boolean(ch)) {
      json_decref(body);
      http_field_error(resp, "chain", "must be true or false");
      return;
    }
    chain = json_is_true(ch);
    json_decref(body);
  }
  struct db_conn *c = http_db_or_503(resp);
  if (c == NULL) return;
  if (api_owned(c, api_sql_action_owner, id, "action", req, resp) != 1) {
    http_db_put(c);
    return;
  }
  const char *kind = chain ? "SUPER_RECOVERY" : "RECOVERY";
  struct db_param p[] = {DB_STR(kind), DB_STR(req->user.name), DB_I64(id)};
  struct db_param m[] = {DB_I64(id)};
  char st[32];
  long long inst = -1;
  int64_t n = -1;
  if (db_begin(c) == 0 && (n = db_exec(c, api_sql_recover, p, 3)) >= 0 &&
      (n == 0 || ((inst = api_last_id(c)) > 0 &&
                  db_exec(c, api_sql_recover_mark, m, 1) >= 0)) &&
      db_commit(c) == 0) {
    if (n == 1) {
      resp->status = 201;
      resp->json = json_pack("{s:I,s:I,s:s,s:s}", "instance", (json_int_t)inst,
                             "action", (json_int_t)id, "trigger", kind,
                             "status", "QUEUED");
    } else if (api_status_of(c, api_sql_action_status, id, st, sizeof(st)))
      http_error(resp, 409, "action %lld has a run under way", id);
    else
      http_error(resp, 404, "no such action: %lld", id);
  } else {
    http_error(resp, 503, "database unavailable: %s", c->err);
    db_rollback(c);
  }
  http_db_put(c);
}

/* ---- instances --------------------------------------------------------- */

static const char api_sql_inst_status[] =
    "SELECT status FROM instances WHERE id = ?";
/* A fan-out instance stops with its parts (queued ones are canceled). */
static const char api_sql_stop[] =
    "UPDATE instances SET stop_requested = 1 "
    "WHERE (id = ? OR parent_id = ?) AND status IN ('DISPATCHED', 'RUNNING')";
static const char api_sql_stop_parts[] =
    "UPDATE instances SET status = 'STOPPED', ended_at = NOW(6),"
    " reason = 'stopped by an operator before it ran' "
    "WHERE parent_id = ? AND status IN ('WAITING', 'QUEUED')";
static const char api_sql_cancel[] =
    "UPDATE instances SET status = 'CANCELED', ended_at = NOW(6),"
    " reason = 'canceled by an operator' "
    "WHERE id = ? AND status IN ('WAITING', 'QUEUED')";
static const char api_sql_cancel_action[] =
    "UPDATE actions a JOIN instances i ON i.action_id = a.id"
    " SET a.status = 'CANCELED', a.instance_id = i.id "
    "WHERE i.id = ? AND a.status IN ('WAITING', 'QUEUED')";
static const char api_sql_retry[] =
    "INSERT INTO instances (action_id, job_id, trigger_kind, status,"
    " host_group, script, operator, bizdate) "
    "SELECT action_id, job_id, trigger_kind, 'QUEUED', host_group, script,"
    " ?, bizdate FROM instances WHERE id = ?"
    " AND status IN ('FAILED', 'TIMED_OUT', 'LOST', 'STOPPED', 'CANCELED')";

/* ---- map ----------------------------------------------------------------- */

#define API_MAP_MAX_ITEMS 10000
#define API_MAP_MAX_ITEM (64u << 10)
#define API_MAP_MAX_DEPTH 3

static const char api_sql_map_part[] =
    "SELECT i.status, COALESCE(i.parent_id, 0), i.task_depth, j.fanout "
    "FROM instances i JOIN jobs j ON j.id = i.job_id WHERE i.id = ?";
/* What a sub-task copies from the part that maps it. */
static const char api_sql_map_from[] =
    "SELECT job_id, trigger_kind, host_group, script, operator, bizdate,"
    " parent_id, task_depth + 1 FROM instances WHERE id = ?";
#define API_MAP_COLS 10 /* parameters per row */

/* Multi-row inserts of 1, 10 and 100 sub-tasks: a few statements to
 * prepare, 100 rows a round trip.  Built once, shared by the threads. */
static const int api_map_sizes[3] = {1, 10, 100};
static char *api_map_sql[3];
static pthread_once_t api_map_once = PTHREAD_ONCE_INIT;

static void api_map_build(void) {
  static const char head[] =
      "INSERT INTO instances (job_id, trigger_kind, attempt, status,"
      " host_group, script, operator, bizdate, parent_id, task_name,"
      " task_input, task_depth) VALUES ";
  static const char row[] = "(?, ?, 1, 'QUEUED', ?, ?, ?, ?, ?, ?, ?, ?)";
  for (int k = 0; k < 3; k++) {
    size_t len = sizeof(head) + (size_t)api_map_sizes[k] * (sizeof(row) + 2);
    char *sql = malloc(len), *p = sql;
    if (sql == NULL) return;
    p += snprintf(p, len, "%s", head);
    for (int i = 0; i < api_map_sizes[k]; i++)
      p += snprintf(p, len - (size_t)(p - sql), "%s%s", i ? ", " : "", row);
    api_map_sql[k] = sql;
  }
}

/* Inserts items[0..n) copying the mapping part's row r; 0 or -1. */
static int api_map_insert(struct db_conn *c, const struct db_rows *r,
                          const char *name, json_t *items, int n) {
  pthread_once(&api_map_once, api_map_build);
  struct db_param *q = calloc(100 * API_MAP_COLS, sizeof(*q)); /* 40 KB */
  if (q == NULL) return -1;
  int at = 0, rc = 0;
  while (rc == 0 && at < n) {
    int k = n - at >= 100 ? 2 : n - at >= 10 ? 1 : 0;
    if (api_map_sql[k] == NULL) {
      rc = -1;
      break;
    }
    for (int i = 0; i < api_map_sizes[k]; i++) {
      json_t *it = json_array_get(items, (size_t)(at + i));
      struct db_param *row = q + i * API_MAP_COLS;
      for (int col = 0; col < 6; col++) /* job ... bizdate */
        row[col] = db_cell(r, 0, col) ? DB_STR(db_cell(r, 0, col)) : DB_NUL();
      row[6] = DB_STR(db_cell(r, 0, 6));
      row[7] = DB_STR(name);
      row[8] = DB_STRN(json_string_value(it), json_string_length(it));
      row[9] = DB_STR(db_cell(r, 0, 7));
    }
    int64_t made = db_exec(c, api_map_sql[k], q, api_map_sizes[k] * API_MAP_COLS);
    if (made != api_map_sizes[k]) rc = -1;
    at += api_map_sizes[k];
  }
  free(q);
  return rc;
}
static const char api_sql_map_number[] =
    "UPDATE instances SET shard_index = id WHERE parent_id = ?"
    " AND shard_index IS NULL";

/* Checks a map request; the number of items, or -1 after a 400. */
static int api_map_items(json_t *body, const char **name,
                         struct http_resp *resp) {
  *name = json_string_value(json_object_get(body, "name"));
  json_t *items = json_object_get(body, "items");
  if (*name == NULL || !jobdef_name_ok(*name) || strlen(*name) > 64) {
    http_field_error(resp, "name", "must be 1-64 of letters, digits, '_', '.' or '-'");
    return -1;
  }
  if (!strcmp(*name, "root") || !strcmp(*name, "reduce")) {
    http_field_error(resp, "name", "'root' and 'reduce' are reserved task names");
    return -1;
  }
  size_t n = json_array_size(items);
  if (!json_is_array(items) || n == 0 || n > API_MAP_MAX_ITEMS) {
    http_field_error(resp, "items", "must be a list of 1-10000 strings");
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    json_t *it = json_array_get(items, i);
    if (!json_is_string(it) || json_string_length(it) > API_MAP_MAX_ITEM) {
      http_field_error(resp, "items", "each item must be a string of at most 64 KiB");
      return -1;
    }
  }
  return (int)n;
}

/* POST /api/instances/{id}/map {"name", "items"}: a running part of a map
 * job adds sub-tasks, persisted (one transaction) before the answer. */
static void api_map(const struct http_req *req, struct http_resp *resp,
                    long long id) {
  char me[64];
  snprintf(me, sizeof(me), "task:%lld", id);
  if (strcmp(req->user.name, me) != 0 && !http_is_admin(req)) {
    http_error(resp, 403, "only instance %lld itself (HERACRON_MAP_TOKEN) or "
               "an administrator may map into it", id);
    return;
  }
  json_t *body;
  const char *name;
  if (http_body_json(req, resp, &body) < 0) return;
  int n = api_map_items(body, &name, resp);
  struct db_conn *c = n < 0 ? NULL : http_db_or_503(resp);
  if (c == NULL) {
    json_decref(body);
    return;
  }
  struct db_param p[] = {DB_I64(id)};
  struct db_rows r;
  int k = db_query(c, api_sql_map_part, p, 1, &r);
  long long parent = 0;
  if (k < 0) {
    http_error(resp, 503, "database unavailable: %s", c->err);
  } else if (k == 0) {
    http_error(resp, 404, "no such instance: %lld", id);
  } else if (strcmp(db_cell(&r, 0, 3), "map") || strcmp(db_cell(&r, 0, 0), "RUNNING") ||
             (parent = strtoll(db_cell(&r, 0, 1), NULL, 10)) == 0) {
    http_error(resp, 409, "instance %lld is not a running part of a map job", id);
  } else if (strtol(db_cell(&r, 0, 2), NULL, 10) + 1 > API_MAP_MAX_DEPTH) {
    http_error(resp, 409, "sub-tasks may map again at most %d deep", API_MAP_MAX_DEPTH);
  }
  if (k > 0) db_rows_free(&r);
  if (resp->json == NULL) {
    json_t *items = json_object_get(body, "items");
    bool ok = db_begin(c) == 0 && db_query(c, api_sql_map_from, p, 1, &r) == 1;
    if (ok) {
      ok = api_map_insert(c, &r, name, items, n) == 0;
      db_rows_free(&r);
    }
    struct db_param pp[] = {DB_I64(parent)};
    if (ok && db_exec(c, api_sql_map_number, pp, 1) >= 0 && db_commit(c) == 0) {
      resp->json = json_pack("{s:I,s:s,s:i}", "instance", (json_int_t)id,
                             "name", name, "mapped", n);
    } else {
      http_error(resp, 503, "database unavailable: %s", c->err);
      db_rollback(c);
    }
  }
  http_db_put(c);
  json_decref(body);
}

/* POST /api/instances/{id}/stop|cancel|retry|map */
void api_instances_op(const struct http_req *req, struct http_resp *resp) {
  long long id;
  const char *verb;
  if (api_id_verb(req->path, "/api/instances/", &id, &verb) &&
      strcmp(verb, "map") == 0) {
    api_map(req, resp, id);
    return;
  }
  if (!api_id_verb(req->path, "/api/instances/", &id, &verb) ||
      (strcmp(verb, "stop") && strcmp(verb, "cancel") && strcmp(verb, "retry"))) {
    http_error(resp, 404, "no such resource: %s", req->path);
    return;
  }
  struct db_conn *c = http_db_or_503(resp);
  if (c == NULL) return;
  if (api_owned(c, api_sql_instance_owner, id, "instance", req, resp) != 1) {
    http_db_put(c);
    return;
  }
  struct db_param p[] = {DB_I64(id)};
  struct db_param rp[] = {DB_STR(req->user.name), DB_I64(id)};
  int64_t n = -1;
  long long made = 0;
  if (strcmp(verb, "stop") == 0) {
    struct db_param sp[] = {DB_I64(id), DB_I64(id)};
    n = db_exec(c, api_sql_stop, sp, 2);
    if (n > 0 && db_exec(c, api_sql_stop_parts, p, 1) < 0) n = -1;
  } else if (strcmp(verb, "cancel") == 0) {
    if (db_begin(c) == 0 && (n = db_exec(c, api_sql_cancel, p, 1)) >= 0 &&
        db_exec(c, api_sql_cancel_action, p, 1) >= 0 && db_commit(c) == 0) {
    } else {
      n = -1;
      db_rollback(c);
    }
  } else if ((n = db_exec(c, api_sql_retry, rp, 2)) == 1) {
    made = api_last_id(c);
  }
  char st[32];
  if (n < 0) {
    http_error(resp, 503, "database unavailable: %s", c->err);
  } else if (n == 0) {
    if (api_status_of(c, api_sql_inst_status, id, st, sizeof(st)) == NULL)
      http_error(resp, 404, "no such instance: %lld", id);
    else
      http_error(resp, 409, "instance %lld is %s: %s", id, st,
                 strcmp(verb, "stop") == 0     ? "only a running one can be stopped"
                 : strcmp(verb, "cancel") == 0 ? "only a waiting or queued one can be canceled"
                                               : "only an ended, unsuccessful one can be retried");
  } else if (strcmp(verb, "retry") == 0) {
    resp->status = 201;
    resp->json = json_pack("{s:I,s:I,s:s}", "instance", (json_int_t)made,
                           "retry_of", (json_int_t)id, "status", "QUEUED");
  } else {
    resp->json = json_pack("{s:I,s:s}", "instance", (json_int_t)id,
                           strcmp(verb, "stop") == 0 ? "stop_requested" : "status",
                           strcmp(verb, "stop") == 0 ? "yes" : "CANCELED");
  }
  http_db_put(c);
}

/* ---- backfills and debug runs ------------------------------------------ */

static const char api_sql_job_of[] =
    "SELECT id, host_group, owner, name FROM jobs WHERE id = ? OR name = ?";
static const char api_sql_rerun[] =
    "INSERT INTO reruns (job_id, from_date, to_date, parallel, operator) "
    "VALUES (?, ?, ?, ?, ?)";
static const char api_sql_rerun_day[] =
    "INSERT INTO instances (job_id, trigger_kind, status, host_group,"
    " bizdate, rerun_id, operator) VALUES (?, 'RERUN', 'WAITING', ?, ?, ?, ?)";

static int api_date_field(json_t *body, const char *key, struct civil *cv,
                          struct http_resp *resp) {
  const char *s = json_string_value(json_object_get(body, key));
  if (s == NULL || strlen(s) != 10 || civil_parse(s, cv) < 0) {
    http_field_error(resp, key, "must be a date YYYY-MM-DD");
    return -1;
  }
  return 0;
}

/* POST /api/reruns {"job": ID|NAME, "from": D, "to": D, "parallel": N} */
void api_reruns_create(const struct http_req *req, struct http_resp *resp) {
  json_t *body;
  if (http_body_json(req, resp, &body) < 0) return;
  struct civil from, to;
  json_t *jj = json_object_get(body, "job"), *jp = json_object_get(body, "parallel");
  char job[160];
  if (json_is_integer(jj))
    snprintf(job, sizeof(job), "%lld", (long long)json_integer_value(jj));
  else snprintf(job, sizeof(job), "%s", json_string_value(jj) ? json_string_value(jj) : "");
  long long par = jp ? (json_is_integer(jp) ? json_integer_value(jp) : -1) : 1;
  int64_t d0 = 0, d1 = 0;
  if (job[0] == '\0') http_field_error(resp, "job", "a job id or name is required");
  else if (api_date_field(body, "from", &from, resp) < 0 ||
           api_date_field(body, "to", &to, resp) < 0) {
  } else if ((d0 = civil_days(from.year, from.month, from.day)) >
             (d1 = civil_days(to.year, to.month, to.day)))
    http_field_error(resp, "to", "must not be before from");
  else if (d1 - d0 >= API_RERUN_MAX_DAYS)
    http_field_error(resp, "to", "a backfill covers at most 366 days");
  else if (par < 1 || par > API_RERUN_MAX_PARALLEL)
    http_field_error(resp, "parallel", "must be 1-64");
  json_decref(body);
  if (resp->json != NULL) return;

  struct db_conn *c = http_db_or_503(resp);
  if (c == NULL) return;
  struct db_rows r;
  struct db_param q[] = {DB_I64(strtoll(job, NULL, 10)), DB_STR(job)};
  int n = db_query(c, api_sql_job_of, q, 2, &r);
  if (n <= 0) {
    if (n == 0) http_error(resp, 404, "no such job: %s", job);
    else http_error(resp, 503, "database unavailable: %s", c->err);
    http_db_put(c);
    return;
  }
  char what[160];
  snprintf(what, sizeof(what), "job %s", db_cell(&r, 0, 3));
  if (!http_may_change(req, resp, what, db_cell(&r, 0, 2))) {
    db_rows_free(&r);
    http_db_put(c);
    return;
  }
  long long job_id = strtoll(db_cell(&r, 0, 0), NULL, 10);
  char group[65], fd[11], td[11];
  snprintf(group, sizeof(group), "%s", db_cell(&r, 0, 1));
  db_rows_free(&r);
  snprintf(fd, sizeof(fd), "%04d-%02d-%02d", from.year, from.month, from.day);
  snprintf(td, sizeof(td), "%04d-%02d-%02d", to.year, to.month, to.day);
  struct db_param rp[] = {DB_I64(job_id), DB_STR(fd), DB_STR(td), DB_I64(par),
                          DB_STR(req->user.name)};
  long long rerun = -1;
  bool ok = db_begin(c) == 0 && db_exec(c, api_sql_rerun, rp, 5) == 1 &&
            (rerun = api_last_id(c)) > 0;
  for (int64_t d = d0; ok && d <= d1; d++) {
    struct civil day;
    char biz[9];
    civil_from_epoch(d * 86400, &day);
    snprintf(biz, sizeof(biz), "%04d%02d%02d", day.year, day.month, day.day);
    struct db_param ip[] = {DB_I64(job_id), DB_STR(group), DB_STR(biz),
                            DB_I64(rerun), DB_STR(req->user.name)};
    ok = db_exec(c, api_sql_rerun_day, ip, 5) == 1;
  }
  if (ok && db_commit(c) == 0) {
    resp->status = 201;
    resp->json = json_pack("{s:I,s:I,s:s,s:s,s:I,s:I}", "rerun",
                           (json_int_t)rerun, "job_id", (json_int_t)job_id,
                           "from", fd, "to", td, "days",
                           (json_int_t)(d1 - d0 + 1), "parallel",
                           (json_int_t)par);
  } else {
    http_error(resp, 503, "database unavailable: %s", c->err);
    db_rollback(c);
  }
  http_db_put(c);
}

static const char api_sql_debug[] =
    "INSERT INTO instances (trigger_kind, status, host_group, script,"
    " operator) VALUES ('DEBUG', 'QUEUED', ?, ?, ?)";

/* POST /api/debug {"group": G, "script": S} */
void api_debug_create(const struct http_req *req, struct http_resp *resp) {
  json_t *body;
  if (http_body_json(req, resp, &body) < 0) return;
  const char *group = json_string_value(json_object_get(body, "group"));
  const char *script = json_string_value(json_object_get(body, "script"));
  if (group == NULL) group = "default";
  if (script == NULL || script[strspn(script, " \t\r\n")] == '\0')
    http_field_error(resp, "script", "must not be empty");
  else if (*group == '\0' || strlen(group) > 64)
    http_field_error(resp, "group", "must be 1-64 characters");
  if (resp->json != NULL) {
    json_decref(body);
    return;
  }
  struct db_conn *c = http_db_or_503(resp);
  if (c != NULL) {
    struct db_param p[] = {DB_STR(group), DB_STR(script), DB_STR(req->user.name)};
    long long id;
    if (db_exec(c, api_sql_debug, p, 3) == 1 && (id = api_last_id(c)) > 0) {
      resp->status = 201;
      resp->json = json_pack("{s:I,s:s,s:s,s:s}", "instance", (json_int_t)id,
                             "trigger", "DEBUG", "group", group, "status",
                             "QUEUED");
    } else {
      http_error(resp, 503, "database unavailable: %s", c->err);
    }
    http_db_put(c);
  }
  json_decref(body);
}

/* ---- cron preview ------------------------------------------------------ */

/* GET /api/cron/next?expr=E[&tz=Z][&count=N]: the next fire times. */
void api_cron_next(const struct http_req *req, struct http_resp *resp) {
  const char *expr = http_query(req, "expr"), *zone = http_query(req, "tz");
  const char *cnt = http_query(req, "count");
  long long count = cnt ? strtoll(cnt, NULL, 10) : 5;
  char err[300];
  struct cron c;
  if (count < 1 || count > 100) {
    http_field_error(resp, "count", "must be 1-100");
    return;
  }
  if (expr == NULL || cron_parse(expr, &c, err, sizeof(err)) < 0) {
    http_field_error(resp, "cron", expr ? err : "expr is required");
    return;
  }
  struct tz *z = tz_load(zone ? zone : "", err, sizeof(err));
  if (z == NULL) {
    http_field_error(resp, "tz", err);
    return;
  }
  json_t *times = json_array();
  int64_t t = (int64_t)time(NULL);
  for (long long i = 0; i < count && cron_next_utc(&c, z, t, &t) == 0; i++) {
    struct civil lc;
    char buf[20];
    civil_from_epoch(t + tz_offset(z, t), &lc);
    civil_format(&lc, buf);
    json_array_append_new(times, json_string(buf));
  }
  tz_free(z);
  resp->json = json_pack("{s:s,s:o}", "expr", expr, "times", times);
}
