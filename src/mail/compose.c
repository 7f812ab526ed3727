#include "config.h"

#include "mail/compose.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct compose_buf {
  char *p;
  size_t len, cap;
  bool oom;
};

static void compose_add(struct compose_buf *b, const char *fmt, ...) {
  if (b->oom) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = b->p ? vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap) : -1;
    va_end(ap);
    if (n >= 0 && b->len + (size_t)n < b->cap) {
      b->len += (size_t)n;
      return;
    }
    size_t nc = b->cap ? b->cap * 2 : 4096;
    while (n >= 0 && nc <= b->len + (size_t)n) nc *= 2;
    char *np = realloc(b->p, nc);
    if (np == NULL) {
      b->oom = true;
      return;
    }
    b->p = np;
    b->cap = nc;
  }
}

/* s with & < > " ' escaped, appended (HTML text and attributes). */
static void compose_html(struct compose_buf *b, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '&': compose_add(b, "&amp;"); break;
    case '<': compose_add(b, "&lt;"); break;
    case '>': compose_add(b, "&gt;"); break;
    case '"': compose_add(b, "&quot;"); break;
    case '\'': compose_add(b, "&#39;"); break;
    default: compose_add(b, "%c", *s);
    }
  }
}

static const char *compose_s(const char *s) { return s ? s : ""; }

static const char *compose_title(const char *kind) {
  if (strcmp(kind, "recovered") == 0) return "recovered";
  if (strcmp(kind, "overdue") == 0) return "running longer than expected";
  if (strcmp(kind, "deadline") == 0) return "not done by its deadline";
  return "failed";
}

static void compose_result(char *out, size_t len, const struct compose_alert *a) {
  if (a->signal) snprintf(out, len, "killed by signal %d", a->signal);
  else if (strcmp(compose_s(a->kind), "failure") == 0 || a->exit_code)
    snprintf(out, len, "exit code %d", a->exit_code);
  else snprintf(out, len, "-");
}

char *compose_tail(const char *log, size_t max_lines, size_t max_bytes) {
  const char *s = compose_s(log);
  size_t n = strlen(s), start = n, lines = 0;
  if (n > 0 && s[n - 1] == '\n') n--; /* the last line's own newline */
  start = n;
  while (start > 0 && lines < max_lines) {
    start--;
    if (s[start] == '\n' && ++lines == max_lines) {
      start++;
      break;
    }
  }
  if (n - start > max_bytes) start = n - max_bytes;
  size_t len = strlen(s) - start;
  char *out = malloc(len + 1);
  if (out) {
    memcpy(out, s + start, len);
    out[len] = '\0';
  }
  return out;
}

int compose_mail(const struct compose_alert *a, size_t n,
                 const char *console_url, char **subject, char **text,
                 char **html) {
  struct compose_buf sb = {0}, tb = {0}, hb = {0};
  const char *url = compose_s(console_url);
  size_t ul = strlen(url);
  while (ul > 0 && url[ul - 1] == '/') ul--;
  if (n == 1) {
    bool failure = strcmp(compose_s(a->kind), "failure") == 0;
    compose_add(&sb, "[heracron] job %s (id %lld)", compose_s(a->job), a->job_id);
    if (a->action_id) compose_add(&sb, " action %lld", a->action_id);
    compose_add(&sb, " %s", failure ? compose_s(a->status)
                                    : compose_title(compose_s(a->kind)));
  } else {
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
      if (strcmp(compose_s(a[i].kind), "failure") == 0) failed++;
    compose_add(&sb, "[heracron] %zu alerts (%zu failed): %s", n, failed,
                compose_s(a[0].job));
    for (size_t i = 1; i < n && i < 4; i++) compose_add(&sb, ", %s", compose_s(a[i].job));
    if (n > 4) compose_add(&sb, ", ...");
  }
  compose_add(&hb, "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">\n");
  if (n > 1) {
    compose_add(&tb, "%zu alerts, grouped into one mail:\n\n", n);
    compose_add(&hb, "<p>%zu alerts, grouped into one mail:</p>\n", n);
  }
  for (size_t i = 0; i < n; i++) {
    const struct compose_alert *x = &a[i];
    char result[64], link[1024];
    compose_result(result, sizeof(result), x);
    snprintf(link, sizeof(link), "%.*s/#/instance/%lld", (int)ul, url, x->instance_id);
    compose_add(&tb,
                "Job %s (id %lld) %s.\n"
                "  status       %s\n  action       %lld\n  instance     %lld\n"
                "  owner        %s\n  description  %s\n  worker       %s\n"
                "  trigger      %s\n  started      %s\n  ended        %s\n"
                "  result       %s\n  reason       %s\n  console      %s\n",
                compose_s(x->job), x->job_id, compose_title(compose_s(x->kind)),
                compose_s(x->status), x->action_id, x->instance_id,
                compose_s(x->owner), compose_s(x->description),
                compose_s(x->worker), compose_s(x->trigger),
                compose_s(x->started), compose_s(x->ended), result,
                compose_s(x->reason), link);
    if (x->log_tail && *x->log_tail)
      compose_add(&tb, "  last lines of the log:\n%s%s", x->log_tail,
                  x->log_tail[strlen(x->log_tail) - 1] == '\n' ? "" : "\n");
    compose_add(&tb, "\n");

    compose_add(&hb, "<h3>Job ");
    compose_html(&hb, x->job);
    compose_add(&hb, " (id %lld) %s</h3>\n<table>\n", x->job_id,
                compose_title(compose_s(x->kind)));
    const char *rows[][2] = {{"status", x->status},   {"owner", x->owner},
                             {"description", x->description},
                             {"worker", x->worker},   {"trigger", x->trigger},
                             {"started", x->started}, {"ended", x->ended},
                             {"result", result},      {"reason", x->reason}};
    compose_add(&hb, "<tr><td>action</td><td>%lld</td></tr>\n"
                     "<tr><td>instance</td><td>%lld</td></tr>\n",
                x->action_id, x->instance_id);
    for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
      compose_add(&hb, "<tr><td>%s</td><td>", rows[k][0]);
      compose_html(&hb, rows[k][1]);
      compose_add(&hb, "</td></tr>\n");
    }
    compose_add(&hb, "</table>\n<p><a href=\"");
    compose_html(&hb, link);
    compose_add(&hb, "\">Open the instance in the console</a></p>\n");
    if (x->log_tail && *x->log_tail) {
      compose_add(&hb, "<p>Last lines of the log:</p>\n<pre>");
      compose_html(&hb, x->log_tail);
      compose_add(&hb, "</pre>\n");
    }
  }
  compose_add(&tb, "-- \nheracron\n");
  compose_add(&hb, "</body></html>\n");
  if (sb.oom || tb.oom || hb.oom || !sb.p || !tb.p || !hb.p) {
    free(sb.p), free(tb.p), free(hb.p);
    return -1;
  }
  *subject = sb.p;
  *text = tb.p;
  *html = hb.p;
  return 0;
}
