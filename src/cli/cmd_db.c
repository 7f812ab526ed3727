/* heracron db init: create or migrate the database. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/schema.h"

int cmd_db(struct cli *cli, int argc, char **argv) {
  if (argc != 2 || strcmp(argv[1], "init") != 0) {
    fprintf(stderr, "usage: heracron [-c FILE] [--db.KEY=VALUE ...] db init\n");
    return CLI_USAGE;
  }
  char err[512];
  int applied = 0, version = 0;
  if (schema_migrate(&cli->cfg, &applied, &version, err, sizeof(err)) < 0) {
    fprintf(stderr, "heracron: db init: %s\n", err);
    return CLI_FAILED;
  }
  if (applied > 0)
    printf("database %s: schema version %d (applied %d migration%s)\n",
           cli->cfg.db.database, version, applied, applied == 1 ? "" : "s");
  else
    printf("database %s: schema version %d (up to date)\n",
           cli->cfg.db.database, version);
  return CLI_OK;
}
