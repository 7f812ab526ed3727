#include "config.h"

#include "http/api_instances.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/api_logs.h"
#include "sched/civil.h"
#include "store/db.h"

#define API_INST_COLS                                                       \
  "i.id, COALESCE(i.job_id, 0), COALESCE(j.name, ''), i.action_id,"         \
  " i.trigger_kind, i.attempt, i.status, i.host_group, i.worker,"           \
  " i.exit_code, i.exit_signal, i.reason, i.queued_at, i.started_at,"       \
  " i.ended_at, i.parent_id, i.shard_index, i.shard_count, i.task_name,"     \
  " i.result"

#define API_INST_FILTER                                                     \
  " WHERE (? = 0 OR i.job_id = ?) AND (? = '' OR i.status = ?)"               \
  " AND (? = '' OR i.trigger_kind = ?) AND (? = '' OR i.worker = ?)"          \
  " AND (? = '' OR i.queued_at >= ?) AND (? = '' OR i.queued_at < ?)"        \
  " AND (? = 0 OR i.parent_id = ?)"
static const char api_sql_inst_list[] =
    "SELECT " API_INST_COLS " FROM instances i LEFT JOIN jobs j ON"
    " j.id = i.job_id" API_INST_FILTER " ORDER BY i.id DESC LIMIT ? OFFSET ?";
static const char api_sql_inst_count[] =
    "SELECT COUNT(*) FROM instances i" API_INST_FILTER;
static const char api_sql_inst_one[] =
    "SELECT " API_INST_COLS " FROM instances i LEFT JOIN jobs j ON"
    " j.id = i.job_id WHERE i.id = ?";
static const char api_sql_job_id[] = "SELECT id FROM jobs WHERE name = ?";
static const char api_sql_log[] =
    "SELECT seq, data FROM instance_logs WHERE instance_id = ? AND seq > ? "
    "ORDER BY seq LIMIT 1000";

static json_t *api_opt(const char *s) { return s ? json_string(s) : json_null(); }
static json_t *api_num(const char *s) {
  return s ? json_integer(strtoll(s, NULL, 10)) : json_null();
}

static json_t *api_inst_json(const struct db_rows *r, int i) {
  return json_pack(
      "{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
      "s:o,s:o,s:o}", "id",
      api_num(db_cell(r, i, 0)), "job_id", api_num(db_cell(r, i, 1)), "job",
      api_opt(db_cell(r, i, 2)), "action_id", api_num(db_cell(r, i, 3)),
      "trigger", api_opt(db_cell(r, i, 4)), "attempt",
      api_num(db_cell(r, i, 5)), "status", api_opt(db_cell(r, i, 6)),
      "group", api_opt(db_cell(r, i, 7)), "worker", api_opt(db_cell(r, i, 8)),
      "exit_code", api_num(db_cell(r, i, 9)), "signal",
      api_num(db_cell(r, i, 10)), "reason", api_opt(db_cell(r, i, 11)),
      "queued_at", api_opt(db_cell(r, i, 12)), "started_at",
      api_opt(db_cell(r, i, 13)), "ended_at", api_opt(db_cell(r, i, 14)),
      "parent_id", api_num(db_cell(r, i, 15)), "shard_index",
      api_num(db_cell(r, i, 16)), "shard_count", api_num(db_cell(r, i, 17)),
      "task", api_opt(db_cell(r, i, 18)), "result", api_opt(db_cell(r, i, 19)));
}

void api_instances_list(const struct http_req *req, struct http_resp *resp) {
  char err[256];
  const char *job = http_query(req, "job"), *status = http_query(req, "status");
  const char *lim = http_query(req, "limit"), *off = http_query(req, "offset");
  long long limit = lim ? strtoll(lim, NULL, 10) : 100;
  long long offset = off ? strtoll(off, NULL, 10) : 0;
  if (limit < 1 || limit > 10000) {
    http_field_error(resp, "limit", "must be 1-10000");
    return;
  }
  if (offset < 0) {
    http_field_error(resp, "offset", "must not be negative");
    return;
  }
  /* "YYYY-MM-DD[ HH:MM:SS]" bounds on the time queued */
  const char *trig = http_query(req, "trigger"), *wk = http_query(req, "worker");
  const char *par = http_query(req, "parent");
  long long parent = par ? strtoll(par, NULL, 10) : 0;
  const char *since = http_query(req, "since"), *until = http_query(req, "until");
  struct civil cv;
  if ((since && civil_parse(since, &cv) < 0) || (until && civil_parse(until, &cv) < 0)) {
    http_field_error(resp, since && civil_parse(since, &cv) < 0 ? "since" : "until",
                     "must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS");
    return;
  }
  struct db_conn *c = http_db_get(err, sizeof(err));
  if (c == NULL) {
    http_error(resp, 503, "database unavailable: %s", err);
    return;
  }
  long long job_id = 0;
  if (job != NULL) {
    char *end;
    job_id = strtoll(job, &end, 10);
    if (*end != '\0' || end == job) {
      struct db_rows r;
      struct db_param p[] = {DB_STR(job)};
      int n = db_query(c, api_sql_job_id, p, 1, &r);
      if (n <= 0) {
        if (n == 0) http_error(resp, 404, "no such job: %s", job);
        else http_error(resp, 503, "database unavailable: %s", c->err);
        http_db_put(c);
        return;
      }
      job_id = strtoll(db_cell(&r, 0, 0), NULL, 10);
      db_rows_free(&r);
    }
  }
  const char *st = status ? status : "", *tg = trig ? trig : "",
             *w = wk ? wk : "", *sn = since ? since : "", *un = until ? until : "";
  struct db_param p[] = {DB_I64(job_id), DB_I64(job_id), DB_STR(st), DB_STR(st),
                         DB_STR(tg),     DB_STR(tg),     DB_STR(w),  DB_STR(w),
                         DB_STR(sn),     DB_STR(sn),     DB_STR(un), DB_STR(un),
                         DB_I64(parent), DB_I64(parent),
                         DB_I64(limit),  DB_I64(offset)};
  struct db_rows r, n;
  if (db_query(c, api_sql_inst_list, p, 16, &r) < 0) {
    http_error(resp, 503, "database unavailable: %s", c->err);
    http_db_put(c);
    return;
  }
  if (db_query(c, api_sql_inst_count, p, 14, &n) < 1) {
    http_error(resp, 503, "database unavailable: %s", c->err);
    db_rows_free(&r);
    http_db_put(c);
    return;
  }
  json_t *list = json_array();
  for (int i = 0; i < r.nrows; i++) json_array_append_new(list, api_inst_json(&r, i));
  db_rows_free(&r);
  http_db_put(c);
  resp->json = json_pack("{s:o,s:I,s:I,s:I}", "instances", list, "total",
                         (json_int_t)strtoll(db_cell(&n, 0, 0), NULL, 10),
                         "limit", (json_int_t)limit, "offset", (json_int_t)offset);
  db_rows_free(&n);
}

/* A fan-out instance's parts (the latest attempt of each), by status. */
static const char api_sql_parts[] =
    "SELECT c.status, COUNT(*) FROM instances c WHERE c.parent_id = ?"
    " AND c.id IN (SELECT MAX(id) FROM instances WHERE parent_id = ?"
    "  GROUP BY shard_index) GROUP BY c.status";

static void api_parts(struct db_conn *c, long long id, json_t *inst) {
  struct db_param p[] = {DB_I64(id), DB_I64(id)};
  struct db_rows r;
  if (db_query(c, api_sql_parts, p, 2, &r) <= 0) return;
  json_t *parts = json_object();
  long long total = 0;
  for (int i = 0; i < r.nrows; i++) {
    long long k = strtoll(db_cell(&r, i, 1), NULL, 10);
    json_object_set_new(parts, db_cell(&r, i, 0), json_integer(k));
    total += k;
  }
  json_object_set_new(parts, "total", json_integer(total));
  json_object_set_new(inst, "parts", parts);
  db_rows_free(&r);
}

void api_instances_get(const struct http_req *req, struct http_resp *resp) {
  const char *p = req->path + strlen("/api/instances/");
  char *end;
  long long id = strtoll(p, &end, 10);
  bool log = strcmp(end, "/log") == 0;
  if (end != p && strcmp(end, "/log/download") == 0) {
    api_log_download(req, resp, id);
    return;
  }
  if (end != p && strcmp(end, "/log/stream") == 0) {
    api_log_stream(req, resp, id);
    return;
  }
  if (end != p && log && (http_query(req, "page") || http_query(req, "lines"))) {
    api_log_page(req, resp, id);
    return;
  }
  if (end == p || (*end != '\0' && !log)) {
    http_error(resp, 404, "no such resource: %s", req->path);
    return;
  }
  char err[256];
  struct db_conn *c = http_db_get(err, sizeof(err));
  if (c == NULL) {
    http_error(resp, 503, "database unavailable: %s", err);
    return;
  }
  struct db_rows r;
  struct db_param q[] = {DB_I64(id)};
  int n = db_query(c, api_sql_inst_one, q, 1, &r);
  if (n <= 0) {
    if (n == 0) http_error(resp, 404, "no such instance: %lld", id);
    else http_error(resp, 503, "database unavailable: %s", c->err);
    http_db_put(c);
    return;
  }
  json_t *inst = api_inst_json(&r, 0);
  db_rows_free(&r);
  if (!log) {
    api_parts(c, id, inst);
    http_db_put(c);
    resp->json = inst;
    return;
  }
  const char *after = http_query(req, "after");
  long long from = after ? strtoll(after, NULL, 10) : 0;
  struct db_param lp[] = {DB_I64(id), DB_I64(from)};
  if (db_query(c, api_sql_log, lp, 2, &r) < 0) {
    http_error(resp, 503, "database unavailable: %s", c->err);
    json_decref(inst);
    http_db_put(c);
    return;
  }
  http_db_put(c);
  size_t total = 0;
  for (int i = 0; i < r.nrows; i++) total += strlen(db_cell(&r, i, 1));
  char *text = malloc(total + 1);
  size_t off = 0;
  long long last = from;
  for (int i = 0; text && i < r.nrows; i++) {
    size_t l = strlen(db_cell(&r, i, 1));
    memcpy(text + off, db_cell(&r, i, 1), l);
    off += l;
    last = strtoll(db_cell(&r, i, 0), NULL, 10);
  }
  if (text) text[off] = '\0';
  db_rows_free(&r);
  resp->json = json_pack("{s:I,s:O,s:I,s:s%}", "instance", (json_int_t)id,
                         "status", json_object_get(inst, "status"), "last_seq",
                         (json_int_t)last, "data", text ? text : "", off);
  free(text);
  json_decref(inst);
}
