/* heracron: the command-line tool.  Talks to a node's HTTP API, except
 * for `db init` (MariaDB directly) and, later, offline commands. */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/log.h"

#define DEFAULT_CONFIG SYSCONFDIR "/heracron/heracrond.conf"

static void usage(FILE *f) {
  fprintf(f,
          "Usage: heracron [-c FILE] [--url URL] [--token T] [--json]\n"
          "                [--section.key=value ...] COMMAND [ARGS]\n"
          "\n"
          "Commands:\n"
          "  status       master, epoch, lease expiry, connected workers\n"
          "  workers      workers with load per core, memory, heartbeat age\n"
          "  db init [--admin-user U --admin-password-file F]\n"
          "               create or migrate the database (uses [db] of -c),\n"
          "               and the first administrator\n"
          "  job add|list|show|update|enable|disable|delete ...\n"
          "               job definitions (heracron job for details)\n"
          "  run JOB      run a job now (MANUAL)\n"
          "  instances [--job JOB] [--status S] [--parent ID] [--limit N] [--offset N]\n"
          "               recent instances; --parent: a fan-out's parts\n"
          "  instance ID  one instance\n"
          "  log ID [--follow]   an instance's output\n"
          "  actions [--date D] [--job JOB]   versions of a day, with status\n"
          "  recover [--chain] ACTION   run an action again (RECOVERY);\n"
          "               --chain: then its downstream chain (SUPER_RECOVERY)\n"
          "  rerun JOB --from D --to D [--parallel N]   backfill days (RERUN)\n"
          "  debug [--group G] --script-file F [--follow]   ad-hoc script\n"
          "  stop ID | cancel ID | retry ID   instance operations\n"
          "  folder list | set PATH --var NAME=VALUE ...   folder variables\n"
          "  login --user U [--password-file F]   get a token (kept in\n"
          "               ~/.config/heracron/token); logout\n"
          "  user list | add NAME [--email E] [--role R] --password-file F |\n"
          "               delete NAME            users (administrators)\n"
          "  audit [--limit N]   who did what, newest first\n"
          "  alert test --to ADDRESS   a test mail with [smtp] of -c\n"
          "  map [--name NAME] < items   (inside a map job) a sub-task a line\n"
          "  cron next EXPR [--from 'YYYY-MM-DD HH:MM:SS'] [--count N] [--tz Z]\n"
          "               next fire times of a cron expression (offline)\n"
          "\n"
          "Options:\n"
          "  -c FILE      configuration (default %s if it exists):\n"
          "               finds the API (http.listen) and the database\n"
          "  --url URL    API of any node (also $HERACRON_URL)\n"
          "  --token T    API token (also $HERACRON_TOKEN)\n"
          "  --json       machine-readable output\n"
          "  --help, --version\n"
          "\n"
          "Exit status: 0 success, 1 the operation failed, 2 bad usage or "
          "input.\n",
          DEFAULT_CONFIG);
}

static const struct {
  const char *name;
  int (*fn)(struct cli *, int, char **);
} commands[] = {
    {"status", cmd_status},
    {"workers", cmd_workers},
    {"db", cmd_db},
    {"cron", cmd_cron},
    {"job", cmd_job},
    {"run", cmd_run},
    {"instances", cmd_instances},
    {"instance", cmd_instance},
    {"log", cmd_log},
    {"recover", cmd_recover},
    {"rerun", cmd_rerun},
    {"debug", cmd_debug},
    {"actions", cmd_actions},
    {"folder", cmd_folder},
    {"login", cmd_login},
    {"logout", cmd_logout},
    {"user", cmd_user},
    {"audit", cmd_audit},
    {"alert", cmd_alert},
    {"map", cmd_map},
    {"stop", cmd_instance_op},
    {"cancel", cmd_instance_op},
    {"retry", cmd_instance_op},
};

/* Derives the API URL from http.listen: a wildcard host means this host. */
static void url_from_listen(struct cli *cli) {
  char host[256];
  uint16_t port;
  if (cfg_split_hostport(cli->cfg.http.listen, host, sizeof(host), &port) < 0) {
    snprintf(cli->url, sizeof(cli->url), "http://127.0.0.1:8080");
    return;
  }
  if (strcmp(host, "0.0.0.0") == 0) snprintf(host, sizeof(host), "127.0.0.1");
  if (strcmp(host, "::") == 0) snprintf(host, sizeof(host), "::1");
  snprintf(cli->url, sizeof(cli->url),
           strchr(host, ':') ? "http://[%s]:%u" : "http://%s:%u", host, port);
}

static int run(struct cli *cli, int argc, char **argv) {
  char err[512];
  const char *config = NULL, *url = NULL;
  int i = 1;
  /* Options come before the command. */
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return CLI_OK;
    }
    if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
      printf("heracron %s\n", PACKAGE_VERSION);
      return CLI_OK;
    }
    if (strcmp(a, "--json") == 0) {
      cli->json = true;
    } else if (strcmp(a, "-c") == 0 || strcmp(a, "--url") == 0 ||
               strcmp(a, "--token") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "heracron: %s needs a value\n", a);
        return CLI_USAGE;
      }
      const char *v = argv[++i];
      if (a[1] == 'c') config = v;
      else if (a[2] == 'u') url = v;
      else cli->token = v;
    } else if (strncmp(a, "--url=", 6) == 0) {
      url = a + 6;
    } else if (strncmp(a, "--token=", 8) == 0) {
      cli->token = a + 8;
    } else if (strncmp(a, "--", 2) == 0 && strchr(a, '.') != NULL) {
      continue; /* an override: applied below, after the file */
    } else {
      fprintf(stderr, "heracron: unknown option '%s'\n", a);
      usage(stderr);
      return CLI_USAGE;
    }
  }
  if (i >= argc) {
    usage(stderr);
    return CLI_USAGE;
  }
  if (config == NULL && access(DEFAULT_CONFIG, R_OK) == 0)
    config = DEFAULT_CONFIG;
  if (config != NULL &&
      cfg_load_file(&cli->cfg, config, err, sizeof(err)) < 0) {
    fprintf(stderr, "heracron: %s\n", err);
    return CLI_USAGE;
  }
  for (int k = 1; k < i; k++) {
    const char *a = argv[k];
    if (strcmp(a, "-c") == 0 || strcmp(a, "--url") == 0 ||
        strcmp(a, "--token") == 0) {
      k++;
      continue;
    }
    if (strncmp(a, "--", 2) == 0 && strchr(a, '.') != NULL &&
        strncmp(a, "--url=", 6) != 0 && strncmp(a, "--token=", 8) != 0 &&
        cfg_override(&cli->cfg, a + 2, err, sizeof(err)) < 0) {
      fprintf(stderr, "heracron: %s\n", err);
      return CLI_USAGE;
    }
  }
  if (cfg_finish(&cli->cfg, err, sizeof(err)) < 0) {
    fprintf(stderr, "heracron: %s\n", err);
    return CLI_USAGE;
  }
  if (url == NULL) url = getenv("HERACRON_URL");
  if (cli->token == NULL) cli->token = getenv("HERACRON_TOKEN");
  static char saved[256];
  char tpath[1024];
  if ((cli->token == NULL || cli->token[0] == '\0') &&
      cli_token_path(tpath, sizeof(tpath)) == 0) { /* from heracron login */
    FILE *f = fopen(tpath, "r");
    if (f != NULL && fgets(saved, sizeof(saved), f) != NULL) {
      saved[strcspn(saved, "\r\n")] = '\0';
      cli->token = saved;
    }
    if (f != NULL) fclose(f);
  }
  if (url != NULL && url[0]) {
    snprintf(cli->url, sizeof(cli->url), "%s", url);
    size_t n = strlen(cli->url);
    while (n > 0 && cli->url[n - 1] == '/') cli->url[--n] = '\0';
  } else {
    url_from_listen(cli);
  }
  for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
    if (strcmp(commands[c].name, argv[i]) == 0)
      return commands[c].fn(cli, argc - i, argv + i);
  fprintf(stderr, "heracron: unknown command '%s'\n", argv[i]);
  usage(stderr);
  return CLI_USAGE;
}

int main(int argc, char **argv) {
  struct cli cli = {0};
  log_set_ident("heracron");
  log_current_level = LOG_WARN;
  if (cfg_init(&cli.cfg) < 0) {
    fprintf(stderr, "heracron: out of memory\n");
    return CLI_FAILED;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = run(&cli, argc, argv);
  curl_global_cleanup();
  cfg_free(&cli.cfg);
  return rc;
}
