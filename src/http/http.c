#include "config.h"

#include "http/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/api_cluster.h"
#include "http/api_jobs.h"
#include "http/api_folders.h"
#include "http/api_instances.h"
#include "http/api_ops.h"
#include "http/api_users.h"
#include "http/static.h"
#include "store/db.h"
#include "util/cfg.h"
#include "util/log.h"

#define HTTP_BODY_MAX (1u << 20)
#define HTTP_DB_POOL 4

static const struct http_route http_routes[] = {
    {"GET", "/healthz", api_healthz},
    {"GET", "/api/status", api_status},
    {"GET", "/api/workers", api_workers},
    {"GET", "/api/jobs", api_jobs_list},
    {"POST", "/api/jobs", api_jobs_create},
    {"GET", "/api/jobs/", api_jobs_get},
    {"PUT", "/api/jobs/", api_jobs_update},
    {"POST", "/api/jobs/", api_jobs_action},
    {"DELETE", "/api/jobs/", api_jobs_delete},
    {"GET", "/api/instances", api_instances_list},
    {"GET", "/api/instances/", api_instances_get},
    {"POST", "/api/instances/", api_instances_op},
    {"GET", "/api/actions", api_actions_list},
    {"POST", "/api/actions/", api_actions_op},
    {"POST", "/api/reruns", api_reruns_create},
    {"POST", "/api/debug", api_debug_create},
    {"GET", "/api/folders", api_folders_list},
    {"PUT", "/api/folders/", api_folders_put},
    {"POST", "/api/login", api_login},
    {"POST", "/api/logout", api_logout},
    {"GET", "/api/me", api_me},
    {"GET", "/api/users", api_users_list},
    {"POST", "/api/users", api_users_create},
    {"DELETE", "/api/users/", api_users_delete},
    {"GET", "/api/audit", api_audit_list},
    {"GET", "/api/cron/next", api_cron_next},
};

int http_is_admin(const struct http_req *req) {
  return strcmp(req->user.role, "admin") == 0;
}

int http_may_change(const struct http_req *req, struct http_resp *resp,
                    const char *what, const char *owner) {
  if (http_is_admin(req) || (owner && strcmp(owner, req->user.name) == 0))
    return 1;
  http_error(resp, 403, "%s belongs to %s: only its owner or an "
             "administrator may change, run or stop it", what,
             owner && *owner ? owner : "nobody");
  return 0;
}

/* Whether a route's path matches url (prefix routes need more after it). */
static bool http_path_match(const char *route, const char *url) {
  size_t n = strlen(route);
  if (n > 0 && route[n - 1] == '/')
    return strncmp(route, url, n) == 0 && url[n] != '\0';
  return strcmp(route, url) == 0;
}

int http_body_json(const struct http_req *req, struct http_resp *resp,
                   json_t **out) {
  json_error_t e;
  if (req->body == NULL || req->body_len == 0) {
    http_error(resp, 400, "a JSON object is expected in the request body");
    return -1;
  }
  *out = json_loadb(req->body, req->body_len, 0, &e);
  if (*out == NULL || !json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    http_error(resp, 400, "request body is not a JSON object: %s",
               e.text[0] ? e.text : "wrong type");
    return -1;
  }
  return 0;
}

void http_field_error(struct http_resp *resp, const char *field,
                      const char *msg) {
  json_decref(resp->json);
  resp->status = 400;
  resp->json = json_pack("{s:s,s:s}", "error", msg, "field", field);
  if (resp->json != NULL && msg != NULL) {
    char full[600];
    snprintf(full, sizeof(full), "%s: %s", field, msg);
    json_object_set_new(resp->json, "error", json_string(full));
  }
}

static struct {
  struct MHD_Daemon *d;
  int fd;
  const struct cfg *cfg;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct db_conn db[HTTP_DB_POOL];
  bool busy[HTTP_DB_POOL];
} hs = {.fd = -1,
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .cond = PTHREAD_COND_INITIALIZER};

/* The body of a request being received. */
struct http_body {
  char *data;
  size_t len;
  bool too_big;
};

void http_error(struct http_resp *resp, unsigned status, const char *fmt,
                ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  json_decref(resp->json);
  resp->status = status;
  resp->json = json_pack("{s:s}", "error", msg);
}

const char *http_query(const struct http_req *req, const char *key) {
  return MHD_lookup_connection_value(req->mhd_conn, MHD_GET_ARGUMENT_KIND,
                                     key);
}

int http_db_read(struct http_resp *resp, const char *sql,
                 const struct db_param *p, int np, struct db_rows *out) {
  struct db_conn *c = http_db_or_503(resp);
  if (c == NULL) return -1;
  int n = db_query(c, sql, p, np, out);
  if (n < 0) http_error(resp, 503, "database unavailable: %s", c->err);
  http_db_put(c);
  return n;
}

struct db_conn *http_db_or_503(struct http_resp *resp) {
  char err[256];
  struct db_conn *c = http_db_get(err, sizeof(err));
  if (c == NULL) http_error(resp, 503, "database unavailable: %s", err);
  return c;
}

struct db_conn *http_db_get(char *err, size_t errlen) {
  int slot = -1;
  pthread_mutex_lock(&hs.lock);
  for (;;) {
    for (int i = 0; i < HTTP_DB_POOL; i++)
      if (!hs.busy[i]) {
        slot = i;
        break;
      }
    if (slot >= 0) break;
    pthread_cond_wait(&hs.cond, &hs.lock);
  }
  hs.busy[slot] = true;
  pthread_mutex_unlock(&hs.lock);
  struct db_conn *c = &hs.db[slot];
  if (c->m == NULL && db_connect(c, hs.cfg, true) < 0) {
    snprintf(err, errlen, "%s", c->err);
    http_db_put(c);
    return NULL;
  }
  return c;
}

void http_db_put(struct db_conn *c) {
  pthread_mutex_lock(&hs.lock);
  hs.busy[c - hs.db] = false;
  pthread_cond_signal(&hs.cond);
  pthread_mutex_unlock(&hs.lock);
}

static enum MHD_Result http_send_raw(struct MHD_Connection *conn,
                                     struct http_resp *resp) {
  struct MHD_Response *r = MHD_create_response_from_buffer(
      resp->raw_len, resp->raw, MHD_RESPMEM_MUST_FREE);
  if (r == NULL) {
    free(resp->raw);
    return MHD_NO;
  }
  resp->raw = NULL;
  MHD_add_response_header(r, "Content-Type", resp->ctype ? resp->ctype
                                                         : "text/plain");
  if (resp->disposition)
    MHD_add_response_header(r, "Content-Disposition", resp->disposition);
  MHD_add_response_header(r, "Cache-Control", "no-store");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  enum MHD_Result ok = MHD_queue_response(conn, resp->status, r);
  MHD_destroy_response(r);
  return ok;
}

struct http_stream {
  void *cls;
  long (*read)(void *cls, char *buf, size_t max);
  void (*free)(void *cls);
};

static ssize_t http_stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
  struct http_stream *s = cls;
  long n = s->read(s->cls, buf, max);
  return n == HTTP_STREAM_END ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void http_stream_free(void *cls) {
  struct http_stream *s = cls;
  s->free(s->cls);
  free(s);
}

static enum MHD_Result http_send_stream(struct MHD_Connection *conn,
                                        struct http_resp *resp) {
  struct http_stream *s = malloc(sizeof(*s));
  if (s == NULL) {
    resp->stream_free(resp->stream_cls);
    return MHD_NO;
  }
  *s = (struct http_stream){resp->stream_cls, resp->stream_read, resp->stream_free};
  struct MHD_Response *r = MHD_create_response_from_callback(
      MHD_SIZE_UNKNOWN, 16384, http_stream_read, s, http_stream_free);
  if (r == NULL) {
    http_stream_free(s);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", resp->ctype ? resp->ctype
                                                         : "text/plain");
  MHD_add_response_header(r, "Cache-Control", "no-store");
  MHD_add_response_header(r, "X-Accel-Buffering", "no");
  enum MHD_Result ok = MHD_queue_response(conn, resp->status, r);
  MHD_destroy_response(r);
  return ok;
}

static enum MHD_Result http_send(struct MHD_Connection *conn,
                                 struct http_resp *resp) {
  if (resp->stream_read != NULL) {
    json_decref(resp->json);
    resp->json = NULL;
    return http_send_stream(conn, resp);
  }
  if (resp->raw != NULL) {
    json_decref(resp->json);
    resp->json = NULL;
    return http_send_raw(conn, resp);
  }
  char *text = resp->json ? json_dumps(resp->json, JSON_COMPACT) : NULL;
  json_decref(resp->json);
  resp->json = NULL;
  if (text == NULL) {
    text = strdup("{\"error\":\"internal error\"}");
    resp->status = 500;
    if (text == NULL) return MHD_NO;
  }
  size_t len = strlen(text);
  /* Newline-terminated: friendlier for curl users. */
  char *body = realloc(text, len + 2);
  if (body == NULL) {
    free(text);
    return MHD_NO;
  }
  body[len] = '\n';
  body[len + 1] = '\0';
  struct MHD_Response *r = MHD_create_response_from_buffer(
      len + 1, body, MHD_RESPMEM_MUST_FREE);
  if (r == NULL) {
    free(body);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", "application/json");
  MHD_add_response_header(r, "Cache-Control", "no-store");
  enum MHD_Result ok = MHD_queue_response(conn, resp->status, r);
  MHD_destroy_response(r);
  return ok;
}

/* The peer's address as text. */
static void http_remote(struct MHD_Connection *conn, char *out, size_t len) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (ci == NULL || ci->client_addr == NULL ||
      getnameinfo(ci->client_addr, ci->client_addr->sa_family == AF_INET6
                                       ? sizeof(struct sockaddr_in6)
                                       : sizeof(struct sockaddr_in),
                  out, (socklen_t)len, NULL, 0, NI_NUMERICHOST) != 0)
    snprintf(out, len, "?");
}

/* Records a command: who, what, the answer; for a login, the name tried
 * (the body is never recorded: it holds the password). */
static void http_audit(struct http_req *req, const struct http_resp *resp) {
  char detail[600] = "";
  json_t *err = resp->json ? json_object_get(resp->json, "error") : NULL;
  if (strcmp(req->path, "/api/login") == 0 && req->body) {
    json_t *b = json_loadb(req->body, req->body_len, 0, NULL);
    const char *u = json_string_value(json_object_get(b, "user"));
    snprintf(req->user.name, sizeof(req->user.name), "%s", u ? u : "");
    json_decref(b);
  }
  if (json_is_string(err)) snprintf(detail, sizeof(detail), "%s", json_string_value(err));
  api_audit_record(req, resp, detail);
}

static enum MHD_Result http_handler(void *cls, struct MHD_Connection *conn,
                                    const char *url, const char *method,
                                    const char *version,
                                    const char *upload_data,
                                    size_t *upload_size, void **con_cls) {
  struct http_body *b = *con_cls;
  if (b == NULL) { /* first call: headers only */
    b = calloc(1, sizeof(*b));
    if (b == NULL) return MHD_NO;
    *con_cls = b;
    return MHD_YES;
  }
  if (*upload_size > 0) {
    if (!b->too_big && b->len + *upload_size <= HTTP_BODY_MAX) {
      char *nd = realloc(b->data, b->len + *upload_size + 1);
      if (nd == NULL) return MHD_NO;
      memcpy(nd + b->len, upload_data, *upload_size);
      b->data = nd;
      b->len += *upload_size;
      b->data[b->len] = '\0';
    } else {
      b->too_big = true;
    }
    *upload_size = 0;
    return MHD_YES;
  }

  struct http_resp resp = {.status = 200, .json = NULL};
  char remote[64] = "";
  http_remote(conn, remote, sizeof(remote));
  struct http_req req = {.method = method, .path = url, .mhd_conn = conn,
                         .body = b->data, .body_len = b->len, .cfg = hs.cfg,
                         .remote = remote};
  if (b->too_big) {
    http_error(&resp, 413, "request body larger than %u bytes", HTTP_BODY_MAX);
    return http_send(conn, &resp);
  }
  bool api = strncmp(url, "/api/", 5) == 0;
  if (!api && strcmp(url, "/healthz") != 0) { /* the console, /metrics */
    http_static(&req, &resp);
    return http_send(conn, &resp);
  }
  bool command = strcmp(method, "GET") != 0;
  if (api && strcmp(url, "/api/login") != 0 &&
      api_authenticate(&req, &resp) < 0)
    return http_send(conn, &resp);
  bool path_known = false, done = false;
  for (size_t i = 0; i < sizeof(http_routes) / sizeof(http_routes[0]); i++) {
    if (!http_path_match(http_routes[i].path, url)) continue;
    path_known = true;
    if (strcmp(http_routes[i].method, method) != 0) continue;
    http_routes[i].fn(&req, &resp);
    if (resp.json == NULL && resp.raw == NULL && resp.stream_read == NULL)
      http_error(&resp, 500, "internal error");
    done = true;
    break;
  }
  if (!done && path_known)
    http_error(&resp, 405, "method %s not allowed on %s", method, url);
  else if (!done)
    http_error(&resp, 404, "no such resource: %s", url);
  if (command) http_audit(&req, &resp);
  return http_send(conn, &resp);
}

static void http_completed(void *cls, struct MHD_Connection *conn,
                           void **con_cls,
                           enum MHD_RequestTerminationCode toe) {
  struct http_body *b = *con_cls;
  if (b == NULL) return;
  free(b->data);
  free(b);
  *con_cls = NULL;
}

static void http_log(void *cls, const char *fmt, va_list ap) {
  char msg[512];
  vsnprintf(msg, sizeof(msg), fmt, ap);
  msg[strcspn(msg, "\n")] = '\0';
  log_warn("http: %s", msg);
}

int http_start(const struct cfg *cfg, char *err, size_t errlen) {
  char host[256], ps[8];
  uint16_t port;
  hs.cfg = cfg;
  for (int i = 0; i < HTTP_DB_POOL; i++) db_conn_init(&hs.db[i], 10);
  if (cfg_split_hostport(cfg->http.listen, host, sizeof(host), &port) < 0) {
    snprintf(err, errlen, "http.listen '%s' is not host:port",
             cfg->http.listen);
    return -1;
  }
  snprintf(ps, sizeof(ps), "%u", port);
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  int rc = getaddrinfo(host, ps, &hints, &ai);
  if (rc != 0) {
    snprintf(err, errlen, "cannot listen on %s: %s (use a numeric address)",
             cfg->http.listen, gai_strerror(rc));
    return -1;
  }
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
      bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
    snprintf(err, errlen, "cannot listen on %s: %s", cfg->http.listen,
             strerror(errno));
    if (fd >= 0) close(fd);
    freeaddrinfo(ai);
    return -1;
  }
  freeaddrinfo(ai);
  hs.fd = fd;
  hs.d = MHD_start_daemon(
      /* a thread per connection: a live log may wait for output */
      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
          MHD_USE_ERROR_LOG,
      0, NULL, NULL, http_handler, NULL,
      MHD_OPTION_EXTERNAL_LOGGER, http_log, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
      MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL, MHD_OPTION_END);
  if (hs.d == NULL) {
    snprintf(err, errlen, "cannot start the HTTP server on %s",
             cfg->http.listen);
    close(fd);
    hs.fd = -1;
    return -1;
  }
  return 0;
}

void http_stop(void) {
  if (hs.d != NULL) MHD_stop_daemon(hs.d);
  hs.d = NULL;
  if (hs.fd >= 0) close(hs.fd);
  hs.fd = -1;
  for (int i = 0; i < HTTP_DB_POOL; i++) db_close(&hs.db[i]);
}
