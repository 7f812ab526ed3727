/* heracron run JOB, instances, instance ID, log ID [--follow] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/out.h"

int cmd_run(struct cli *cli, int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: heracron run JOB\n");
    return CLI_USAGE;
  }
  char path[512];
  char *esc = client_escape(argv[1]);
  if (esc == NULL) return CLI_FAILED;
  snprintf(path, sizeof(path), "/api/jobs/%s/run", esc);
  free(esc);
  json_t *j = NULL;
  int st = client_send(cli, "POST", path, NULL, &j);
  int rc = out_status(st, j);
  if (rc == CLI_OK) {
    if (cli->json) out_json(j);
    else printf("instance %lld queued (MANUAL run of %s)\n",
                (long long)json_integer_value(json_object_get(j, "instance")),
                argv[1]);
  }
  json_decref(j);
  return rc;
}

static const char *run_str(const json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? s : "-";
}

int cmd_instances(struct cli *cli, int argc, char **argv) {
  char path[512] = "/api/instances";
  bool parts = false; /* a fan-out's parts: their task and result too */
  bool limited = false;
  for (int i = 1; i < argc; i++) {
    const char *key = NULL;
    if (strcmp(argv[i], "--job") == 0 && i + 1 < argc) key = "job";
    else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc) key = "status";
    else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) key = "limit", limited = true;
    else if (strcmp(argv[i], "--offset") == 0 && i + 1 < argc) key = "offset";
    else if (strcmp(argv[i], "--parent") == 0 && i + 1 < argc) key = "parent", parts = true;
    else {
      fprintf(stderr, "usage: heracron instances [--job JOB] [--status S] "
                      "[--parent ID] [--limit N] [--offset N]\n");
      return CLI_USAGE;
    }
    if (client_query_add(path, sizeof(path), key, argv[++i]) < 0) return CLI_FAILED;
  }
  if (!limited && client_query_add(path, sizeof(path), "limit", "100") < 0)
    return CLI_FAILED;
  int rc;
  json_t *j = client_fetch(cli, path, &rc);
  if (rc != CLI_OK || cli->json) {
    if (rc == CLI_OK) out_json(j);
    json_decref(j);
    return rc;
  }
  static const char *const head[] = {"ID", "JOB", "TRIGGER", "ATTEMPT", "STATUS",
                                     "WORKER", "EXIT", "QUEUED", "ENDED", "TASK",
                                     "RESULT"};
  struct out_table t;
  out_table_init(&t, parts ? 11 : 9, head);
  size_t i;
  json_t *x;
  json_array_foreach(json_object_get(j, "instances"), i, x) {
    char id[24], att[12], ex[24];
    snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(x, "id")));
    snprintf(att, sizeof(att), "%lld", (long long)json_integer_value(json_object_get(x, "attempt")));
    json_t *code = json_object_get(x, "exit_code"), *sig = json_object_get(x, "signal");
    if (json_is_integer(sig) && json_integer_value(sig))
      snprintf(ex, sizeof(ex), "signal %lld", (long long)json_integer_value(sig));
    else if (json_is_integer(code))
      snprintf(ex, sizeof(ex), "%lld", (long long)json_integer_value(code));
    else
      snprintf(ex, sizeof(ex), "-");
    const char *cells[11] = {id, run_str(x, "job"), run_str(x, "trigger"), att,
                             run_str(x, "status"), run_str(x, "worker"), ex,
                             run_str(x, "queued_at"), run_str(x, "ended_at"),
                             run_str(x, "task"), run_str(x, "result")};
    out_table_row(&t, cells);
  }
  if (t.nrows) out_table_print(&t);
  else printf("no instances\n");
  out_table_free(&t);
  json_decref(j);
  return CLI_OK;
}

int cmd_instance(struct cli *cli, int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: heracron instance ID\n");
    return CLI_USAGE;
  }
  char path[128];
  snprintf(path, sizeof(path), "/api/instances/%lld", strtoll(argv[1], NULL, 10));
  json_t *j = NULL;
  int st = client_get(cli, path, &j);
  int rc = out_status(st, j);
  if (rc == CLI_OK) {
    if (cli->json) {
      out_json(j);
    } else {
      const char *key;
      json_t *v;
      json_object_foreach(j, key, v) {
        char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY);
        printf("%-11s %s\n", key, s ? s : json_string_value(v));
        free(s);
      }
    }
  }
  json_decref(j);
  return rc;
}

static bool run_final(const char *s) {
  return s && strcmp(s, "QUEUED") && strcmp(s, "DISPATCHED") &&
         strcmp(s, "RUNNING") && strcmp(s, "WAITING");
}

int cmd_log(struct cli *cli, int argc, char **argv) {
  bool follow = argc == 3 && strcmp(argv[2], "--follow") == 0;
  if (argc != 2 && !follow) {
    fprintf(stderr, "usage: heracron log ID [--follow]\n");
    return CLI_USAGE;
  }
  long long id = strtoll(argv[1], NULL, 10), after = 0;
  for (;;) {
    char path[160];
    snprintf(path, sizeof(path), "/api/instances/%lld/log?after=%lld", id, after);
    json_t *j = NULL;
    int st = client_get(cli, path, &j);
    int rc = out_status(st, j);
    if (rc != CLI_OK) {
      json_decref(j);
      return rc;
    }
    const char *data = json_string_value(json_object_get(j, "data"));
    long long last = json_integer_value(json_object_get(j, "last_seq"));
    bool done = run_final(json_string_value(json_object_get(j, "status")));
    if (data) fputs(data, stdout);
    fflush(stdout);
    bool more = last > after;
    after = last;
    json_decref(j);
    if (more) continue; /* there may be another page */
    if (!follow || done) return CLI_OK;
    struct timespec ts = {0, 100 * 1000000L}; /* 0.1 s */
    nanosleep(&ts, NULL);
  }
}
