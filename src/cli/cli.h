/* cli: the heracron command.  Shared state of one invocation and the
 * commands' entry points. */
#ifndef HERACRON_CLI_H
#define HERACRON_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "util/cfg.h"

/* Exit statuses of the contract. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

struct cli {
  struct cfg cfg;     /* from -c and --section.key=value */
  char url[512];      /* API base URL, no trailing slash */
  const char *token;  /* bearer token or NULL */
  bool json;          /* --json */
};

/* Each returns an exit status; argv[0] is the command name. */
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_workers(struct cli *cli, int argc, char **argv);
int cmd_db(struct cli *cli, int argc, char **argv);
int cmd_cron(struct cli *cli, int argc, char **argv);
int cmd_job(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_instances(struct cli *cli, int argc, char **argv);
int cmd_instance(struct cli *cli, int argc, char **argv);
int cmd_log(struct cli *cli, int argc, char **argv);
int cmd_recover(struct cli *cli, int argc, char **argv);
int cmd_rerun(struct cli *cli, int argc, char **argv);
int cmd_debug(struct cli *cli, int argc, char **argv);
int cmd_actions(struct cli *cli, int argc, char **argv);
int cmd_folder(struct cli *cli, int argc, char **argv);
int cmd_login(struct cli *cli, int argc, char **argv);
int cmd_logout(struct cli *cli, int argc, char **argv);
int cmd_user(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *cli, int argc, char **argv);
int cmd_alert(struct cli *cli, int argc, char **argv);
int cmd_map(struct cli *cli, int argc, char **argv);

/* Where `heracron login` keeps the token ($XDG_CONFIG_HOME/heracron/token
 * or ~/.config/heracron/token).  0, or -1 if there is no home. */
int cli_token_path(char *out, size_t len);
/* stop, cancel, retry (argv[0] names which) */
int cmd_instance_op(struct cli *cli, int argc, char **argv);

#endif
