/* heracron folder list | set PATH --var NAME=VALUE ... */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/out.h"

static int folder_usage(void) {
  fprintf(stderr, "usage: heracron folder list\n"
                  "       heracron folder set PATH [--var NAME=VALUE ...]\n"
                  "       (set replaces the folder's variables)\n");
  return CLI_USAGE;
}

static int folder_list(struct cli *cli) {
  int rc;
  json_t *j = client_fetch(cli, "/api/folders", &rc);
  if (rc == CLI_OK && cli->json) out_json(j);
  else if (rc == CLI_OK) {
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(j, "folders"), i, f) {
      printf("%s\n", json_string_value(json_object_get(f, "path")));
      const char *k;
      json_t *v;
      json_object_foreach(json_object_get(f, "variables"), k, v)
          printf("  %s=%s\n", k, json_string_value(v));
    }
    if (json_array_size(json_object_get(j, "folders")) == 0)
      printf("no folder has variables\n");
  }
  json_decref(j);
  return rc;
}

int cmd_folder(struct cli *cli, int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "list") == 0) return folder_list(cli);
  if (argc < 3 || strcmp(argv[1], "set") != 0 || argv[2][0] != '/')
    return folder_usage();
  json_t *vars = json_object();
  for (int i = 3; i < argc; i += 2) {
    if (strcmp(argv[i], "--var") != 0 || i + 1 >= argc ||
        client_var_arg(vars, argv[i + 1]) < 0) {
      json_decref(vars);
      return folder_usage();
    }
  }
  char *esc = NULL, path[600] = "/api/folders";
  /* each segment escaped, the slashes kept */
  char copy[300];
  snprintf(copy, sizeof(copy), "%s", argv[2]);
  char *save = NULL;
  for (char *seg = strtok_r(copy, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
    esc = client_escape(seg);
    size_t l = strlen(path);
    snprintf(path + l, sizeof(path) - l, "/%s", esc ? esc : "");
    free(esc);
  }
  if (strcmp(path, "/api/folders") == 0) strcat(path, "/");
  json_t *body = json_pack("{s:o}", "variables", vars), *j = NULL;
  int st = client_send(cli, "PUT", path, body, &j);
  int rc = out_status(st, j);
  if (rc == CLI_OK) {
    if (cli->json) out_json(j);
    else printf("folder %s: %zu variable(s)\n", argv[2],
                json_object_size(json_object_get(j, "variables")));
  }
  json_decref(body);
  json_decref(j);
  return rc;
}
