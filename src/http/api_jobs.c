#include "config.h"

#include "http/api_jobs.h"

#include <mysqld_error.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/jobdef.h"
#include "store/db.h"

#define API_JOB_COLS                                                        \
  "j.id, j.name, j.owner, j.description, j.folder, j.host_group, j.type,"  \
  " j.script, j.cron, j.tz, j.enabled, j.retries, j.retry_wait_s,"         \
  " j.timeout_s, j.misfire, j.monitors, j.revision, j.created_at,"         \
  " j.updated_at, j.variables, j.alerts, j.expected_s,"                     \
  " TIME_FORMAT(j.deadline, '%H:%i'), j.fanout, j.shards, j.min_success_pct,"\
  " j.map_reduce, j.map_runner"

static const char api_sql_list[] =
    "SELECT " API_JOB_COLS " FROM jobs j ORDER BY j.id";
static const char api_sql_by_id[] =
    "SELECT " API_JOB_COLS " FROM jobs j WHERE j.id = ?";
static const char api_sql_by_name[] =
    "SELECT " API_JOB_COLS " FROM jobs j WHERE j.name = ?";
static const char api_sql_ups[] =
    "SELECT u.name FROM job_upstreams e JOIN jobs u ON u.id = e.upstream_id "
    "WHERE e.job_id = ? ORDER BY u.name";
static const char api_sql_downs[] =
    "SELECT d.name FROM job_upstreams e JOIN jobs d ON d.id = e.job_id "
    "WHERE e.upstream_id = ? ORDER BY d.name";
static const char api_sql_lock[] =
    "SELECT id FROM graph_lock WHERE id = 1 FOR UPDATE";
static const char api_sql_id_of[] = "SELECT id FROM jobs WHERE name = ?";
static const char api_sql_insert[] =
    "INSERT INTO jobs (name, owner, description, folder, host_group, type,"
    " script, cron, tz, enabled, retries, retry_wait_s, timeout_s, misfire,"
    " monitors, variables, alerts, expected_s, deadline, fanout, shards,"
    " min_success_pct, map_reduce, map_runner) VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char api_sql_update[] =
    "UPDATE jobs SET name = ?, owner = ?, description = ?, folder = ?,"
    " host_group = ?, type = ?, script = ?, cron = ?, tz = ?, enabled = ?,"
    " retries = ?, retry_wait_s = ?, timeout_s = ?, misfire = ?,"
    " monitors = ?, variables = ?, alerts = ?, expected_s = ?, deadline = ?,"
    " fanout = ?, shards = ?, min_success_pct = ?, map_reduce = ?,"
    " map_runner = ?, revision = revision + 1 WHERE id = ?";
static const char api_sql_last_id[] = "SELECT LAST_INSERT_ID()";
static const char api_sql_del_edges[] =
    "DELETE FROM job_upstreams WHERE job_id = ?";
static const char api_sql_add_edge[] =
    "INSERT INTO job_upstreams (job_id, upstream_id) VALUES (?, ?)";
static const char api_sql_edges[] =
    "SELECT job_id, upstream_id FROM job_upstreams";
static const char api_sql_enable[] =
    "UPDATE jobs SET enabled = ?, revision = revision + 1 WHERE id = ?";
static const char api_sql_delete[] = "DELETE FROM jobs WHERE id = ?";
static const char api_sql_withdraw[] =
    "UPDATE actions SET status = 'WITHDRAWN' WHERE job_id = ? AND "
    "status = 'WAITING'";

/* ---- reading ----------------------------------------------------------- */

static json_t *api_names(struct db_conn *c, const char *sql, long long id) {
  struct db_rows r;
  json_t *a = json_array();
  struct db_param p[] = {DB_I64(id)};
  if (db_query(c, sql, p, 1, &r) < 0) return a;
  for (int i = 0; i < r.nrows; i++)
    json_array_append_new(a, json_string(db_cell(&r, i, 0)));
  db_rows_free(&r);
  return a;
}

static json_t *api_job_json(const struct db_rows *r, int i) {
  const char *const *v = (const char *const *)r->cells + (size_t)i * (size_t)r->ncols;
  json_t *monitors = json_array();
  if (v[15] && v[15][0]) {
    char buf[1100];
    snprintf(buf, sizeof(buf), "%s", v[15]);
    char *save = NULL;
    for (char *m = strtok_r(buf, ",", &save); m; m = strtok_r(NULL, ",", &save))
      json_array_append_new(monitors, json_string(m));
  }
  json_t *vars = v[19] ? json_loads(v[19], 0, NULL) : NULL;
  if (!json_is_object(vars)) {
    json_decref(vars);
    vars = json_object();
  }
  return json_pack(
      "{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:b,s:I,s:I,s:I,s:s,s:o,s:I,"
      "s:s,s:s,s:o,s:b,s:I,s:o,s:s,s:I,s:I,s:b,s:b}",
      "id", (json_int_t)strtoll(v[0], NULL, 10), "name", v[1], "owner", v[2],
      "description", v[3], "folder", v[4], "group", v[5], "type", v[6],
      "script", v[7], "cron", v[8] ? json_string(v[8]) : json_null(), "tz",
      v[9], "enabled", strcmp(v[10], "1") == 0, "retries",
      (json_int_t)strtoll(v[11], NULL, 10), "retry_wait_s",
      (json_int_t)strtoll(v[12], NULL, 10), "timeout_s",
      (json_int_t)strtoll(v[13], NULL, 10), "misfire", v[14], "monitors",
      monitors, "revision", (json_int_t)strtoll(v[16], NULL, 10),
      "created_at", v[17], "updated_at", v[18], "variables", vars, "alerts",
      v[20] && strcmp(v[20], "1") == 0, "expected_s",
      (json_int_t)strtoll(v[21] ? v[21] : "0", NULL, 10), "deadline",
      v[22] ? json_string(v[22]) : json_null(), "fanout", v[23] ? v[23] : "none",
      "shards", (json_int_t)strtoll(v[24] ? v[24] : "0", NULL, 10), "min_success_pct",
      (json_int_t)strtoll(v[25] ? v[25] : "100", NULL, 10), "reduce",
      v[26] && strcmp(v[26], "1") == 0, "runner", v[27] && strcmp(v[27], "1") == 0);
}

/* Finds a job by "/api/jobs/{key}[/rest]": id if numeric, else name.
 * Returns the row count (0 or 1) or -1 after setting an error. */
static int api_find(struct db_conn *c, const char *key, struct db_rows *r,
                    struct http_resp *resp) {
  char *end;
  long long id = strtoll(key, &end, 10);
  int n;
  if (*key && *end == '\0') {
    struct db_param p[] = {DB_I64(id)};
    n = db_query(c, api_sql_by_id, p, 1, r);
  } else {
    struct db_param p[] = {DB_STR(key)};
    n = db_query(c, api_sql_by_name, p, 1, r);
  }
  if (n < 0) {
    http_error(resp, 503, "database unavailable: %s", c->err);
    return -1;
  }
  if (n == 0) {
    db_rows_free(r);
    http_error(resp, 404, "no such job: %s", key);
  }
  return n;
}

/* Splits "/api/jobs/KEY/ACTION" into key and action (either may be ""). */
static void api_path(const char *path, char *key, size_t klen, char *act,
                     size_t alen) {
  const char *p = path + strlen("/api/jobs/");
  const char *slash = strchr(p, '/');
  size_t n = slash ? (size_t)(slash - p) : strlen(p);
  snprintf(key, klen, "%.*s", (int)n, p);
  snprintf(act, alen, "%s", slash ? slash + 1 : "");
}


/* api_find, and the caller must be allowed to change the job (its owner
 * or an administrator); if not, a 403 and 0 (nothing kept in *r). */
static int api_find_owned(struct db_conn *c, const char *key,
                          struct db_rows *r, const struct http_req *req,
                          struct http_resp *resp) {
  int n = api_find(c, key, r, resp);
  if (n != 1) return n;
  char what[160];
  snprintf(what, sizeof(what), "job %s", db_cell(r, 0, 1));
  if (http_may_change(req, resp, what, db_cell(r, 0, 2))) return 1;
  db_rows_free(r);
  return 0;
}

void api_jobs_list(const struct http_req *req, struct http_resp *resp) {
  struct db_conn *c = http_db_or_503(resp);
  if (c == NULL) return;
  struct db_rows r;
  if (db_query(c, api_sql_list, NULL, 0, &r) < 0) {
    http_error(resp, 503, "database unavailable: %s", c->err);
    http_db_put(c);
    return;
  }
  json_t *list = json_array();
  for (int i = 0; i < r.nrows; i++) {
    json_t *j = api_job_json(&r, i);
    long long id = strtoll(db_cell(&r, i, 0), NULL, 10);
    json_object_set_new(j, "upstreams", api_names(c, api_sql_ups, id));
    json_object_del(j, "script"); /* the list stays small */
    json_array_append_new(list, j);
  }
  db_rows_free(&r);
  http_db_put(c);
  resp->json = json_pack("{s:o}", "jobs", list);
}

static json_t *api_load_full(struct db_conn *c, long long id) {
  struct db_rows r;
  struct db_param p[] = {DB_I64(id)};
  if (db_query(c, api_sql_by_id, p, 1, &r) <= 0) return NULL;
  json_t *j = api_job_json(&r, 0);
  db_rows_free(&r);
  json_object_set_new(j, "upstreams", api_names(c, api_sql_ups, id));
  json_object_set_new(j, "downstreams", api_names(c, api_sql_downs, id));
  return j;
}

void api_jobs_get(const struct http_req *req, struct http_resp *resp) {
  char key[200], act[64];
  api_path(req->path, key, sizeof(key), act, sizeof(act));
  if (act[0]) {
    http_error(resp, 404, "no such resource: %s", req->path);
    return;
  }
  struct db_conn *c = http_db_or_503(resp);
  if (c == NULL) return;
  struct db_rows r;
  if (api_find(c, key, &r, resp) == 1) {
    long long id = strtoll(db_cell(&r, 0, 0), NULL, 10);
    db_rows_free(&r);
    resp->json = api_load_full(c, id);
    if (resp->json == NULL) http_error(resp, 503, "database unavailable");
  }
  http_db_put(c);
}

/* ---- writing ----------------------------------------------------------- */

/* A job definition being written, strings owned by the JSON it came from
 * or by the existing row. */
struct api_def {
  struct jobdef d;
  bool enabled;
  char monitors[1024];
  json_t *vars; /* borrowed: an object of strings, or NULL */
  bool alerts;  /* mail the owner and monitors when it fails for good */
  int64_t expected_s;   /* a run longer than this is reported; 0: none */
  char deadline[6];     /* "HH:MM" or "" */
  char fanout[16];      /* none | broadcast | shards | map */
  bool reduce;          /* map: a reduce step after the sub-tasks */
  bool runner;          /* map: sub-tasks fed to long-lived runners */
  int64_t shards, min_success_pct;
};

/* A plain e-mail address (one '@', no blanks, quotes or commas). */
static bool api_address_ok(const char *s) {
  const char *at = strchr(s, '@');
  if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') ||
      strlen(s) > 254)
    return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("._%+-@", *s)) return false;
  return true;
}

/* Variable names as scripts use them in ${name}: names, 64 at most. */
static bool api_var_name_ok(const char *k) {
  return jobdef_name_ok(k) && strlen(k) <= 64;
}

/* Overlays the fields present in body on d.  Returns 0 or -1 with a 400
 * response naming the field. */
static int api_overlay(json_t *body, struct api_def *a,
                       struct http_resp *resp) {
  static const char *const strs[] = {"name", "owner", "description",
                                     "folder", "group", "type", "script",
                                     "cron", "tz", "misfire"};
  const char **slots[] = {&a->d.name, &a->d.owner, &a->d.description,
                          &a->d.folder, &a->d.host_group, &a->d.type,
                          &a->d.script, &a->d.cron, &a->d.tz, &a->d.misfire};
  const char *key;
  json_t *v;
  json_object_foreach(body, key, v) {
    bool known = false;
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
      if (strcmp(key, strs[i]) != 0) continue;
      known = true;
      if (!json_is_string(v) && !(json_is_null(v) && !strcmp(key, "cron"))) {
        http_field_error(resp, key, "must be a string");
        return -1;
      }
      *slots[i] = json_is_null(v) ? NULL : json_string_value(v);
    }
    if (known) continue;
    if (!strcmp(key, "fanout")) {
      const char *f = json_string_value(v);
      if (f == NULL || (strcmp(f, "none") && strcmp(f, "broadcast") &&
                        strcmp(f, "shards") && strcmp(f, "map"))) {
        http_field_error(resp, key, "must be none, broadcast, shards or map");
        return -1;
      }
      snprintf(a->fanout, sizeof(a->fanout), "%s", f);
    } else if (!strcmp(key, "shards") || !strcmp(key, "min_success_pct")) {
      int64_t n = json_is_integer(v) ? json_integer_value(v) : -1;
      bool sh = key[0] == 's';
      if (sh ? (n < 0 || n > 10000) : (n < 1 || n > 100)) {
        http_field_error(resp, key, sh ? "must be 0-10000" : "must be 1-100");
        return -1;
      }
      if (sh) a->shards = n;
      else a->min_success_pct = n;
    } else if (!strcmp(key, "deadline")) {
      const char *d = json_string_value(v);
      int hh, mm;
      char end;
      if (!json_is_null(v) && (d == NULL || (*d && (sscanf(d, "%2d:%2d%c", &hh, &mm, &end) != 2 ||
                                                   strlen(d) != 5 || hh > 23 || mm > 59 ||
                                                   hh < 0 || mm < 0)))) {
        http_field_error(resp, key, "must be a local time HH:MM, or null");
        return -1;
      }
      snprintf(a->deadline, sizeof(a->deadline), "%s", d ? d : "");
    } else if (!strcmp(key, "retries") || !strcmp(key, "retry_wait_s") ||
        !strcmp(key, "timeout_s") || !strcmp(key, "expected_s")) {
      if (!json_is_integer(v)) {
        http_field_error(resp, key, "must be an integer");
        return -1;
      }
      int64_t n = json_integer_value(v);
      if (!strcmp(key, "expected_s")) {
        if (n < 0 || n > 30 * 86400) {
          http_field_error(resp, key, "must be 0-2592000 seconds");
          return -1;
        }
        a->expected_s = n;
      } else if (!strcmp(key, "retries")) a->d.retries = n;
      else if (!strcmp(key, "retry_wait_s")) a->d.retry_wait_s = n;
      else a->d.timeout_s = n;
    } else if (!strcmp(key, "enabled") || !strcmp(key, "alerts") ||
               !strcmp(key, "reduce") || !strcmp(key, "runner")) {
      if (!json_is_boolean(v)) {
        http_field_error(resp, key, "must be true or false");
        return -1;
      }
      if (key[0] == 'e') a->enabled = json_is_true(v);
      else if (key[0] == 'a') a->alerts = json_is_true(v);
      else if (key[0] == 'r' && key[1] == 'e') a->reduce = json_is_true(v);
      else a->runner = json_is_true(v);
    } else if (!strcmp(key, "upstreams")) {
      if (!json_is_array(v) || json_array_size(v) > JOBDEF_MAX_UPSTREAMS) {
        http_field_error(resp, key, "must be a list of at most 64 job names");
        return -1;
      }
      size_t i;
      json_t *u;
      a->d.nupstreams = 0;
      json_array_foreach(v, i, u) {
        if (!json_is_string(u)) {
          http_field_error(resp, key, "must be a list of job names");
          return -1;
        }
        a->d.upstreams[a->d.nupstreams++] = json_string_value(u);
      }
    } else if (!strcmp(key, "variables")) {
      const char *k;
      json_t *x;
      if (!json_is_object(v) && !json_is_null(v)) {
        http_field_error(resp, key, "must be an object of name: string");
        return -1;
      }
      json_object_foreach(v, k, x) {
        if (!api_var_name_ok(k) || !json_is_string(x)) {
          char msg[200];
          snprintf(msg, sizeof(msg), "'%.64s' must be a name of letters, "
                   "digits, '_', '.' or '-' with a string value", k);
          http_field_error(resp, key, msg);
          return -1;
        }
      }
      a->vars = json_is_null(v) ? NULL : v;
    } else if (!strcmp(key, "monitors")) {
      size_t i, off = 0;
      json_t *m;
      if (!json_is_array(v)) {
        http_field_error(resp, key, "must be a list of user names");
        return -1;
      }
      a->monitors[0] = '\0';
      json_array_foreach(v, i, m) {
        const char *s = json_string_value(m);
        if (s == NULL || (!jobdef_name_ok(s) && !api_address_ok(s)) ||
            off + strlen(s) + 2 >= sizeof(a->monitors)) {
          http_field_error(resp, key, "must be a list of user names or "
                                      "e-mail addresses");
          return -1;
        }
        off += (size_t)snprintf(a->monitors + off, sizeof(a->monitors) - off,
                                "%s%s", off ? "," : "", s);
      }
    } else if (strcmp(key, "id") && strcmp(key, "revision") &&
               strcmp(key, "created_at") && strcmp(key, "updated_at") &&
               strcmp(key, "downstreams")) {
      char msg[160];
      snprintf(msg, sizeof(msg), "unknown field '%s'", key);
      http_field_error(resp, key, msg);
      return -1;
    }
  }
  return 0;
}

/* Whether `from` reaches `target` following upstream edges. */
static bool api_reaches(const long long *edges, int nedges, long long from,
                        long long target, int depth) {
  if (from == target) return true;
  if (depth > 10000) return true; /* defensive: treat as a cycle */
  for (int i = 0; i < nedges; i++)
    if (edges[2 * i] == from &&
        api_reaches(edges, nedges, edges[2 * i + 1], target, depth + 1))
      return true;
  return false;
}

/* Resolves upstream names and writes the job's edges; rejects unknown
 * names and cycles.  Inside the caller's transaction holding graph_lock. */
static int api_write_edges(struct db_conn *c, long long id,
                           const struct jobdef *d, struct http_resp *resp) {
  long long ups[JOBDEF_MAX_UPSTREAMS];
  for (int i = 0; i < d->nupstreams; i++) {
    struct db_rows r;
    struct db_param p[] = {DB_STR(d->upstreams[i])};
    int n = db_query(c, api_sql_id_of, p, 1, &r);
    if (n < 0) {
      http_error(resp, 503, "database unavailable: %s", c->err);
      return -1;
    }
    if (n == 0) {
      char msg[200];
      snprintf(msg, sizeof(msg), "unknown upstream job '%s'", d->upstreams[i]);
      http_field_error(resp, "upstreams", msg);
      return -1;
    }
    ups[i] = strtoll(db_cell(&r, 0, 0), NULL, 10);
    db_rows_free(&r);
  }
  struct db_param p[] = {DB_I64(id)};
  if (db_exec(c, api_sql_del_edges, p, 1) < 0) goto dberr;
  for (int i = 0; i < d->nupstreams; i++) {
    struct db_param e[] = {DB_I64(id), DB_I64(ups[i])};
    if (db_exec(c, api_sql_add_edge, e, 2) < 0) goto dberr;
  }
  if (d->nupstreams > 0) { /* a cycle must pass through this job */
    struct db_rows r;
    if (db_query(c, api_sql_edges, NULL, 0, &r) < 0) goto dberr;
    long long *edges = malloc(sizeof(long long) * 2 * (size_t)(r.nrows + 1));
    if (edges == NULL) {
      db_rows_free(&r);
      http_error(resp, 500, "out of memory");
      return -1;
    }
    for (int i = 0; i < r.nrows; i++) {
      edges[2 * i] = strtoll(db_cell(&r, i, 0), NULL, 10);
      edges[2 * i + 1] = strtoll(db_cell(&r, i, 1), NULL, 10);
    }
    bool cycle = false;
    for (int i = 0; i < d->nupstreams && !cycle; i++)
      cycle = api_reaches(edges, r.nrows, ups[i], id, 0);
    free(edges);
    db_rows_free(&r);
    if (cycle) {
      http_field_error(resp, "upstreams",
                       "these upstreams would make a dependency cycle");
      return -1;
    }
  }
  return 0;
dberr:
  http_error(resp, 503, "database unavailable: %s", c->err);
  return -1;
}

static int api_check(struct api_def *a, struct http_resp *resp) {
  char field[32], err[300];
  if (strcmp(a->fanout, "shards") == 0 && a->shards < 1) {
    http_field_error(resp, "shards", "a sharded job needs 1 or more shards");
    return -1;
  }
  if (jobdef_check(&a->d, field, sizeof(field), err, sizeof(err)) < 0) {
    http_field_error(resp, field, err);
    return -1;
  }
  return 0;
}

/* Writes the row (insert when *id == 0) and its edges in one transaction. */
static void api_save(struct db_conn *c, struct api_def *a, long long *id,
                     struct http_resp *resp) {
  const struct jobdef *d = &a->d;
  if (db_begin(c) < 0) {
    http_error(resp, 503, "database unavailable: %s", c->err);
    return;
  }
  struct db_rows r;
  if (db_query(c, api_sql_lock, NULL, 0, &r) < 0) goto dberr;
  db_rows_free(&r);
  char *vars = a->vars && json_object_size(a->vars)
                   ? json_dumps(a->vars, JSON_COMPACT | JSON_SORT_KEYS)
                   : NULL;
  struct db_param p[] = {
      DB_STR(d->name), DB_STR(d->owner ? d->owner : ""),
      DB_STR(d->description ? d->description : ""),
      DB_STR(d->folder ? d->folder : "/"),
      DB_STR(d->host_group ? d->host_group : "default"),
      DB_STR(d->type ? d->type : "shell"), DB_STR(d->script),
      d->cron && d->cron[0] ? DB_STR(d->cron) : DB_NUL(),
      DB_STR(d->tz ? d->tz : ""), DB_I64(a->enabled), DB_I64(d->retries),
      DB_I64(d->retry_wait_s), DB_I64(d->timeout_s),
      DB_STR(d->misfire ? d->misfire : "run_once"), DB_STR(a->monitors),
      vars ? DB_STR(vars) : DB_NUL(), DB_I64(a->alerts), DB_I64(a->expected_s),
      a->deadline[0] ? DB_STR(a->deadline) : DB_NUL(),
      DB_STR(a->fanout[0] ? a->fanout : "none"), DB_I64(a->shards),
      DB_I64(a->min_success_pct ? a->min_success_pct : 100), DB_I64(a->reduce),
      DB_I64(a->runner), DB_I64(*id)};
  int64_t n = db_exec(c, *id ? api_sql_update : api_sql_insert, p,
                      *id ? 25 : 24);
  free(vars);
  if (n < 0) {
    if (c->last_errno == ER_DUP_ENTRY) {
      db_rollback(c);
      http_error(resp, 409, "a job named '%s' exists already", d->name);
      return;
    }
    goto dberr;
  }
  if (*id == 0) {
    if (db_query(c, api_sql_last_id, NULL, 0, &r) < 0) goto dberr;
    *id = strtoll(db_cell(&r, 0, 0), NULL, 10);
    db_rows_free(&r);
    if (*id >= 1000000) {
      db_rollback(c);
      http_error(resp, 507, "job ids are exhausted (999,999 jobs)");
      return;
    }
  }
  if (api_write_edges(c, *id, d, resp) < 0) {
    db_rollback(c);
    return;
  }
  if (db_commit(c) < 0) goto dberr;
  return;
dberr:
  http_error(resp, 503, "database unavailable: %s", c->err);
  db_rollback(c);
}

void api_jobs_create(const struct http_req *req, struct http_resp *resp) {
  json_t *body;
  if (http_body_json(req, resp, &body) < 0) return;
  struct api_def a = {.enabled = true, .alerts = true};
  a.d.retry_wait_s = 60;
  if (api_overlay(body, &a, resp) < 0 || api_check(&a, resp) < 0) {
    json_decref(body);
    return;
  }
  if (a.d.owner == NULL || a.d.owner[0] == '\0') a.d.owner = req->user.name;
  if (strcmp(a.d.owner, req->user.name) != 0 && !http_is_admin(req)) {
    http_error(resp, 403, "only an administrator may create a job for "
               "someone else (owner '%s')", a.d.owner);
    json_decref(body);
    return;
  }
  struct db_conn *c = http_db_or_503(resp);
  if (c != NULL) {
    long long id = 0;
    api_save(c, &a, &id, resp);
    if (resp->json == NULL) {
      resp->status = 201;
      resp->json = api_load_full(c, id);
    }
    http_db_put(c);
  }
  json_decref(body);
}

void api_jobs_update(const struct http_req *req, struct http_resp *resp) {
  char key[200], act[64];
  api_path(req->path, key, sizeof(key), act, sizeof(act));
  json_t *body;
  if (act[0]) {
    http_error(resp, 404, "no such resource: %s", req->path);
    return;
  }
  if (http_body_json(req, resp, &body) < 0) return;
  struct db_conn *c = http_db_or_503(resp);
  if (c == NULL) {
    json_decref(body);
    return;
  }
  struct db_rows r;
  if (api_find_owned(c, key, &r, req, resp) == 1) {
    json_t *cur = api_job_json(&r, 0);
    long long id = strtoll(db_cell(&r, 0, 0), NULL, 10);
    db_rows_free(&r);
    json_object_set_new(cur, "upstreams", api_names(c, api_sql_ups, id));
    struct api_def a = {.enabled = true, .alerts = true};
    /* A schedule replaces upstreams and the other way round. */
    if (json_object_get(body, "cron") && !json_is_null(json_object_get(body, "cron")) &&
        !json_object_get(body, "upstreams"))
      json_object_set_new(cur, "upstreams", json_array());
    if (json_array_size(json_object_get(body, "upstreams")) > 0 &&
        !json_object_get(body, "cron"))
      json_object_set_new(cur, "cron", json_null());
    const char *was = json_string_value(json_object_get(cur, "owner"));
    if (api_overlay(cur, &a, resp) == 0 && api_overlay(body, &a, resp) == 0 &&
        api_check(&a, resp) == 0) {
      if (!http_is_admin(req) && strcmp(a.d.owner ? a.d.owner : "", was ? was : "") != 0)
        http_error(resp, 403, "only an administrator may change a job's owner");
      else
        api_save(c, &a, &id, resp);
      if (resp->json == NULL) resp->json = api_load_full(c, id);
    }
    json_decref(cur);
  }
  http_db_put(c);
  json_decref(body);
}

static const char api_sql_run[] =
    "INSERT INTO instances (job_id, trigger_kind, status, host_group,"
    " operator) SELECT id, 'MANUAL', 'QUEUED', host_group, ? FROM jobs "
    "WHERE id = ?";

/* A manual run: queued in MariaDB, where the master takes it from. */
static void api_jobs_run(const struct http_req *req, const char *key,
                         struct http_resp *resp) {
  struct db_conn *c = http_db_or_503(resp);
  if (c == NULL) return;
  struct db_rows r;
  if (api_find_owned(c, key, &r, req, resp) == 1) {
    long long id = strtoll(db_cell(&r, 0, 0), NULL, 10);
    db_rows_free(&r);
    struct db_param p[] = {DB_STR(req->user.name), DB_I64(id)};
    struct db_rows last;
    if (db_exec(c, api_sql_run, p, 2) < 1 ||
        db_query(c, api_sql_last_id, NULL, 0, &last) < 0) {
      http_error(resp, 503, "database unavailable: %s", c->err);
    } else {
      resp->status = 201;
      resp->json = json_pack("{s:I,s:I,s:s,s:s}", "instance",
                             (json_int_t)strtoll(db_cell(&last, 0, 0), NULL, 10),
                             "job_id", (json_int_t)id, "trigger", "MANUAL",
                             "status", "QUEUED");
      db_rows_free(&last);
    }
  }
  http_db_put(c);
}

void api_jobs_action(const struct http_req *req, struct http_resp *resp) {
  char key[200], act[64];
  api_path(req->path, key, sizeof(key), act, sizeof(act));
  bool enable = strcmp(act, "enable") == 0;
  if (strcmp(act, "run") == 0) {
    api_jobs_run(req, key, resp);
    return;
  }
  if (!enable && strcmp(act, "disable") != 0) {
    http_error(resp, 404, "no such resource: %s", req->path);
    return;
  }
  struct db_conn *c = http_db_or_503(resp);
  if (c == NULL) return;
  struct db_rows r;
  if (api_find_owned(c, key, &r, req, resp) == 1) {
    long long id = strtoll(db_cell(&r, 0, 0), NULL, 10);
    db_rows_free(&r);
    struct db_param p[] = {DB_I64(enable), DB_I64(id)};
    if (db_exec(c, api_sql_enable, p, 2) < 0)
      http_error(resp, 503, "database unavailable: %s", c->err);
    else
      resp->json = api_load_full(c, id);
  }
  http_db_put(c);
}

void api_jobs_delete(const struct http_req *req, struct http_resp *resp) {
  char key[200], act[64];
  api_path(req->path, key, sizeof(key), act, sizeof(act));
  if (act[0]) {
    http_error(resp, 404, "no such resource: %s", req->path);
    return;
  }
  struct db_conn *c = http_db_or_503(resp);
  if (c == NULL) return;
  struct db_rows r;
  if (api_find_owned(c, key, &r, req, resp) == 1) {
    long long id = strtoll(db_cell(&r, 0, 0), NULL, 10);
    db_rows_free(&r);
    json_t *downs = api_names(c, api_sql_downs, id);
    if (json_array_size(downs) > 0) {
      char *list = json_dumps(downs, JSON_COMPACT);
      http_error(resp, 409, "other jobs depend on it: %s", list ? list : "");
      free(list);
    } else if (db_begin(c) < 0) {
      http_error(resp, 503, "database unavailable: %s", c->err);
    } else {
      struct db_param p[] = {DB_I64(id)};
      if (db_query(c, api_sql_lock, NULL, 0, &r) < 0 ||
          (db_rows_free(&r), db_exec(c, api_sql_del_edges, p, 1) < 0) ||
          db_exec(c, api_sql_withdraw, p, 1) < 0 ||
          db_exec(c, api_sql_delete, p, 1) < 0 || db_commit(c) < 0) {
        http_error(resp, 503, "database unavailable: %s", c->err);
        db_rollback(c);
      } else {
        resp->json = json_pack("{s:b,s:I}", "deleted", 1, "id", (json_int_t)id);
      }
    }
    json_decref(downs);
  }
  http_db_put(c);
}
