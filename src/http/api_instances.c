#include "config.h"

#include "http/api_instances.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

#define API_INST_COLS                                                       \
  "i.id, COALESCE(i.job_id, 0), COALESCE(j.name, ''), i.action_id,"         \
  " i.trigger_kind, i.attempt, i.status, i.host_group, i.worker,"           \
  " i.exit_code, i.exit_signal, i.reason, i.queued_at, i.started_at,"       \
  " i.ended_at"

static const char api_sql_inst_list[] =
    "SELECT " API_INST_COLS " FROM instances i LEFT JOIN jobs j ON"
    " j.id = i.job_id WHERE (? = 0 OR i.job_id = ?) AND (? = '' OR"
    " i.status = ?) ORDER BY i.id DESC LIMIT ?";
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
      "{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id",
      api_num(db_cell(r, i, 0)), "job_id", api_num(db_cell(r, i, 1)), "job",
      api_opt(db_cell(r, i, 2)), "action_id", api_num(db_cell(r, i, 3)),
      "trigger", api_opt(db_cell(r, i, 4)), "attempt",
      api_num(db_cell(r, i, 5)), "status", api_opt(db_cell(r, i, 6)),
      "group", api_opt(db_cell(r, i, 7)), "worker", api_opt(db_cell(r, i, 8)),
      "exit_code", api_num(db_cell(r, i, 9)), "signal",
      api_num(db_cell(r, i, 10)), "reason", api_opt(db_cell(r, i, 11)),
      "queued_at", api_opt(db_cell(r, i, 12)), "started_at",
      api_opt(db_cell(r, i, 13)), "ended_at", api_opt(db_cell(r, i, 14)));
}

void api_instances_list(const struct http_req *req, struct http_resp *resp) {
  char err[256];
  const char *job = http_query(req, "job"), *status = http_query(req, "status");
  const char *lim = http_query(req, "limit");
  long long limit = lim ? strtoll(lim, NULL, 10) : 100;
  if (limit < 1 || limit > 10000) {
    http_field_error(resp, "limit", "must be 1-10000");
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
  const char *st = status ? status : "";
  struct db_param p[] = {DB_I64(job_id), DB_I64(job_id), DB_STR(st),
                         DB_STR(st), DB_I64(limit)};
  struct db_rows r;
  if (db_query(c, api_sql_inst_list, p, 5, &r) < 0) {
    http_error(resp, 503, "database unavailable: %s", c->err);
    http_db_put(c);
    return;
  }
  json_t *list = json_array();
  for (int i = 0; i < r.nrows; i++) json_array_append_new(list, api_inst_json(&r, i));
  db_rows_free(&r);
  http_db_put(c);
  resp->json = json_pack("{s:o}", "instances", list);
}

void api_instances_get(const struct http_req *req, struct http_resp *resp) {
  const char *p = req->path + strlen("/api/instances/");
  char *end;
  long long id = strtoll(p, &end, 10);
  bool log = strcmp(end, "/log") == 0;
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
