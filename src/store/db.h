/* db: MariaDB Connector/C helpers.  Every statement goes through the
 * prepared-statement API with bound parameters; text is never spliced
 * into SQL.  Blocking: call only from a store, election or HTTP thread,
 * never from the event loop.
 *
 * A struct db_conn owns its MYSQL handle and a small cache of prepared
 * statements keyed by the address of their SQL text (use string literals
 * or other static strings). */
#ifndef HERACRON_DB_H
#define HERACRON_DB_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;

#define DB_STMT_CACHE 48

struct db_conn {
  MYSQL *m;                /* NULL while disconnected */
  unsigned read_timeout_s; /* read/write timeout of every round trip */
  unsigned int last_errno; /* MariaDB error number of the last failure */
  char err[256];           /* message of the last failure (no secrets) */
  bool in_txn;             /* between db_begin and db_commit/db_rollback */
  struct {
    const char *sql;
    MYSQL_STMT *st;
  } cache[DB_STMT_CACHE];
};

enum db_type { DB_T_I64 = 1, DB_T_U64, DB_T_DOUBLE, DB_T_STR, DB_T_NULL };

/* One bound parameter.  Strings are not copied: they must live until the
 * call returns.  len (-1 = strlen). */
struct db_param {
  enum db_type type;
  int64_t i64;
  uint64_t u64;
  double d;
  const char *s;
  long len;
};

#define DB_I64(x) ((struct db_param){.type = DB_T_I64, .i64 = (int64_t)(x)})
#define DB_U64(x) ((struct db_param){.type = DB_T_U64, .u64 = (uint64_t)(x)})
#define DB_DBL(x) ((struct db_param){.type = DB_T_DOUBLE, .d = (double)(x)})
#define DB_STR(x) ((struct db_param){.type = DB_T_STR, .s = (x), .len = -1})
#define DB_STRN(x, n) ((struct db_param){.type = DB_T_STR, .s = (x), .len = (long)(n)})
#define DB_NUL() ((struct db_param){.type = DB_T_NULL})

/* A result set copied out of the server: rows x cols cells of text,
 * NULL for SQL NULL.  Owned by the caller, released by db_rows_free(). */
struct db_rows {
  int ncols;
  int nrows;
  char **names;   /* ncols column names */
  bool *numeric;  /* ncols: whether the column has a numeric type */
  char **cells;   /* nrows * ncols, row-major */
};

static inline const char *db_cell(const struct db_rows *r, int row, int col) {
  return r->cells[(size_t)row * (size_t)r->ncols + (size_t)col];
}

/* Sets up c (no connection yet). */
void db_conn_init(struct db_conn *c, unsigned read_timeout_s);

/* Connects with the [db] section of cfg; a previous connection is closed
 * first.  Never reconnects by itself (a new session would not hold the
 * session's named locks).  With database false, connects without selecting
 * a database (for db init).  Returns 0, -1 with c->err set. */
int db_connect(struct db_conn *c, const struct cfg *cfg, bool database);

/* Closes the connection and all cached statements. */
void db_close(struct db_conn *c);

/* Closes the cached statements, keeps the connection (for one-off SQL
 * whose text does not outlive the call, like migrations). */
void db_close_statements(struct db_conn *c);

/* Executes a statement.  Returns the number of affected rows (>= 0), or
 * -1 with c->err/last_errno set.  On a connection-level error the
 * connection is closed (c->m becomes NULL). */
int64_t db_exec(struct db_conn *c, const char *sql, const struct db_param *p,
                int np);

/* Runs a query and copies its whole result into *out (the caller owns it
 * and frees it with db_rows_free).  Returns the row count, or -1 with
 * c->err set (then *out is empty).  An empty result (0 rows, or an error)
 * owns no memory, so callers may skip db_rows_free on those paths, and
 * db_rows_free on them is harmless. */
/* For statements over many ids: head followed by "(?, ?, ...)" with the
 * smallest of 1, 4, 16 or DB_IN_MAX parameters that holds n (callers pad
 * the list with its last id); *cls gets that size.  Built once into
 * cache (the caller's, kept for good) so that each stays one prepared
 * statement.  NULL when out of memory. */
#define DB_IN_MAX 64
const char *db_sql_in(const char *head, size_t n, size_t *cls, char *cache[4]);

int db_query(struct db_conn *c, const char *sql, const struct db_param *p,
             int np, struct db_rows *out);

void db_rows_free(struct db_rows *r);

/* Starts, commits, rolls back a transaction (prepared, like the rest). */
int db_begin(struct db_conn *c);
int db_commit(struct db_conn *c);
void db_rollback(struct db_conn *c);

/* Whether an error number means the session is gone (2006, 2013, ...). */
bool db_errno_is_connection(unsigned int e);

#endif
