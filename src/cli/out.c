#include "config.h"

#include "cli/out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void out_table_init(struct out_table *t, int ncols, const char *const *head) {
  memset(t, 0, sizeof(*t));
  t->ncols = ncols > OUT_MAX_COLS ? OUT_MAX_COLS : ncols;
  for (int i = 0; i < t->ncols; i++) t->head[i] = head[i];
}

int out_table_row(struct out_table *t, const char *const *cells) {
  char **nc = realloc(t->cells,
                      (size_t)(t->nrows + 1) * (size_t)t->ncols * sizeof(char *));
  if (nc == NULL) return -1;
  t->cells = nc;
  char **row = nc + (size_t)t->nrows * (size_t)t->ncols;
  for (int i = 0; i < t->ncols; i++)
    row[i] = strdup(cells[i] ? cells[i] : "-");
  t->nrows++;
  return 0;
}

void out_table_print(const struct out_table *t) {
  size_t w[OUT_MAX_COLS];
  for (int c = 0; c < t->ncols; c++) {
    w[c] = strlen(t->head[c]);
    for (int r = 0; r < t->nrows; r++) {
      const char *s = t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
      if (s && strlen(s) > w[c]) w[c] = strlen(s);
    }
  }
  for (int r = -1; r < t->nrows; r++) {
    for (int c = 0; c < t->ncols; c++) {
      const char *s = r < 0 ? t->head[c]
                            : t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
      if (c + 1 < t->ncols) printf("%-*s  ", (int)w[c], s ? s : "-");
      else printf("%s\n", s ? s : "-");
    }
  }
}

void out_table_free(struct out_table *t) {
  for (size_t i = 0; i < (size_t)t->nrows * (size_t)t->ncols; i++)
    free(t->cells[i]);
  free(t->cells);
  t->cells = NULL;
  t->nrows = 0;
}

void out_bytes(uint64_t n, char *buf, size_t len) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)n;
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void out_age_ms(long long ms, char *buf, size_t len) {
  if (ms < 0) ms = 0;
  if (ms < 60000)
    snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
  else if (ms < 3600000)
    snprintf(buf, len, "%lldm%02llds", ms / 60000, ms / 1000 % 60);
  else if (ms < 86400000)
    snprintf(buf, len, "%lldh%02lldm", ms / 3600000, ms / 60000 % 60);
  else
    snprintf(buf, len, "%lldd", ms / 86400000);
}

int out_status(int status, const json_t *j) {
  if (status >= 200 && status < 300) return CLI_OK;
  if (status < 0) return CLI_FAILED;
  const char *msg = json_string_value(json_object_get(j, "error"));
  fprintf(stderr, "heracron: %s\n", msg ? msg : "request failed");
  return status == 400 || status == 404 ? CLI_USAGE : CLI_FAILED;
}

void out_json(const json_t *j) {
  char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (s) puts(s);
  free(s);
}
