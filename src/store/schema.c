#include "config.h"

#include "store/schema.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "util/cfg.h"

static const char schema_sql_create_version[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INT NOT NULL PRIMARY KEY,"
    " name VARCHAR(128) NOT NULL,"
    " applied_at DATETIME(6) NOT NULL DEFAULT NOW(6)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
static const char schema_sql_current[] =
    "SELECT COALESCE(MAX(version), 0) FROM schema_version";
static const char schema_sql_record[] =
    "INSERT INTO schema_version (version, name) VALUES (?, ?)";

int schema_latest(void) {
  int v = 0;
  for (int i = 0; i < schema_nfiles; i++)
    if (schema_files[i].version > v) v = schema_files[i].version;
  return v;
}

static bool schema_name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64) return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_') return false;
  return true;
}

/* Whether a piece of SQL holds anything but blanks and "--" comments. */
static bool schema_has_sql(const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (isspace((unsigned char)s[i])) {
      i++;
    } else if (i + 1 < n && s[i] == '-' && s[i + 1] == '-') {
      while (i < n && s[i] != '\n') i++;
    } else {
      return true;
    }
  }
  return false;
}

/* Runs the statements of one file: each ends with ';' at the end of a
 * line.  The statement cache is keyed by address, so each statement is
 * run from a copy that lives until the cache is cleared below. */
static int schema_apply(struct db_conn *c, const struct schema_file *f,
                        char *err, size_t errlen) {
  const char *p = f->sql;
  int n = 0;
  while (*p) {
    const char *end = p;
    for (;;) {
      end = strchr(end, ';');
      if (end == NULL) break;
      const char *q = end + 1;
      while (*q == ' ' || *q == '\t' || *q == '\r') q++;
      if (*q == '\n' || *q == '\0') break;
      end++;
    }
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (schema_has_sql(p, len)) {
      char *stmt = strndup(p, len);
      if (stmt == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
      }
      n++;
      int64_t rc = db_exec(c, stmt, NULL, 0);
      db_close_statements(c);
      if (rc < 0) {
        snprintf(err, errlen, "%s.sql, statement %d: %s", f->name, n, c->err);
        free(stmt);
        return -1;
      }
      free(stmt);
    }
    p = end ? end + 1 : p + len;
  }
  return 0;
}

int schema_migrate(const struct cfg *cfg, int *applied, int *version,
                   char *err, size_t errlen) {
  struct db_conn c;
  int rc = -1;
  *applied = 0;
  *version = 0;
  db_conn_init(&c, 30);
  if (!schema_name_ok(cfg->db.database)) {
    snprintf(err, errlen,
             "db.database '%s': use 1 to 64 letters, digits or '_'",
             cfg->db.database);
    return -1;
  }
  if (db_connect(&c, cfg, false) < 0) {
    snprintf(err, errlen, "%s", c.err);
    return -1;
  }
  /* Identifiers cannot be bound; the name is checked above. */
  char *create = NULL;
  if (asprintf(&create, "CREATE DATABASE IF NOT EXISTS `%s` "
                        "DEFAULT CHARACTER SET utf8mb4",
               cfg->db.database) < 0) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  if (db_exec(&c, create, NULL, 0) < 0) {
    snprintf(err, errlen, "cannot create database %s: %s", cfg->db.database,
             c.err);
    goto out;
  }
  db_close_statements(&c);
  if (mysql_select_db(c.m, cfg->db.database) != 0) {
    snprintf(err, errlen, "cannot use database %s: %s", cfg->db.database,
             mysql_error(c.m));
    goto out;
  }
  struct db_rows r;
  if (db_exec(&c, schema_sql_create_version, NULL, 0) < 0 ||
      db_query(&c, schema_sql_current, NULL, 0, &r) < 0) {
    snprintf(err, errlen, "cannot read schema_version: %s", c.err);
    goto out;
  }
  int current = r.nrows == 1 && db_cell(&r, 0, 0)
                    ? (int)strtol(db_cell(&r, 0, 0), NULL, 10)
                    : 0;
  db_rows_free(&r);
  for (int i = 0; i < schema_nfiles; i++) {
    const struct schema_file *f = &schema_files[i];
    if (f->version <= current) continue;
    if (schema_apply(&c, f, err, errlen) < 0) goto out;
    struct db_param p[] = {DB_I64(f->version), DB_STR(f->name)};
    if (db_exec(&c, schema_sql_record, p, 2) < 0) {
      snprintf(err, errlen, "cannot record %s: %s", f->name, c.err);
      goto out;
    }
    current = f->version;
    (*applied)++;
  }
  *version = current;
  rc = 0;
out:
  free(create);
  db_close(&c);
  return rc;
}
