#include "config.h"

#include "http/api_cluster.h"

#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "util/cfg.h"

static const char api_sql_status[] =
    "SELECT l.holder, l.address, l.http, l.epoch,"
    " TIMESTAMPDIFF(MICROSECOND, NOW(6), l.expires) DIV 1000,"
    " l.expires, l.acquired_at,"
    " (SELECT COUNT(*) FROM nodes n WHERE n.connected = 1"
    "   AND n.epoch = l.epoch AND l.expires > NOW(6)"
    "   AND n.heartbeat_at > NOW(6) - INTERVAL ? MICROSECOND) "
    "FROM lease l WHERE l.name = 'master'";

static const char api_sql_workers[] =
    "SELECT n.name, n.address, n.peer, n.http, n.host_groups, n.master_group,"
    " n.version, n.cores, n.load_json, n.load_avg, n.mem_used, n.mem_total,"
    " n.running, n.max_running,"
    " (n.connected = 1 AND n.epoch = l.epoch AND l.expires > NOW(6)"
    "  AND n.heartbeat_at > NOW(6) - INTERVAL ? MICROSECOND),"
    " TIMESTAMPDIFF(MICROSECOND, n.heartbeat_at, NOW(6)) DIV 1000,"
    " n.last_seen "
    "FROM nodes n JOIN lease l ON l.name = 'master' ORDER BY n.name";

static json_t *api_int(const char *s) {
  return s ? json_integer(strtoll(s, NULL, 10)) : json_null();
}

static json_t *api_str(const char *s) { return s ? json_string(s) : json_null(); }

/* Runs a query with the worker timeout as its one parameter. */
static int api_query(const struct http_req *req, struct http_resp *resp,
                     const char *sql, struct db_rows *rows) {
  struct db_param p[] = {
      DB_U64((uint64_t)req->cfg->master.worker_timeout_ms * 1000u)};
  return http_db_read(resp, sql, p, 1, rows);
}

void api_healthz(const struct http_req *req, struct http_resp *resp) {
  resp->json = json_pack("{s:b,s:s}", "ok", 1, "node", req->cfg->node.name);
}

void api_status(const struct http_req *req, struct http_resp *resp) {
  struct db_rows r;
  if (api_query(req, resp, api_sql_status, &r) < 0) return;
  json_t *o = json_object();
  json_object_set_new(o, "node", json_string(req->cfg->node.name));
  json_object_set_new(o, "db", json_true());
  if (r.nrows == 1) {
    long long left = db_cell(&r, 0, 4) ? strtoll(db_cell(&r, 0, 4), NULL, 10)
                                       : -1;
    const char *holder = db_cell(&r, 0, 0);
    bool live = holder && holder[0] && left > 0;
    json_object_set_new(o, "master", live ? json_string(holder) : json_null());
    json_object_set_new(o, "holder", api_str(holder));
    json_object_set_new(o, "address", api_str(db_cell(&r, 0, 1)));
    json_object_set_new(o, "http", api_str(db_cell(&r, 0, 2)));
    json_object_set_new(o, "epoch", api_int(db_cell(&r, 0, 3)));
    json_object_set_new(o, "lease_expires_ms", json_integer(left));
    json_object_set_new(o, "lease_expires_at", api_str(db_cell(&r, 0, 5)));
    json_object_set_new(o, "acquired_at", api_str(db_cell(&r, 0, 6)));
    json_object_set_new(o, "workers", api_int(db_cell(&r, 0, 7)));
  } else {
    json_object_set_new(o, "master", json_null());
    json_object_set_new(o, "epoch", json_integer(0));
    json_object_set_new(o, "workers", json_integer(0));
  }
  db_rows_free(&r);
  resp->json = o;
}

/* "a,b" -> ["a","b"] */
static json_t *api_groups(const char *s) {
  json_t *a = json_array();
  if (s == NULL) return a;
  char *copy = strdup(s);
  if (copy == NULL) return a;
  char *items[CFG_MAX_GROUPS];
  int n = cfg_split_list(copy, items, CFG_MAX_GROUPS);
  for (int i = 0; i < n; i++) json_array_append_new(a, json_string(items[i]));
  free(copy);
  return a;
}

void api_workers(const struct http_req *req, struct http_resp *resp) {
  struct db_rows r;
  if (api_query(req, resp, api_sql_workers, &r) < 0) return;
  json_t *list = json_array();
  for (int i = 0; i < r.nrows; i++) {
    json_t *load = NULL;
    if (db_cell(&r, i, 8) != NULL)
      load = json_loads(db_cell(&r, i, 8), 0, NULL);
    if (load == NULL || !json_is_array(load)) {
      json_decref(load);
      load = json_array();
    }
    const char *conn = db_cell(&r, i, 14);
    json_t *w = json_pack(
        "{s:o,s:o,s:o,s:o,s:o,s:b,s:o,s:o,s:o,s:f,s:o,s:o,s:o,s:o,s:b,s:o,"
        "s:o}",
        "name", api_str(db_cell(&r, i, 0)), "address",
        api_str(db_cell(&r, i, 1)), "peer", api_str(db_cell(&r, i, 2)),
        "http", api_str(db_cell(&r, i, 3)), "groups",
        api_groups(db_cell(&r, i, 4)), "master_group",
        db_cell(&r, i, 5) && strcmp(db_cell(&r, i, 5), "1") == 0, "version",
        api_str(db_cell(&r, i, 6)), "cores", api_int(db_cell(&r, i, 7)),
        "load", load, "load_avg",
        db_cell(&r, i, 9) ? strtod(db_cell(&r, i, 9), NULL) : 0.0,
        "mem_used", api_int(db_cell(&r, i, 10)), "mem_total",
        api_int(db_cell(&r, i, 11)), "running", api_int(db_cell(&r, i, 12)),
        "max_running", api_int(db_cell(&r, i, 13)), "connected",
        conn != NULL && strcmp(conn, "1") == 0, "heartbeat_age_ms",
        api_int(db_cell(&r, i, 15)), "last_seen", api_str(db_cell(&r, i, 16)));
    if (w != NULL) json_array_append_new(list, w);
  }
  db_rows_free(&r);
  resp->json = json_pack("{s:o}", "workers", list);
}
