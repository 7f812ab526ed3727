/* heracron map [--name NAME] [--instance ID] < items: from inside a part
 * of a map job, adds one sub-task per line of standard input.  Uses
 * HERACRON_URL, HERACRON_INSTANCE_ID and HERACRON_MAP_TOKEN, which the
 * worker sets.  Exit 0 only once every item is persisted. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/out.h"

#define MAP_BATCH 1000

static int map_send(struct cli *cli, const char *path, const char *name,
                    json_t *items, long long *total) {
  json_t *body = json_pack("{s:s,s:O}", "name", name, "items", items), *j = NULL;
  int st = client_send(cli, "POST", path, body, &j);
  json_decref(body);
  int rc = out_status(st, j);
  if (rc == CLI_OK) *total += json_integer_value(json_object_get(j, "mapped"));
  json_decref(j);
  json_array_clear(items);
  return rc;
}

int cmd_map(struct cli *cli, int argc, char **argv) {
  const char *name = "map", *inst = getenv("HERACRON_INSTANCE_ID");
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) name = argv[++i];
    else if (strcmp(argv[i], "--instance") == 0 && i + 1 < argc) inst = argv[++i];
    else inst = NULL, i = argc;
  }
  if (inst == NULL || atoll(inst) <= 0) {
    fprintf(stderr, "usage: heracron map [--name NAME] [--instance ID] < items\n"
                    "  (one sub-task per line; run from a part of a map job)\n");
    return CLI_USAGE;
  }
  if (strcmp(name, "root") == 0 || strcmp(name, "reduce") == 0) {
    fprintf(stderr, "heracron: map: 'root' and 'reduce' are reserved task names\n");
    return CLI_USAGE;
  }
  const char *mt = getenv("HERACRON_MAP_TOKEN");
  if (mt && *mt) cli->token = mt;
  char path[96];
  snprintf(path, sizeof(path), "/api/instances/%lld/map", atoll(inst));
  json_t *items = json_array();
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  long long total = 0;
  int rc = CLI_OK;
  while (rc == CLI_OK && (n = getline(&line, &cap, stdin)) >= 0) {
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    json_array_append_new(items, json_stringn(line, (size_t)n));
    if (json_array_size(items) == MAP_BATCH)
      rc = map_send(cli, path, name, items, &total);
  }
  if (rc == CLI_OK && json_array_size(items) > 0)
    rc = map_send(cli, path, name, items, &total);
  free(line);
  json_decref(items);
  if (rc == CLI_OK) fprintf(stderr, "heracron: %lld sub-task(s) '%s' mapped\n", total, name);
  return rc;
}
