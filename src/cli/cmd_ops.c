/* heracron recover [--chain] ACTION, rerun JOB --from D --to D
 * [--parallel N], debug [--group G] --script-file F [--follow], actions
 * [--date D] [--job JOB], stop|cancel|retry ID */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/out.h"

/* A positive decimal id, or -1. */
static long long ops_id(const char *s) {
  char *end;
  long long v = strtoll(s, &end, 10);
  return end != s && *end == '\0' && v > 0 ? v : -1;
}

static long long ops_int(const json_t *o, const char *k) {
  return (long long)json_integer_value(json_object_get(o, k));
}

/* POSTs body to path; prints the answer as JSON with --json, else
 * nothing.  Returns the exit status; *out keeps the answer if wanted. */
static int ops_post(struct cli *cli, const char *path, const json_t *body,
                    json_t **out) {
  json_t *j = NULL;
  int st = client_send(cli, "POST", path, body, &j);
  int rc = out_status(st, j);
  if (rc == CLI_OK && cli->json) out_json(j);
  if (rc == CLI_OK && out) *out = j;
  else json_decref(j);
  return rc;
}

int cmd_recover(struct cli *cli, int argc, char **argv) {
  bool chain = argc == 3 && strcmp(argv[1], "--chain") == 0;
  long long id = argc >= 2 ? ops_id(argv[argc - 1]) : -1;
  if ((argc != 2 && !chain) || id < 0) {
    fprintf(stderr, "usage: heracron recover [--chain] ACTION\n");
    return CLI_USAGE;
  }
  char path[96];
  snprintf(path, sizeof(path), "/api/actions/%lld/recover", id);
  json_t *body = json_pack("{s:b}", "chain", chain), *j = NULL;
  int rc = ops_post(cli, path, body, &j);
  json_decref(body);
  if (rc == CLI_OK && !cli->json)
    printf("instance %lld queued (%s of action %lld)\n", ops_int(j, "instance"),
           chain ? "SUPER_RECOVERY" : "RECOVERY", id);
  json_decref(j);
  return rc;
}

int cmd_rerun(struct cli *cli, int argc, char **argv) {
  const char *from = NULL, *to = NULL, *job = NULL;
  long long par = 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) from = argv[++i];
    else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) to = argv[++i];
    else if (strcmp(argv[i], "--parallel") == 0 && i + 1 < argc)
      par = ops_id(argv[++i]);
    else if (job == NULL && argv[i][0] != '-') job = argv[i];
    else job = NULL, from = NULL; /* unknown argument: usage below */
  }
  if (job == NULL || from == NULL || to == NULL || par < 1) {
    fprintf(stderr, "usage: heracron rerun JOB --from YYYY-MM-DD --to "
                    "YYYY-MM-DD [--parallel N]\n");
    return CLI_USAGE;
  }
  json_t *body = json_pack("{s:s,s:s,s:s,s:I}", "job", job, "from", from, "to",
                           to, "parallel", (json_int_t)par);
  json_t *j = NULL;
  int rc = ops_post(cli, "/api/reruns", body, &j);
  json_decref(body);
  if (rc == CLI_OK && !cli->json)
    printf("rerun %lld: %lld day(s) of %s queued, %lld at a time\n",
           ops_int(j, "rerun"), ops_int(j, "days"), job, par);
  json_decref(j);
  return rc;
}

int cmd_debug(struct cli *cli, int argc, char **argv) {
  const char *group = "default", *file = NULL;
  bool follow = false, bad = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--group") == 0 && i + 1 < argc) group = argv[++i];
    else if (strcmp(argv[i], "--script-file") == 0 && i + 1 < argc)
      file = argv[++i];
    else if (strcmp(argv[i], "--follow") == 0) follow = true;
    else bad = true;
  }
  if (bad || file == NULL) {
    fprintf(stderr, "usage: heracron debug [--group G] --script-file FILE "
                    "[--follow]\n");
    return CLI_USAGE;
  }
  char *script = client_read_file(file);
  if (script == NULL) return CLI_USAGE;
  json_t *body = json_pack("{s:s,s:s}", "group", group, "script", script);
  free(script);
  json_t *j = NULL;
  int rc = ops_post(cli, "/api/debug", body, &j);
  json_decref(body);
  long long id = rc == CLI_OK ? ops_int(j, "instance") : 0;
  json_decref(j);
  if (rc != CLI_OK || cli->json) return rc;
  if (!follow) {
    printf("instance %lld queued (DEBUG on group %s)\n", id, group);
    return CLI_OK;
  }
  char ids[24];
  snprintf(ids, sizeof(ids), "%lld", id);
  char *largv[] = {(char *)"log", ids, (char *)"--follow", NULL};
  return cmd_log(cli, 3, largv);
}

int cmd_actions(struct cli *cli, int argc, char **argv) {
  char path[512] = "/api/actions";
  for (int i = 1; i < argc; i++) {
    const char *key = NULL;
    if (strcmp(argv[i], "--date") == 0 && i + 1 < argc) key = "date";
    else if (strcmp(argv[i], "--job") == 0 && i + 1 < argc) key = "job";
    else {
      fprintf(stderr, "usage: heracron actions [--date YYYY-MM-DD] [--job JOB]\n");
      return CLI_USAGE;
    }
    if (client_query_add(path, sizeof(path), key, argv[++i]) < 0) return CLI_FAILED;
  }
  int rc;
  json_t *j = client_fetch(cli, path, &rc);
  if (rc != CLI_OK || cli->json) {
    if (rc == CLI_OK) out_json(j);
    json_decref(j);
    return rc;
  }
  static const char *const head[] = {"ACTION", "JOB", "FIRE AT", "STATUS",
                                     "INSTANCE", "UPSTREAM ACTIONS"};
  struct out_table t;
  out_table_init(&t, 6, head);
  size_t i;
  json_t *x;
  json_array_foreach(json_object_get(j, "actions"), i, x) {
    char id[24], inst[24], ups[512] = "";
    snprintf(id, sizeof(id), "%lld", ops_int(x, "id"));
    if (json_is_integer(json_object_get(x, "instance")))
      snprintf(inst, sizeof(inst), "%lld", ops_int(x, "instance"));
    else
      snprintf(inst, sizeof(inst), "-");
    size_t k;
    json_t *u;
    json_array_foreach(json_object_get(x, "upstreams"), k, u) {
      size_t l = strlen(ups);
      snprintf(ups + l, sizeof(ups) - l, "%s%lld", k ? "," : "",
               (long long)json_integer_value(u));
    }
    const char *cells[6] = {
        id, json_string_value(json_object_get(x, "job")),
        json_string_value(json_object_get(x, "fire_at")),
        json_string_value(json_object_get(x, "status")), inst,
        ups[0] ? ups : "-"};
    out_table_row(&t, cells);
  }
  if (t.nrows) out_table_print(&t);
  else printf("no actions on %s\n", json_string_value(json_object_get(j, "date")));
  out_table_free(&t);
  json_decref(j);
  return CLI_OK;
}

/* stop, cancel and retry share one shape: POST /api/instances/ID/VERB. */
int cmd_instance_op(struct cli *cli, int argc, char **argv) {
  long long id = argc == 2 ? ops_id(argv[1]) : -1;
  if (id < 0) {
    fprintf(stderr, "usage: heracron %s INSTANCE\n", argv[0]);
    return CLI_USAGE;
  }
  char path[96];
  snprintf(path, sizeof(path), "/api/instances/%lld/%s", id, argv[0]);
  json_t *j = NULL;
  int rc = ops_post(cli, path, NULL, &j);
  if (rc == CLI_OK && !cli->json) {
    if (strcmp(argv[0], "retry") == 0)
      printf("instance %lld queued (retry of %lld)\n", ops_int(j, "instance"), id);
    else if (strcmp(argv[0], "stop") == 0)
      printf("instance %lld: stop requested\n", id);
    else
      printf("instance %lld canceled\n", id);
  }
  json_decref(j);
  return rc;
}
