/* schema: creates or migrates the heracron database from the numbered
 * files of sql/ (compiled in by scripts/sql2c.sh). */
#ifndef HERACRON_SCHEMA_H
#define HERACRON_SCHEMA_H

#include <stddef.h>

struct db_conn;
struct cfg;

struct schema_file {
  int version;       /* NNN of sql/NNN_name.sql */
  const char *name;  /* "NNN_name" */
  const char *sql;   /* statements separated by ';' at the end of a line */
};

extern const struct schema_file schema_files[];
extern const int schema_nfiles;

/* Creates the database cfg->db.database if missing, then applies every
 * schema file newer than the recorded version, each recorded in
 * schema_version.  Idempotent.  Writes what it did to *applied (count of
 * files applied) and the resulting version to *version.  Returns 0, -1
 * with a message in err. */
int schema_migrate(const struct cfg *cfg, int *applied, int *version,
                   char *err, size_t errlen);

/* The newest version known to this build. */
int schema_latest(void);

#endif
