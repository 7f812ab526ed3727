/* heracron login --user U [--password-file F], logout,
 * user list | add NAME [--email E] [--role admin|user] --password-file F |
 * delete NAME, audit [--limit N] */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/out.h"

/* A password from a file ("-": standard input), or typed at the terminal
 * without echo.  The caller frees it. */
static char *user_password(const char *file) {
  if (file != NULL) {
    char *pw = client_read_file(file);
    if (pw) pw[strcspn(pw, "\r\n")] = '\0';
    return pw;
  }
  if (!isatty(STDIN_FILENO)) {
    fprintf(stderr, "heracron: give --password-file (no terminal to ask on)\n");
    return NULL;
  }
  struct termios t, quiet;
  tcgetattr(STDIN_FILENO, &t);
  quiet = t;
  quiet.c_lflag &= ~(tcflag_t)ECHO;
  fprintf(stderr, "password: ");
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  char buf[512];
  char *ok = fgets(buf, sizeof(buf), stdin);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
  fputc('\n', stderr);
  if (ok == NULL) return NULL;
  buf[strcspn(buf, "\r\n")] = '\0';
  char *pw = strdup(buf);
  memset(buf, 0, sizeof(buf));
  return pw;
}

int cli_token_path(char *out, size_t len) {
  const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
  if (xdg && *xdg) snprintf(out, len, "%s/heracron/token", xdg);
  else if (home && *home) snprintf(out, len, "%s/.config/heracron/token", home);
  else return -1;
  return 0;
}

/* Saves the token where later commands find it, readable by this user
 * only. */
static int user_save_token(const char *token) {
  char path[1024];
  if (cli_token_path(path, sizeof(path)) < 0) return -1;
  char *slash = strrchr(path, '/');
  *slash = '\0';
  char *parent = strrchr(path, '/');
  if (parent) { /* .config, then heracron */
    *parent = '\0';
    mkdir(path, 0700);
    *parent = '/';
  }
  mkdir(path, 0700);
  *slash = '/';
  FILE *f = NULL;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) f = fdopen(fd, "w");
  if (f == NULL || fprintf(f, "%s\n", token) < 0 || fclose(f) != 0) {
    fprintf(stderr, "heracron: cannot save the token in %s: %s\n", path,
            strerror(errno));
    return -1;
  }
  return 0;
}

int cmd_login(struct cli *cli, int argc, char **argv) {
  const char *user = NULL, *file = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--user") == 0) user = argv[i + 1];
    else if (strcmp(argv[i], "--password-file") == 0) file = argv[i + 1];
    else user = NULL, i = argc;
  }
  if (user == NULL || argc % 2 == 0) {
    fprintf(stderr, "usage: heracron login --user NAME [--password-file F|-]\n");
    return CLI_USAGE;
  }
  char *pw = user_password(file);
  if (pw == NULL) return CLI_USAGE;
  json_t *body = json_pack("{s:s,s:s}", "user", user, "password", pw), *j = NULL;
  memset(pw, 0, strlen(pw));
  free(pw);
  cli->token = NULL; /* logging in needs none */
  int st = client_send(cli, "POST", "/api/login", body, &j);
  json_decref(body);
  int rc = out_status(st, j);
  if (rc == CLI_OK) {
    const char *tok = json_string_value(json_object_get(j, "token"));
    if (tok == NULL || user_save_token(tok) < 0) rc = CLI_FAILED;
    else if (cli->json) out_json(j);
    else printf("logged in as %s (%s) until %s\n", user,
                json_string_value(json_object_get(j, "role")),
                json_string_value(json_object_get(j, "expires_at")));
  }
  json_decref(j);
  return rc;
}

int cmd_logout(struct cli *cli, int argc, char **argv) {
  json_t *j = NULL;
  int st = client_send(cli, "POST", "/api/logout", NULL, &j);
  int rc = out_status(st, j);
  json_decref(j);
  char path[1024];
  if (cli_token_path(path, sizeof(path)) == 0) unlink(path);
  if (rc == CLI_OK) printf("logged out\n");
  return rc;
}

static int user_list(struct cli *cli) {
  int rc;
  json_t *j = client_fetch(cli, "/api/users", &rc);
  if (rc == CLI_OK && cli->json) out_json(j);
  else if (rc == CLI_OK) {
    static const char *const head[] = {"NAME", "ROLE", "EMAIL", "CREATED"};
    struct out_table t;
    out_table_init(&t, 4, head);
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(j, "users"), i, u) {
      const char *cells[4] = {json_string_value(json_object_get(u, "name")),
                              json_string_value(json_object_get(u, "role")),
                              json_string_value(json_object_get(u, "email")),
                              json_string_value(json_object_get(u, "created_at"))};
      out_table_row(&t, cells);
    }
    out_table_print(&t);
    out_table_free(&t);
  }
  json_decref(j);
  return rc;
}

int cmd_user(struct cli *cli, int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "list") == 0) return user_list(cli);
  json_t *j = NULL;
  int st = -1;
  if (argc == 3 && strcmp(argv[1], "delete") == 0) {
    char path[300];
    char *esc = client_escape(argv[2]);
    snprintf(path, sizeof(path), "/api/users/%s", esc ? esc : "");
    free(esc);
    st = client_send(cli, "DELETE", path, NULL, &j);
  } else if (argc >= 3 && strcmp(argv[1], "add") == 0) {
    const char *email = "", *role = "user", *file = NULL;
    for (int i = 3; i < argc; i += 2) {
      if (i + 1 >= argc) return cmd_user(cli, 0, argv);
      if (strcmp(argv[i], "--email") == 0) email = argv[i + 1];
      else if (strcmp(argv[i], "--role") == 0) role = argv[i + 1];
      else if (strcmp(argv[i], "--password-file") == 0) file = argv[i + 1];
      else return cmd_user(cli, 0, argv);
    }
    char *pw = user_password(file);
    if (pw == NULL) return CLI_USAGE;
    json_t *body = json_pack("{s:s,s:s,s:s,s:s}", "name", argv[2], "email",
                             email, "role", role, "password", pw);
    memset(pw, 0, strlen(pw));
    free(pw);
    st = client_send(cli, "POST", "/api/users", body, &j);
    json_decref(body);
  } else {
    fprintf(stderr, "usage: heracron user list | add NAME [--email E] "
                    "[--role admin|user] --password-file F | delete NAME\n");
    return CLI_USAGE;
  }
  int rc = out_status(st, j);
  if (rc == CLI_OK) {
    if (cli->json) out_json(j);
    else printf("user %s %s\n", argv[2], strcmp(argv[1], "add") ? "deleted" : "added");
  }
  json_decref(j);
  return rc;
}

int cmd_audit(struct cli *cli, int argc, char **argv) {
  char path[64] = "/api/audit";
  if (argc == 3 && strcmp(argv[1], "--limit") == 0)
    snprintf(path, sizeof(path), "/api/audit?limit=%lld", strtoll(argv[2], NULL, 10));
  else if (argc != 1) {
    fprintf(stderr, "usage: heracron audit [--limit N]\n");
    return CLI_USAGE;
  }
  int rc;
  json_t *j = client_fetch(cli, path, &rc);
  if (rc == CLI_OK && cli->json) out_json(j);
  else if (rc == CLI_OK) {
    static const char *const head[] = {"AT", "USER", "FROM", "COMMAND",
                                       "STATUS", "DETAIL"};
    struct out_table t;
    out_table_init(&t, 6, head);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(j, "audit"), i, a) {
      char cmd[600], status[16];
      snprintf(cmd, sizeof(cmd), "%s %s",
               json_string_value(json_object_get(a, "method")),
               json_string_value(json_object_get(a, "path")));
      snprintf(status, sizeof(status), "%lld",
               (long long)json_integer_value(json_object_get(a, "status")));
      const char *cells[6] = {json_string_value(json_object_get(a, "at")),
                              json_string_value(json_object_get(a, "user")),
                              json_string_value(json_object_get(a, "remote")),
                              cmd, status,
                              json_string_value(json_object_get(a, "detail"))};
      out_table_row(&t, cells);
    }
    out_table_print(&t);
    out_table_free(&t);
  }
  json_decref(j);
  return rc;
}
