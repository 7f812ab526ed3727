/* heracron db init [--admin-user U --admin-password-file F [--admin-email E]]:
 * create or migrate the database, and create the first administrator. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "store/db.h"
#include "store/schema.h"
#include "store/users.h"

static int db_usage(void) {
  fprintf(stderr, "usage: heracron [-c FILE] [--db.KEY=VALUE ...] db init\n"
                  "         [--admin-user NAME --admin-password-file FILE|-"
                  " [--admin-email E]]\n");
  return CLI_USAGE;
}

/* Creates the administrator; an existing user of that name is left as it
 * is (db init stays idempotent). */
static int db_admin(struct cli *cli, const char *name, const char *pwfile,
                    const char *email) {
  char *pw = client_read_file(pwfile);
  if (pw == NULL) return CLI_USAGE;
  pw[strcspn(pw, "\r\n")] = '\0';
  struct db_conn c;
  db_conn_init(&c, 10);
  int rc = CLI_OK;
  char err[512], field[32];
  if (db_connect(&c, &cli->cfg, true) < 0) {
    fprintf(stderr, "heracron: db init: %s\n", c.err);
    rc = CLI_FAILED;
  } else {
    int r = users_create(&c, name, email, pw, "admin", err, sizeof(err), field,
                         sizeof(field));
    if (r == 0) printf("administrator %s created\n", name);
    else if (r == -2) printf("user %s exists already (left as it is)\n", name);
    else if (r == -1) {
      fprintf(stderr, "heracron: db init: admin %s %s\n", field, err);
      rc = CLI_USAGE;
    } else {
      fprintf(stderr, "heracron: db init: %s\n", err);
      rc = CLI_FAILED;
    }
  }
  db_close(&c);
  memset(pw, 0, strlen(pw));
  free(pw);
  return rc;
}

int cmd_db(struct cli *cli, int argc, char **argv) {
  const char *admin = NULL, *pwfile = NULL, *email = NULL;
  if (argc < 2 || strcmp(argv[1], "init") != 0) return db_usage();
  for (int i = 2; i < argc; i++) {
    if (i + 1 >= argc) return db_usage();
    if (strcmp(argv[i], "--admin-user") == 0) admin = argv[++i];
    else if (strcmp(argv[i], "--admin-password-file") == 0) pwfile = argv[++i];
    else if (strcmp(argv[i], "--admin-email") == 0) email = argv[++i];
    else return db_usage();
  }
  if ((admin == NULL) != (pwfile == NULL)) return db_usage();
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
  return admin ? db_admin(cli, admin, pwfile, email) : CLI_OK;
}
