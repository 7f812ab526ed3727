#include "config.h"

#include "store/db.h"

#include <errmsg.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cfg.h"

void db_conn_init(struct db_conn *c, unsigned read_timeout_s) {
  memset(c, 0, sizeof(*c));
  c->read_timeout_s = read_timeout_s ? read_timeout_s : 5;
}

bool db_errno_is_connection(unsigned int e) {
  switch (e) {
  case CR_SERVER_GONE_ERROR:
  case CR_SERVER_LOST:
  case CR_CONNECTION_ERROR:
  case CR_CONN_HOST_ERROR:
  case CR_SERVER_LOST_EXTENDED:
  case CR_COMMANDS_OUT_OF_SYNC:
  case ER_CONNECTION_KILLED:
  case ER_SERVER_SHUTDOWN:
  case 4031: /* ER_CLIENT_INTERACTION_TIMEOUT */
    return true;
  default:
    return e >= 2000 && e < 3000; /* any client-side error */
  }
}

static void db_fail(struct db_conn *c, unsigned int e, const char *what,
                    const char *msg) {
  c->last_errno = e;
  snprintf(c->err, sizeof(c->err), "%s: %s (%u)", what, msg, e);
  if (db_errno_is_connection(e)) db_close(c);
}

void db_close_statements(struct db_conn *c) {
  for (int i = 0; i < DB_STMT_CACHE; i++) {
    if (c->cache[i].st != NULL) mysql_stmt_close(c->cache[i].st);
    c->cache[i].st = NULL;
    c->cache[i].sql = NULL;
  }
}

void db_close(struct db_conn *c) {
  db_close_statements(c);
  if (c->m != NULL) mysql_close(c->m);
  c->m = NULL;
  c->in_txn = false;
}

int db_connect(struct db_conn *c, const struct cfg *cfg, bool database) {
  db_close(c);
  MYSQL *m = mysql_init(NULL);
  if (m == NULL) {
    snprintf(c->err, sizeof(c->err), "mysql_init: out of memory");
    return -1;
  }
  unsigned int ct = (cfg->db.connect_timeout_ms + 999) / 1000;
  unsigned int rt = c->read_timeout_s;
  my_bool no = 0;
  mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
  mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rt);
  mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &rt);
  mysql_options(m, MYSQL_OPT_RECONNECT, &no);
  mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  const char *sock = cfg->db.socket;
  if (sock != NULL && sock[0] == '\0') sock = NULL;
  if (mysql_real_connect(m, sock ? NULL : cfg->db.host, cfg->db.user,
                         cfg->db.password, database ? cfg->db.database : NULL,
                         sock ? 0 : cfg->db.port, sock, 0) == NULL) {
    c->last_errno = mysql_errno(m);
    snprintf(c->err, sizeof(c->err), "cannot connect to MariaDB at %s%s%u: %s",
             sock ? sock : cfg->db.host, sock ? "" : ":", sock ? 0 : cfg->db.port,
             mysql_error(m));
    if (sock) /* drop the meaningless ":0" form */
      snprintf(c->err, sizeof(c->err), "cannot connect to MariaDB at %s: %s",
               sock, mysql_error(m));
    mysql_close(m);
    return -1;
  }
  c->m = m;
  c->last_errno = 0;
  c->err[0] = '\0';
  return 0;
}

/* Returns the cached statement for sql, preparing it when needed. */
static MYSQL_STMT *db_stmt(struct db_conn *c, const char *sql) {
  int free_slot = -1;
  for (int i = 0; i < DB_STMT_CACHE; i++) {
    if (c->cache[i].sql == sql) return c->cache[i].st;
    if (c->cache[i].sql == NULL && free_slot < 0) free_slot = i;
  }
  MYSQL_STMT *st = mysql_stmt_init(c->m);
  if (st == NULL) {
    db_fail(c, mysql_errno(c->m), "mysql_stmt_init", mysql_error(c->m));
    return NULL;
  }
  if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
    unsigned int e = mysql_stmt_errno(st);
    char msg[200];
    snprintf(msg, sizeof(msg), "%s", mysql_stmt_error(st));
    mysql_stmt_close(st);
    db_fail(c, e, "prepare", msg);
    return NULL;
  }
  if (free_slot < 0) { /* cache full: evict slot 0, rarely happens */
    mysql_stmt_close(c->cache[0].st);
    free_slot = 0;
  }
  c->cache[free_slot].sql = sql;
  c->cache[free_slot].st = st;
  return st;
}

static void db_forget(struct db_conn *c, const char *sql) {
  for (int i = 0; i < DB_STMT_CACHE; i++) {
    if (c->cache[i].sql == sql) {
      mysql_stmt_close(c->cache[i].st);
      c->cache[i].sql = NULL;
      c->cache[i].st = NULL;
    }
  }
}

#define DB_MAX_PARAMS 4096 /* multi-row inserts */
#define DB_STACK_PARAMS 64 /* bound from the stack up to this many */

/* Binds p to st in b (np entries, with lens and isnull beside). */
static void db_bind(const struct db_param *p, int np, MYSQL_BIND *b,
                    unsigned long *lens, my_bool *isnull) {
  memset(b, 0, sizeof(b[0]) * (size_t)(np ? np : 1));
  for (int i = 0; i < np; i++) {
    isnull[i] = 0;
    b[i].is_null = &isnull[i];
    switch (p[i].type) {
    case DB_T_I64:
      b[i].buffer_type = MYSQL_TYPE_LONGLONG;
      b[i].buffer = (void *)&p[i].i64;
      break;
    case DB_T_U64:
      b[i].buffer_type = MYSQL_TYPE_LONGLONG;
      b[i].buffer = (void *)&p[i].u64;
      b[i].is_unsigned = 1;
      break;
    case DB_T_DOUBLE:
      b[i].buffer_type = MYSQL_TYPE_DOUBLE;
      b[i].buffer = (void *)&p[i].d;
      break;
    case DB_T_STR:
      if (p[i].s == NULL) {
        b[i].buffer_type = MYSQL_TYPE_NULL;
        isnull[i] = 1;
        break;
      }
      b[i].buffer_type = MYSQL_TYPE_STRING;
      b[i].buffer = (void *)p[i].s;
      lens[i] = p[i].len < 0 ? strlen(p[i].s) : (unsigned long)p[i].len;
      b[i].buffer_length = lens[i];
      b[i].length = &lens[i];
      break;
    case DB_T_NULL:
    default:
      b[i].buffer_type = MYSQL_TYPE_NULL;
      isnull[i] = 1;
      break;
    }
  }
}

/* Prepares (cached), binds and executes.  Returns the statement or NULL
 * with the error recorded. */
static MYSQL_STMT *db_run(struct db_conn *c, const char *sql,
                          const struct db_param *p, int np) {
  if (c->m == NULL) {
    c->last_errno = CR_SERVER_GONE_ERROR;
    snprintf(c->err, sizeof(c->err), "not connected to MariaDB");
    return NULL;
  }
  if (np > DB_MAX_PARAMS) {
    snprintf(c->err, sizeof(c->err), "too many parameters (%d)", np);
    return NULL;
  }
  bool reprepared = false;
  int deadlocks = 0;
  for (;;) {
    MYSQL_STMT *st = db_stmt(c, sql);
    if (st == NULL) return NULL;
    if ((int)mysql_stmt_param_count(st) != np) {
      snprintf(c->err, sizeof(c->err),
               "statement wants %lu parameters, %d given",
               mysql_stmt_param_count(st), np);
      return NULL;
    }
    MYSQL_BIND sb[DB_STACK_PARAMS], *b = sb;
    unsigned long slens[DB_STACK_PARAMS], *lens = slens;
    my_bool snull[DB_STACK_PARAMS], *isnull = snull;
    if (np > DB_STACK_PARAMS) {
      b = malloc((size_t)np * sizeof(*b));
      lens = malloc((size_t)np * sizeof(*lens));
      isnull = malloc((size_t)np * sizeof(*isnull));
      if (b == NULL || lens == NULL || isnull == NULL) {
        free(b), free(lens), free(isnull);
        snprintf(c->err, sizeof(c->err), "out of memory binding %d parameters", np);
        return NULL;
      }
    }
    db_bind(p, np, b, lens, isnull);
    /* lens and isnull are read by the execute, so they live until then */
    int brc = np > 0 ? mysql_stmt_bind_param(st, b) : 0;
    int xrc = brc == 0 ? mysql_stmt_execute(st) : 0;
    if (b != sb) free(b), free(lens), free(isnull);
    if (brc != 0) {
      db_fail(c, mysql_stmt_errno(st), "bind", mysql_stmt_error(st));
      return NULL;
    }
    if (xrc != 0) {
      unsigned int e = mysql_stmt_errno(st);
      if (e == ER_NEED_REPREPARE && !reprepared) {
        reprepared = true;
        db_forget(c, sql);
        continue;
      }
      /* A statement of its own chosen as a deadlock's victim was rolled
       * back whole: running it again is what MariaDB asks for.  Inside a
       * transaction the caller must start over. */
      if (e == ER_LOCK_DEADLOCK && !c->in_txn && deadlocks++ < 3) {
        mysql_stmt_reset(st);
        continue;
      }
      char msg[200];
      snprintf(msg, sizeof(msg), "%s", mysql_stmt_error(st));
      if (!db_errno_is_connection(e)) mysql_stmt_reset(st);
      db_fail(c, e, "execute", msg);
      return NULL;
    }
    return st;
  }
}

int64_t db_exec(struct db_conn *c, const char *sql, const struct db_param *p,
                int np) {
  MYSQL_STMT *st = db_run(c, sql, p, np);
  if (st == NULL) return -1;
  my_ulonglong n = mysql_stmt_affected_rows(st);
  if (mysql_stmt_field_count(st) > 0) mysql_stmt_free_result(st);
  return n == (my_ulonglong)-1 ? 0 : (int64_t)n;
}

static bool db_type_numeric(enum enum_field_types t) {
  switch (t) {
  case MYSQL_TYPE_TINY: case MYSQL_TYPE_SHORT: case MYSQL_TYPE_LONG:
  case MYSQL_TYPE_INT24: case MYSQL_TYPE_LONGLONG: case MYSQL_TYPE_FLOAT:
  case MYSQL_TYPE_DOUBLE: case MYSQL_TYPE_DECIMAL: case MYSQL_TYPE_NEWDECIMAL:
  case MYSQL_TYPE_YEAR: case MYSQL_TYPE_BIT:
    return true;
  default:
    return false;
  }
}

void db_rows_free(struct db_rows *r) {
  if (r->cells != NULL) {
    for (size_t i = 0; i < (size_t)r->nrows * (size_t)r->ncols; i++)
      free(r->cells[i]);
  }
  if (r->names != NULL)
    for (int i = 0; i < r->ncols; i++) free(r->names[i]);
  free(r->cells);
  free(r->names);
  free(r->numeric);
  memset(r, 0, sizeof(*r));
}

int db_query(struct db_conn *c, const char *sql, const struct db_param *p,
             int np, struct db_rows *out) {
  memset(out, 0, sizeof(*out)); /* freeing it is safe whatever happens */
  MYSQL_STMT *st = db_run(c, sql, p, np);
  if (st == NULL) return -1;
  struct db_rows r = {0};
  MYSQL_RES *meta = NULL;
  MYSQL_BIND *b = NULL;
  unsigned long *lens = NULL;
  my_bool *nulls = NULL;
  char **bufs = NULL;
  size_t cap = 0;
  my_bool one = 1;

  mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &one);
  if (mysql_stmt_store_result(st) != 0) {
    db_fail(c, mysql_stmt_errno(st), "store result", mysql_stmt_error(st));
    return -1;
  }
  meta = mysql_stmt_result_metadata(st);
  if (meta == NULL) {
    snprintf(c->err, sizeof(c->err), "query returned no result set");
    mysql_stmt_free_result(st);
    return -1;
  }
  r.ncols = (int)mysql_num_fields(meta);
  MYSQL_FIELD *f = mysql_fetch_fields(meta);
  r.names = calloc((size_t)r.ncols, sizeof(char *));
  r.numeric = calloc((size_t)r.ncols, sizeof(bool));
  b = calloc((size_t)r.ncols, sizeof(MYSQL_BIND));
  lens = calloc((size_t)r.ncols, sizeof(unsigned long));
  nulls = calloc((size_t)r.ncols, sizeof(my_bool));
  bufs = calloc((size_t)r.ncols, sizeof(char *));
  if (!r.names || !r.numeric || !b || !lens || !nulls || !bufs) goto oom;
  for (int i = 0; i < r.ncols; i++) {
    r.names[i] = strdup(f[i].name);
    if (r.names[i] == NULL) goto oom;
    r.numeric[i] = db_type_numeric(f[i].type);
    size_t bl = f[i].max_length + 1;
    if (bl < 72) bl = 72; /* numbers and dates as text */
    bufs[i] = malloc(bl);
    if (bufs[i] == NULL) goto oom;
    b[i].buffer_type = MYSQL_TYPE_STRING;
    b[i].buffer = bufs[i];
    b[i].buffer_length = bl - 1;
    b[i].length = &lens[i];
    b[i].is_null = &nulls[i];
  }
  if (mysql_stmt_bind_result(st, b) != 0) {
    db_fail(c, mysql_stmt_errno(st), "bind result", mysql_stmt_error(st));
    goto fail;
  }
  for (;;) {
    int rc = mysql_stmt_fetch(st);
    if (rc == MYSQL_NO_DATA) break;
    if (rc == 1) {
      db_fail(c, mysql_stmt_errno(st), "fetch", mysql_stmt_error(st));
      goto fail;
    }
    if ((size_t)(r.nrows + 1) * (size_t)r.ncols > cap) {
      size_t ncap = cap ? cap * 2 : (size_t)r.ncols * 16;
      while (ncap < (size_t)(r.nrows + 1) * (size_t)r.ncols) ncap *= 2;
      char **nc = realloc(r.cells, ncap * sizeof(char *));
      if (nc == NULL) goto oom;
      r.cells = nc;
      cap = ncap;
    }
    char **row = r.cells + (size_t)r.nrows * (size_t)r.ncols;
    for (int i = 0; i < r.ncols; i++) row[i] = NULL;
    r.nrows++;
    for (int i = 0; i < r.ncols; i++) {
      if (nulls[i]) continue;
      char *cell = malloc(lens[i] + 1);
      if (cell == NULL) goto oom;
      if (lens[i] > b[i].buffer_length) { /* truncated: fetch it whole */
        MYSQL_BIND one_b = {0};
        one_b.buffer_type = MYSQL_TYPE_STRING;
        one_b.buffer = cell;
        one_b.buffer_length = lens[i];
        if (mysql_stmt_fetch_column(st, &one_b, (unsigned)i, 0) != 0) {
          free(cell);
          db_fail(c, mysql_stmt_errno(st), "fetch column",
                  mysql_stmt_error(st));
          goto fail;
        }
      } else {
        memcpy(cell, bufs[i], lens[i]);
      }
      cell[lens[i]] = '\0';
      row[i] = cell;
    }
  }
  mysql_free_result(meta);
  mysql_stmt_free_result(st);
  for (int i = 0; i < r.ncols; i++) free(bufs[i]);
  free(bufs);
  free(b);
  free(lens);
  free(nulls);
  if (r.nrows == 0) db_rows_free(&r); /* an empty result owns nothing */
  *out = r;
  return r.nrows;

oom:
  snprintf(c->err, sizeof(c->err), "out of memory reading a result");
fail:
  if (meta) mysql_free_result(meta);
  if (c->m != NULL) mysql_stmt_free_result(st);
  if (bufs)
    for (int i = 0; i < r.ncols; i++) free(bufs[i]);
  free(bufs);
  free(b);
  free(lens);
  free(nulls);
  db_rows_free(&r);
  return -1;
}

static const char db_sql_begin[] = "START TRANSACTION";
static const char db_sql_commit[] = "COMMIT";
static const char db_sql_rollback[] = "ROLLBACK";

int db_begin(struct db_conn *c) {
  int rc = db_exec(c, db_sql_begin, NULL, 0) < 0 ? -1 : 0;
  c->in_txn = rc == 0;
  return rc;
}

int db_commit(struct db_conn *c) {
  c->in_txn = false;
  return db_exec(c, db_sql_commit, NULL, 0) < 0 ? -1 : 0;
}

void db_rollback(struct db_conn *c) {
  c->in_txn = false;
  if (c->m == NULL) return;
  unsigned int e = c->last_errno;
  char msg[sizeof(c->err)];
  memcpy(msg, c->err, sizeof(msg));
  (void)db_exec(c, db_sql_rollback, NULL, 0);
  c->last_errno = e; /* keep the error that made us roll back */
  memcpy(c->err, msg, sizeof(msg));
}

const char *db_sql_in(const char *head, size_t n, size_t *cls, char *cache[4]) {
  static const size_t sizes[4] = {1, 4, 16, DB_IN_MAX};
  int k = 0;
  while (k < 3 && sizes[k] < n) k++;
  *cls = sizes[k];
  if (cache[k] == NULL) {
    size_t len = strlen(head) + 3 * sizes[k] + 3;
    char *sql = malloc(len);
    if (sql == NULL) return NULL;
    char *p = sql + snprintf(sql, len, "%s(?", head);
    for (size_t i = 1; i < sizes[k]; i++) p += snprintf(p, 4, ", ?");
    snprintf(p, 2, ")");
    cache[k] = sql;
  }
  return cache[k];
}
