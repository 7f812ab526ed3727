#include "config.h"

#include "http/api_logs.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/db.h"

#define API_LOG_PAGE_LINES 200
#define API_STREAM_POLL_MS 250
#define API_STREAM_PING_S 10
#define API_STREAM_MAX_S 86400

static const char api_sql_status[] = "SELECT status FROM instances WHERE id = ?";
static const char api_sql_chunks[] =
    "SELECT seq, data FROM instance_logs WHERE instance_id = ? AND seq > ? "
    "ORDER BY seq LIMIT 200";
static const char api_sql_all[] =
    "SELECT data FROM instance_logs WHERE instance_id = ? ORDER BY seq";

static bool api_final(const char *s) {
  return strcmp(s, "WAITING") && strcmp(s, "QUEUED") &&
         strcmp(s, "DISPATCHED") && strcmp(s, "RUNNING");
}

/* The whole log of id in a new buffer (*len bytes), and its status; NULL
 * after a 404 or 503. */
static char *api_log_all(struct http_resp *resp, long long id, size_t *len,
                         char *status, size_t slen) {
  struct db_conn *c = http_db_or_503(resp);
  if (c == NULL) return NULL;
  struct db_param p[] = {DB_I64(id)};
  struct db_rows s, r;
  int n = db_query(c, api_sql_status, p, 1, &s);
  if (n <= 0) {
    if (n == 0) http_error(resp, 404, "no such instance: %lld", id);
    else http_error(resp, 503, "database unavailable: %s", c->err);
    http_db_put(c);
    return NULL;
  }
  snprintf(status, slen, "%s", db_cell(&s, 0, 0));
  db_rows_free(&s);
  if (db_query(c, api_sql_all, p, 1, &r) < 0) {
    http_error(resp, 503, "database unavailable: %s", c->err);
    http_db_put(c);
    return NULL;
  }
  http_db_put(c);
  size_t total = 0;
  for (int i = 0; i < r.nrows; i++) total += strlen(db_cell(&r, i, 0));
  char *out = malloc(total + 1);
  if (out != NULL) {
    size_t off = 0;
    for (int i = 0; i < r.nrows; i++) {
      size_t l = strlen(db_cell(&r, i, 0));
      memcpy(out + off, db_cell(&r, i, 0), l);
      off += l;
    }
    out[off] = '\0';
    *len = off;
  } else {
    http_error(resp, 500, "out of memory");
  }
  db_rows_free(&r);
  return out;
}

void api_log_download(const struct http_req *req, struct http_resp *resp,
                      long long id) {
  char status[32];
  size_t len = 0;
  char *text = api_log_all(resp, id, &len, status, sizeof(status));
  if (text == NULL) return;
  resp->raw = text;
  resp->raw_len = len;
  resp->ctype = "text/plain; charset=utf-8";
  resp->disposition = "attachment; filename=\"heracron-instance.log\"";
}

void api_log_page(const struct http_req *req, struct http_resp *resp,
                  long long id) {
  const char *pg = http_query(req, "page"), *ln = http_query(req, "lines");
  long long page = pg ? strtoll(pg, NULL, 10) : 0;
  long long lines = ln ? strtoll(ln, NULL, 10) : API_LOG_PAGE_LINES;
  if (lines < 1 || lines > 10000 || page < 0) {
    http_field_error(resp, lines < 1 || lines > 10000 ? "lines" : "page",
                     "lines must be 1-10000 and page 0 (the last) or more");
    return;
  }
  char status[32];
  size_t len = 0;
  char *text = api_log_all(resp, id, &len, status, sizeof(status));
  if (text == NULL) return;
  long long total = 0; /* lines; a last one without '\n' counts too */
  for (size_t i = 0; i < len; i++)
    if (text[i] == '\n') total++;
  if (len > 0 && text[len - 1] != '\n') total++;
  long long pages = total ? (total + lines - 1) / lines : 1;
  if (page == 0 || page > pages) page = page == 0 ? pages : page;
  long long first = (page - 1) * lines, seen = 0;
  size_t from = len, to = len;
  for (size_t i = 0; i <= len; i++) {
    if (seen == first && from == len) from = i;
    if (seen == first + lines) {
      to = i;
      break;
    }
    if (i < len && text[i] == '\n') seen++;
  }
  if (from > to) from = to;
  resp->json = json_pack("{s:I,s:s,s:I,s:I,s:I,s:I,s:s%}", "instance",
                         (json_int_t)id, "status", status, "page",
                         (json_int_t)page, "pages", (json_int_t)pages,
                         "lines", (json_int_t)lines, "total_lines",
                         (json_int_t)total, "data", text + from, to - from);
  free(text);
}

/* ---- live stream ------------------------------------------------------- */

struct api_stream {
  long long id, after;
  char *buf; /* owned: formatted events not yet sent */
  size_t len, off;
  bool ended;
  time_t started, last_sent;
};

static void api_stream_add(struct api_stream *s, const char *event,
                           json_t *data) {
  char *d = json_dumps(data, JSON_COMPACT);
  json_decref(data);
  if (d == NULL) return;
  size_t need = strlen(event) + strlen(d) + 32;
  char *nb = realloc(s->buf, s->len + need);
  if (nb == NULL) {
    free(d);
    return;
  }
  s->buf = nb;
  s->len += (size_t)snprintf(s->buf + s->len, need, "event: %s\ndata: %s\n\n",
                             event, d);
  free(d);
}

/* Reads what is new; false if the database could not be asked. */
static bool api_stream_poll(struct api_stream *s) {
  char err[256];
  struct db_conn *c = http_db_get(err, sizeof(err));
  if (c == NULL) return false;
  struct db_param p[] = {DB_I64(s->id), DB_I64(s->after)};
  struct db_param q[] = {DB_I64(s->id)};
  struct db_rows st, r;
  /* the status first: output written before it ended is read after */
  int n = db_query(c, api_sql_status, q, 1, &st);
  bool ok = n >= 0 && db_query(c, api_sql_chunks, p, 2, &r) >= 0;
  http_db_put(c);
  if (!ok) {
    if (n >= 0) db_rows_free(&st);
    return false;
  }
  for (int i = 0; i < r.nrows; i++) {
    s->after = strtoll(db_cell(&r, i, 0), NULL, 10);
    api_stream_add(s, "chunk", json_pack("{s:I,s:s}", "seq", (json_int_t)s->after,
                                         "data", db_cell(&r, i, 1)));
  }
  bool more = r.nrows == 200;
  db_rows_free(&r);
  if (n == 0 || (!more && api_final(db_cell(&st, 0, 0)))) {
    api_stream_add(s, "end", json_pack("{s:s}", "status",
                                       n ? db_cell(&st, 0, 0) : "UNKNOWN"));
    s->ended = true;
  }
  if (n > 0) db_rows_free(&st);
  return true;
}

static long api_stream_read(void *cls, char *buf, size_t max) {
  struct api_stream *s = cls;
  while (s->off == s->len) {
    s->off = s->len = 0;
    if (s->ended || time(NULL) - s->started > API_STREAM_MAX_S)
      return HTTP_STREAM_END;
    if (!api_stream_poll(s)) s->ended = true; /* the client reconnects */
    if (s->len == 0) {
      if (time(NULL) - s->last_sent >= API_STREAM_PING_S) {
        static const char ping[] = ": ping\n\n";
        memcpy(buf, ping, sizeof(ping) - 1);
        s->last_sent = time(NULL);
        return (long)(sizeof(ping) - 1);
      }
      struct timespec ts = {0, API_STREAM_POLL_MS * 1000000L};
      nanosleep(&ts, NULL); /* this connection's own thread */
    }
  }
  size_t n = s->len - s->off < max ? s->len - s->off : max;
  memcpy(buf, s->buf + s->off, n);
  s->off += n;
  s->last_sent = time(NULL);
  return (long)n;
}

static void api_stream_free(void *cls) {
  struct api_stream *s = cls;
  free(s->buf);
  free(s);
}

void api_log_stream(const struct http_req *req, struct http_resp *resp,
                    long long id) {
  struct db_rows r;
  struct db_param p[] = {DB_I64(id)};
  int n = http_db_read(resp, api_sql_status, p, 1, &r);
  if (n < 0) return;
  if (n == 0) {
    http_error(resp, 404, "no such instance: %lld", id);
    return;
  }
  db_rows_free(&r);
  struct api_stream *s = calloc(1, sizeof(*s));
  if (s == NULL) {
    http_error(resp, 500, "out of memory");
    return;
  }
  const char *after = http_query(req, "after");
  s->id = id;
  s->after = after ? strtoll(after, NULL, 10) : 0;
  s->started = s->last_sent = time(NULL);
  resp->stream_cls = s;
  resp->stream_read = api_stream_read;
  resp->stream_free = api_stream_free;
  resp->ctype = "text/event-stream";
}
