#include "config.h"

#include "http/api_users.h"

#include <ctype.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/db.h"
#include "store/users.h"
#include "util/cfg.h"
#include "util/log.h"
#include "util/secret.h"

#define API_TOKEN_TTL_S (7 * 86400)
#define API_LOGIN_WINDOW_S 60 /* failed logins counted over this long */
#define API_LOGIN_MAX_FAILS 5 /* per user and address within the window */
#define API_LOGIN_SLOTS 256

/* ---- authentication ---------------------------------------------------- */

static const char api_sql_token[] =
    "SELECT u.name, u.role FROM tokens t JOIN users u ON u.name = t.user_name "
    "WHERE t.token_hash = ? AND t.expires_at > NOW(6)";

/* The bearer token of req: the Authorization header, or ?token= on a
 * download (a browser link cannot set a header). */
static const char *api_bearer(const struct http_req *req) {
  const char *h = MHD_lookup_connection_value(req->mhd_conn, MHD_HEADER_KIND,
                                              "Authorization");
  if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) return h + 7;
  size_t n = strlen(req->path);
  if (n > 9 && strcmp(req->path + n - 9, "/download") == 0)
    return http_query(req, "token");
  return NULL;
}

int api_authenticate(struct http_req *req, struct http_resp *resp) {
  const char *tok = api_bearer(req);
  if (tok == NULL || *tok == '\0') {
    http_error(resp, 401, "log in first: send Authorization: Bearer TOKEN "
                          "(heracron login)");
    return -1;
  }
  /* The cluster token acts as an administrator (for operations scripts
   * and the nodes' own tools); it is compared in constant time. */
  const char *ct = req->cfg->cluster.token;
  if (ct != NULL && *ct && secret_equal(tok, ct)) {
    snprintf(req->user.name, sizeof(req->user.name), "cluster");
    snprintf(req->user.role, sizeof(req->user.role), "admin");
    return 0;
  }
  /* a map job's part adding sub-tasks to its own instance */
  long long id;
  char rest[8] = "", mt[SECRET_TOKEN_HEX];
  if (ct != NULL && *ct &&
      sscanf(req->path, "/api/instances/%lld/%7s", &id, rest) == 2 &&
      strcmp(rest, "map") == 0) {
    secret_map_token(ct, (unsigned long long)id, mt);
    if (secret_equal(tok, mt)) {
      snprintf(req->user.name, sizeof(req->user.name), "task:%lld", id);
      snprintf(req->user.role, sizeof(req->user.role), "task");
      return 0;
    }
  }
  char hash[SECRET_TOKEN_HEX];
  secret_token_hash(tok, hash);
  struct db_param p[] = {DB_STR(hash)};
  struct db_rows r;
  int n = http_db_read(resp, api_sql_token, p, 1, &r);
  if (n < 0) return -1;
  if (n == 0) {
    http_error(resp, 401, "the token is unknown or has expired: log in again");
    return -1;
  }
  snprintf(req->user.name, sizeof(req->user.name), "%s", db_cell(&r, 0, 0));
  snprintf(req->user.role, sizeof(req->user.role), "%s", db_cell(&r, 0, 1));
  db_rows_free(&r);
  return 0;
}

/* ---- login rate limit -------------------------------------------------- */

/* Failed attempts per (user, address), in a small table; the oldest slot
 * is reused when it is full. */
static struct {
  pthread_mutex_t lock;
  struct {
    char key[200];
    time_t first;
    int fails;
  } slot[API_LOGIN_SLOTS];
} lim = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int api_login_slot(const char *key, time_t now) {
  int oldest = 0;
  for (int i = 0; i < API_LOGIN_SLOTS; i++) {
    if (lim.slot[i].key[0] && now - lim.slot[i].first > API_LOGIN_WINDOW_S)
      lim.slot[i].key[0] = '\0';
    if (strcmp(lim.slot[i].key, key) == 0 && key[0]) return i;
    if (lim.slot[i].first < lim.slot[oldest].first) oldest = i;
  }
  for (int i = 0; i < API_LOGIN_SLOTS; i++)
    if (lim.slot[i].key[0] == '\0') oldest = i;
  snprintf(lim.slot[oldest].key, sizeof(lim.slot[oldest].key), "%s", key);
  lim.slot[oldest].first = now;
  lim.slot[oldest].fails = 0;
  return oldest;
}

/* Whether key may try now; counts a failure when failed is set. */
static bool api_login_allowed(const char *key, bool failed) {
  time_t now = time(NULL);
  pthread_mutex_lock(&lim.lock);
  int i = api_login_slot(key, now);
  if (failed) lim.slot[i].fails++;
  bool ok = lim.slot[i].fails < API_LOGIN_MAX_FAILS;
  pthread_mutex_unlock(&lim.lock);
  return ok;
}

/* ---- login, logout, me --------------------------------------------------- */

static const char api_sql_user[] =
    "SELECT name, password_hash, role, email FROM users WHERE name = ?";
static const char api_sql_token_add[] =
    "INSERT INTO tokens (token_hash, user_name, expires_at) VALUES"
    " (?, ?, NOW(6) + INTERVAL ? SECOND)";
static const char api_sql_token_del[] = "DELETE FROM tokens WHERE token_hash = ?";
static const char api_sql_token_old[] =
    "DELETE FROM tokens WHERE expires_at < NOW(6)";
static const char api_sql_expiry[] =
    "SELECT DATE_FORMAT(NOW(6) + INTERVAL ? SECOND, '%Y-%m-%d %H:%i:%s')";

void api_login(const struct http_req *req, struct http_resp *resp) {
  json_t *body;
  if (http_body_json(req, resp, &body) < 0) return;
  const char *user = json_string_value(json_object_get(body, "user"));
  const char *pw = json_string_value(json_object_get(body, "password"));
  if (user == NULL || pw == NULL) {
    http_field_error(resp, user ? "password" : "user", "is required");
    json_decref(body);
    return;
  }
  char key[200];
  snprintf(key, sizeof(key), "%.128s@%.60s", user, req->remote);
  if (!api_login_allowed(key, false)) {
    http_error(resp, 429, "too many failed logins for %s from %s; wait a "
               "minute", user, req->remote);
    json_decref(body);
    return;
  }
  struct db_conn *c = http_db_or_503(resp);
  if (c == NULL) {
    json_decref(body);
    return;
  }
  struct db_rows r;
  struct db_param p[] = {DB_STR(user)};
  int n = db_query(c, api_sql_user, p, 1, &r);
  char tok[SECRET_TOKEN_HEX], hash[SECRET_TOKEN_HEX];
  if (n < 0) {
    http_error(resp, 503, "database unavailable: %s", c->err);
  } else if (n == 0 || !secret_check_password(pw, db_cell(&r, 0, 1))) {
    api_login_allowed(key, true);
    http_error(resp, 401, "wrong user name or password");
  } else if (secret_new_token(tok) < 0) {
    http_error(resp, 500, "no randomness for a token");
  } else {
    secret_token_hash(tok, hash);
    struct db_param t[] = {DB_STR(hash), DB_STR(db_cell(&r, 0, 0)),
                           DB_I64(API_TOKEN_TTL_S)};
    struct db_param e[] = {DB_I64(API_TOKEN_TTL_S)};
    struct db_rows x;
    if (db_exec(c, api_sql_token_old, NULL, 0) < 0 ||
        db_exec(c, api_sql_token_add, t, 3) != 1 ||
        db_query(c, api_sql_expiry, e, 1, &x) != 1) {
      http_error(resp, 503, "database unavailable: %s", c->err);
    } else {
      resp->json = json_pack("{s:s,s:s,s:s,s:s}", "token", tok, "user",
                             db_cell(&r, 0, 0), "role", db_cell(&r, 0, 2),
                             "expires_at", db_cell(&x, 0, 0));
      db_rows_free(&x);
    }
  }
  db_rows_free(&r);
  http_db_put(c);
  json_decref(body);
}

void api_logout(const struct http_req *req, struct http_resp *resp) {
  const char *tok = api_bearer(req);
  char hash[SECRET_TOKEN_HEX];
  secret_token_hash(tok ? tok : "", hash);
  struct db_conn *c = http_db_or_503(resp);
  if (c == NULL) return;
  struct db_param p[] = {DB_STR(hash)};
  if (db_exec(c, api_sql_token_del, p, 1) < 0)
    http_error(resp, 503, "database unavailable: %s", c->err);
  else
    resp->json = json_pack("{s:b}", "logged_out", 1);
  http_db_put(c);
}

void api_me(const struct http_req *req, struct http_resp *resp) {
  struct db_rows r;
  struct db_param p[] = {DB_STR(req->user.name)};
  int n = http_db_read(resp, api_sql_user, p, 1, &r);
  if (n < 0) return;
  resp->json = json_pack("{s:s,s:s,s:s}", "user", req->user.name, "role",
                         req->user.role, "email", n ? db_cell(&r, 0, 3) : "");
  db_rows_free(&r);
}

/* ---- users (admins) ----------------------------------------------------- */

static const char api_sql_users[] =
    "SELECT name, email, role, created_at FROM users ORDER BY name";
static const char api_sql_user_del[] = "DELETE FROM users WHERE name = ?";
static const char api_sql_user_tokens_del[] =
    "DELETE FROM tokens WHERE user_name = ?";

static bool api_admin(const struct http_req *req, struct http_resp *resp) {
  if (http_is_admin(req)) return true;
  http_error(resp, 403, "only an administrator may do this");
  return false;
}

void api_users_list(const struct http_req *req, struct http_resp *resp) {
  if (!api_admin(req, resp)) return;
  struct db_rows r;
  if (http_db_read(resp, api_sql_users, NULL, 0, &r) < 0) return;
  json_t *list = json_array();
  for (int i = 0; i < r.nrows; i++)
    json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s}", "name",
                                          db_cell(&r, i, 0), "email",
                                          db_cell(&r, i, 1), "role",
                                          db_cell(&r, i, 2), "created_at",
                                          db_cell(&r, i, 3)));
  db_rows_free(&r);
  resp->json = json_pack("{s:o}", "users", list);
}

void api_users_create(const struct http_req *req, struct http_resp *resp) {
  if (!api_admin(req, resp)) return;
  json_t *body;
  if (http_body_json(req, resp, &body) < 0) return;
  const char *name = json_string_value(json_object_get(body, "name"));
  struct db_conn *c = http_db_or_503(resp);
  if (c != NULL) {
    char err[300], field[32];
    int rc = users_create(
        c, name, json_string_value(json_object_get(body, "email")),
        json_string_value(json_object_get(body, "password")),
        json_string_value(json_object_get(body, "role")) ?: "user", err,
        sizeof(err), field, sizeof(field));
    if (rc == 0) {
      resp->status = 201;
      resp->json = json_pack("{s:s}", "name", name);
    } else if (rc == -1) {
      http_field_error(resp, field, err);
    } else if (rc == -2) {
      http_error(resp, 409, "a user named '%s' exists already", name);
    } else {
      http_error(resp, 503, "database unavailable: %s", err);
    }
    http_db_put(c);
  }
  json_decref(body);
}

void api_users_delete(const struct http_req *req, struct http_resp *resp) {
  if (!api_admin(req, resp)) return;
  const char *name = req->path + strlen("/api/users/");
  if (strcmp(name, req->user.name) == 0) {
    http_error(resp, 409, "you cannot delete yourself");
    return;
  }
  struct db_conn *c = http_db_or_503(resp);
  if (c == NULL) return;
  struct db_param p[] = {DB_STR(name)};
  int64_t n = db_exec(c, api_sql_user_del, p, 1);
  if (n < 0 || db_exec(c, api_sql_user_tokens_del, p, 1) < 0)
    http_error(resp, 503, "database unavailable: %s", c->err);
  else if (n == 0)
    http_error(resp, 404, "no such user: %s", name);
  else
    resp->json = json_pack("{s:b,s:s}", "deleted", 1, "name", name);
  http_db_put(c);
}

/* ---- audit ------------------------------------------------------------- */

static const char api_sql_audit_add[] =
    "INSERT INTO audit (user_name, remote, method, path, status, detail)"
    " VALUES (?, ?, ?, ?, ?, ?)";
static const char api_sql_audit[] =
    "SELECT at, user_name, remote, method, path, status, detail FROM audit "
    "ORDER BY id DESC LIMIT ?";

void api_audit_record(const struct http_req *req, const struct http_resp *resp,
                      const char *detail) {
  char err[256];
  struct db_conn *c = http_db_get(err, sizeof(err));
  if (c == NULL) {
    log_warn("http: audit of %s %s by %s not recorded: %s", req->method,
             req->path, req->user.name, err);
    return;
  }
  struct db_param p[] = {DB_STR(req->user.name), DB_STR(req->remote),
                         DB_STR(req->method),    DB_STRN(req->path, strnlen(req->path, 512)),
                         DB_I64(resp->status),   DB_STRN(detail, strnlen(detail, 1024))};
  if (db_exec(c, api_sql_audit_add, p, 6) < 0)
    log_warn("http: audit of %s %s by %s not recorded: %s", req->method,
             req->path, req->user.name, c->err);
  http_db_put(c);
}

void api_audit_list(const struct http_req *req, struct http_resp *resp) {
  const char *l = http_query(req, "limit");
  long long limit = l ? strtoll(l, NULL, 10) : 200;
  if (limit < 1 || limit > 10000) {
    http_field_error(resp, "limit", "must be 1-10000");
    return;
  }
  struct db_param p[] = {DB_I64(limit)};
  struct db_rows r;
  if (http_db_read(resp, api_sql_audit, p, 1, &r) < 0) return;
  json_t *list = json_array();
  for (int i = 0; i < r.nrows; i++)
    json_array_append_new(
        list, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s}", "at", db_cell(&r, i, 0),
                        "user", db_cell(&r, i, 1), "remote", db_cell(&r, i, 2),
                        "method", db_cell(&r, i, 3), "path", db_cell(&r, i, 4),
                        "status", (json_int_t)strtoll(db_cell(&r, i, 5), NULL, 10),
                        "detail", db_cell(&r, i, 6)));
  db_rows_free(&r);
  resp->json = json_pack("{s:o}", "audit", list);
}
