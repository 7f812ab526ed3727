#include "config.h"

#include "http/api_folders.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

static const char api_sql_folders[] =
    "SELECT path, COALESCE(variables, '{}'), updated_at FROM folders "
    "ORDER BY path";
static const char api_sql_folder_put[] =
    "INSERT INTO folders (path, variables) VALUES (?, ?) "
    "ON DUPLICATE KEY UPDATE variables = VALUES(variables)";

void api_folders_list(const struct http_req *req, struct http_resp *resp) {
  struct db_rows r;
  if (http_db_read(resp, api_sql_folders, NULL, 0, &r) < 0) return;
  json_t *list = json_array();
  for (int i = 0; i < r.nrows; i++) {
    json_t *vars = json_loads(db_cell(&r, i, 1), 0, NULL);
    if (!json_is_object(vars)) {
      json_decref(vars);
      vars = json_object();
    }
    json_array_append_new(list, json_pack("{s:s,s:o,s:s}", "path",
                                          db_cell(&r, i, 0), "variables", vars,
                                          "updated_at", db_cell(&r, i, 2)));
  }
  db_rows_free(&r);
  resp->json = json_pack("{s:o}", "folders", list);
}

/* "/a/b" with no empty, "." or ".." segment and only name characters. */
static bool api_folder_ok(const char *p) {
  if (p[0] != '/' || strlen(p) > 255) return false;
  if (p[1] == '\0') return true;
  for (const char *s = p + 1; *s;) {
    size_t n = strcspn(s, "/");
    if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && !strncmp(s, "..", 2)))
      return false;
    for (size_t i = 0; i < n; i++)
      if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i])) return false;
    s += n;
    if (*s == '/' && s[1] == '\0') return false;
    if (*s == '/') s++;
  }
  return true;
}

/* PUT /api/folders/{path} {"variables": {"name": "value", ...}} */
void api_folders_put(const struct http_req *req, struct http_resp *resp) {
  const char *path = req->path + strlen("/api/folders");
  if (!http_is_admin(req)) { /* they apply to everybody's jobs below */
    http_error(resp, 403, "only an administrator may set folder variables");
    return;
  }
  if (!api_folder_ok(path)) {
    http_field_error(resp, "path", "must be /name[/name...] of letters, "
                                   "digits, '_', '.' or '-'");
    return;
  }
  json_t *body;
  if (http_body_json(req, resp, &body) < 0) return;
  json_t *vars = json_object_get(body, "variables");
  const char *k;
  json_t *x;
  bool ok = json_is_object(vars);
  json_object_foreach(vars, k, x) ok = ok && json_is_string(x) && *k &&
                                       strlen(k) <= 64;
  if (!ok) {
    http_field_error(resp, "variables", "must be an object of name: string");
    json_decref(body);
    return;
  }
  char *text = json_dumps(vars, JSON_COMPACT | JSON_SORT_KEYS);
  struct db_conn *c = text ? http_db_or_503(resp) : NULL;
  if (c != NULL) {
    struct db_param p[] = {DB_STR(path), DB_STR(text)};
    if (db_exec(c, api_sql_folder_put, p, 2) < 0)
      http_error(resp, 503, "database unavailable: %s", c->err);
    else
      resp->json = json_pack("{s:s,s:O}", "path", path, "variables", vars);
    http_db_put(c);
  }
  free(text);
  json_decref(body);
}
