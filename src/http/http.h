/* http: the HTTP API every node serves (libmicrohttpd, its own threads;
 * never the event loop's).  Handlers may block on MariaDB: each borrows a
 * session from a small pool.  Routes are a table (api_*.c add theirs). */
#ifndef HERACRON_HTTP_H
#define HERACRON_HTTP_H

#include <jansson.h>
#include <stddef.h>

struct cfg;
struct db_conn;

/* Who is calling (filled by authentication; empty for public paths). */
struct http_user {
  char name[129];
  char role[16]; /* "admin" or "user" */
};

struct http_req {
  const char *method;  /* "GET", "POST", ... */
  const char *path;    /* without the query string */
  void *mhd_conn;      /* struct MHD_Connection *, for http_query() */
  const char *body;    /* request body (NUL-terminated), NULL if none */
  size_t body_len;
  const struct cfg *cfg;
  const char *remote;    /* peer address, for the audit */
  struct http_user user;
};

struct http_resp {
  unsigned status;
  json_t *json;      /* owned: released after sending */
  char *raw;         /* owned: a non-JSON body instead (raw_len bytes) */
  size_t raw_len;
  const char *ctype; /* its Content-Type (static) */
  const char *disposition; /* optional Content-Disposition (static) */
  /* A body produced as it is sent (e.g. a live log): read is called from
   * the connection's own thread and may block; it returns bytes written
   * into buf, or HTTP_STREAM_END.  free releases cls after the end. */
  void *stream_cls;
  long (*stream_read)(void *cls, char *buf, size_t max);
  void (*stream_free)(void *cls);
};

#define HTTP_STREAM_END (-1L)

/* Fills resp; returns nothing: errors become JSON responses. */
typedef void (*http_handler_fn)(const struct http_req *req,
                                struct http_resp *resp);

struct http_route {
  const char *method;
  const char *path; /* exact match, or a prefix when it ends with '/' */
  http_handler_fn fn;
};

/* Parses the request body as a JSON object into *out (owned by the
 * caller).  Returns 0, or -1 after setting a 400 response. */
int http_body_json(const struct http_req *req, struct http_resp *resp,
                   json_t **out);

/* Sets resp to {"error": msg, "field": field} with status 400. */
void http_field_error(struct http_resp *resp, const char *field,
                      const char *msg);

/* Binds cfg->http.listen and starts serving.  Returns 0, or -1 with a
 * message in err ("cannot listen on 127.0.0.1:8080: ..."). */
int http_start(const struct cfg *cfg, char *err, size_t errlen);
void http_stop(void);

/* A query-string argument, or NULL. */
const char *http_query(const struct http_req *req, const char *key);

/* Whether the caller is an administrator. */
int http_is_admin(const struct http_req *req);
/* Whether the caller may change, run or stop what owner owns: its owner
 * or an administrator.  If not, sets a 403 naming the owner. */
int http_may_change(const struct http_req *req, struct http_resp *resp,
                    const char *what, const char *owner);

/* Sets resp to {"error": msg} with status. */
void http_error(struct http_resp *resp, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Borrows a MariaDB session from the pool (connecting if needed); NULL
 * with a message in err when the database is unreachable.  Give it back
 * with http_db_put(). */
struct db_conn *http_db_get(char *err, size_t errlen);
void http_db_put(struct db_conn *c);
/* http_db_get, or NULL after setting a 503 response saying why. */
struct db_conn *http_db_or_503(struct http_resp *resp);
/* One query on a pooled session: the row count (rows in *out, owned by
 * the caller), or -1 after setting a 503 response. */
struct db_param;
struct db_rows;
int http_db_read(struct http_resp *resp, const char *sql,
                 const struct db_param *p, int np, struct db_rows *out);

#endif
