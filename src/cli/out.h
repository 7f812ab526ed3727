/* out: human-readable output of the CLI: aligned tables and units. */
#ifndef HERACRON_OUT_H
#define HERACRON_OUT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define OUT_MAX_COLS 16

/* A table collected row by row, printed with aligned columns.  Owns its
 * cells. */
struct out_table {
  int ncols;
  const char *head[OUT_MAX_COLS];
  char **cells; /* nrows * ncols */
  int nrows;
};

void out_table_init(struct out_table *t, int ncols, const char *const *head);
/* Appends a row of ncols strings (copied; NULL prints as "-"). */
int out_table_row(struct out_table *t, const char *const *cells);
void out_table_print(const struct out_table *t);
void out_table_free(struct out_table *t);

/* "1.5 GiB" and the like. */
void out_bytes(uint64_t n, char *buf, size_t len);
/* "0.4s", "3m12s", "2h05m", "4d" */
void out_age_ms(long long ms, char *buf, size_t len);

/* Maps an API answer's HTTP status to the contract's exit status (-1:
 * not reached, already reported), printing its error on stderr. */
int out_status(int status, const json_t *j);
/* Prints j indented, for --json. */
void out_json(const json_t *j);

#endif
