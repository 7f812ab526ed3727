/* heracron job add|list|show|update|enable|disable|delete */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/out.h"

static int job_usage(void) {
  fprintf(stderr,
          "usage: heracron job add NAME (--script S | --script-file F)\n"
          "                    (--cron EXPR [--tz ZONE] | --upstream JOB[,JOB])\n"
          "                    [--group G] [--owner U] [--description D]\n"
          "                    [--type shell] [--retries N] [--retry-wait S]\n"
          "                    [--timeout S] [--misfire run_once|skip]\n"
          "                    [--monitors U[,U]] [--disabled] [--folder /A/B]\n"
          "                    [--var NAME=VALUE ...]  (update: replaces all)\n"
          "                    [--no-alerts | --alerts]  mail owner and monitors\n"
          "                    when it fails for good (default: on)\n"
          "                    [--expected S] [--deadline HH:MM]  mail when a\n"
          "                    run takes longer, or today's is not done by then\n"
          "                    [--broadcast [--min-success PCT] | --shards N |\n"
          "                     --map [--reduce] [--runner] | --no-fanout]  run as\n"
          "                    parts across the group (map: sub-tasks from\n"
          "                    heracron map; --runner: fed to long-lived runners)\n"
          "       heracron job update JOB [the same options]\n"
          "       heracron job list | show JOB | enable JOB | disable JOB | "
          "delete JOB\n");
  return CLI_USAGE;
}

static json_t *job_list_arg(const char *s) {
  json_t *a = json_array();
  char *copy = strdup(s);
  char *save = NULL;
  for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t;
       t = strtok_r(NULL, ",", &save))
    json_array_append_new(a, json_string(t));
  free(copy);
  return a;
}

/* Options of add/update into a JSON body.  Returns NULL on bad usage. */
static json_t *job_body(int argc, char **argv, int start) {
  json_t *b = json_object();
  for (int i = start; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    static const char *const str_opts[][2] = {
        {"--script", "script"}, {"--cron", "cron"},   {"--tz", "tz"},
        {"--group", "group"},   {"--owner", "owner"}, {"--description", "description"},
        {"--type", "type"},     {"--misfire", "misfire"}, {"--folder", "folder"},
        {"--deadline", "deadline"}};
    static const char *const int_opts[][2] = {{"--retries", "retries"},
                                              {"--retry-wait", "retry_wait_s"},
                                              {"--timeout", "timeout_s"},
                                              {"--expected", "expected_s"},
                                              {"--shards", "shards"},
                                              {"--min-success", "min_success_pct"}};
    bool done = false;
    for (size_t k = 0; k < sizeof(str_opts) / sizeof(str_opts[0]) && !done; k++)
      if (strcmp(a, str_opts[k][0]) == 0 && v) {
        json_object_set_new(b, str_opts[k][1], json_string(v));
        i++;
        done = true;
      }
    for (size_t k = 0; k < sizeof(int_opts) / sizeof(int_opts[0]) && !done; k++)
      if (strcmp(a, int_opts[k][0]) == 0 && v) {
        char *end;
        long long n = strtoll(v, &end, 10);
        if (*end != '\0' || end == v) {
          fprintf(stderr, "heracron: %s needs a number\n", a);
          json_decref(b);
          return NULL;
        }
        json_object_set_new(b, int_opts[k][1], json_integer(n));
        i++;
        done = true;
      }
    if (done) continue;
    if (strcmp(a, "--script-file") == 0 && v) {
      char *s = client_read_file(v);
      if (s == NULL) {
        json_decref(b);
        return NULL;
      }
      json_object_set_new(b, "script", json_string(s));
      free(s);
      i++;
    } else if (strcmp(a, "--upstream") == 0 && v) {
      json_object_set_new(b, "upstreams", job_list_arg(v));
      i++;
    } else if (strcmp(a, "--monitors") == 0 && v) {
      json_object_set_new(b, "monitors", job_list_arg(v));
      i++;
    } else if (strcmp(a, "--var") == 0 && v && strchr(v, '=') && v[0] != '=') {
      json_t *vars = json_object_get(b, "variables");
      if (vars == NULL) json_object_set_new(b, "variables", vars = json_object());
      client_var_arg(vars, v);
      i++;
    } else if (strcmp(a, "--disabled") == 0) {
      json_object_set_new(b, "enabled", json_false());
    } else if (strcmp(a, "--enabled") == 0) {
      json_object_set_new(b, "enabled", json_true());
    } else if (strcmp(a, "--broadcast") == 0) {
      json_object_set_new(b, "fanout", json_string("broadcast"));
    } else if (strcmp(a, "--map") == 0) {
      json_object_set_new(b, "fanout", json_string("map"));
    } else if (strcmp(a, "--reduce") == 0) {
      json_object_set_new(b, "reduce", json_true());
    } else if (strcmp(a, "--runner") == 0 || strcmp(a, "--no-runner") == 0) {
      json_object_set_new(b, "runner", json_boolean(a[2] == 'r'));
    } else if (strcmp(a, "--no-fanout") == 0) {
      json_object_set_new(b, "fanout", json_string("none"));
    } else if (strcmp(a, "--no-alerts") == 0 || strcmp(a, "--alerts") == 0) {
      json_object_set_new(b, "alerts", json_boolean(a[2] == 'a'));
    } else {
      fprintf(stderr, "heracron: unknown or incomplete option '%s'\n", a);
      json_decref(b);
      return NULL;
    }
  }
  json_t *sh = json_object_get(b, "shards");
  if (sh && json_integer_value(sh) > 0 && !json_object_get(b, "fanout"))
    json_object_set_new(b, "fanout", json_string("shards"));
  return b;
}

static void job_print(const json_t *j) {
  const char *cron = json_string_value(json_object_get(j, "cron"));
  char *ups = json_dumps(json_object_get(j, "upstreams"), JSON_COMPACT);
  char *downs = json_dumps(json_object_get(j, "downstreams"), JSON_COMPACT);
  printf("id           %lld\n", (long long)json_integer_value(json_object_get(j, "id")));
  printf("name         %s\n", json_string_value(json_object_get(j, "name")));
  printf("owner        %s\n", json_string_value(json_object_get(j, "owner")));
  printf("group        %s\n", json_string_value(json_object_get(j, "group")));
  printf("type         %s\n", json_string_value(json_object_get(j, "type")));
  if (cron)
    printf("schedule     %s%s%s\n", cron,
           json_string_length(json_object_get(j, "tz")) ? " in " : "",
           json_string_value(json_object_get(j, "tz")));
  printf("upstreams    %s\n", ups ? ups : "[]");
  printf("downstreams  %s\n", downs ? downs : "[]");
  printf("enabled      %s\n", json_is_true(json_object_get(j, "enabled")) ? "yes" : "no");
  printf("alerts       %s\n", json_is_true(json_object_get(j, "alerts")) ? "on" : "off");
  printf("retries      %lld, %lld s apart\n",
         (long long)json_integer_value(json_object_get(j, "retries")),
         (long long)json_integer_value(json_object_get(j, "retry_wait_s")));
  long long to = json_integer_value(json_object_get(j, "timeout_s"));
  if (to) printf("timeout      %lld s\n", to);
  else printf("timeout      none\n");
  printf("revision     %lld (updated %s)\n",
         (long long)json_integer_value(json_object_get(j, "revision")),
         json_string_value(json_object_get(j, "updated_at")));
  const char *k;
  json_t *x;
  json_object_foreach(json_object_get(j, "variables"), k, x)
      printf("variable     %s=%s\n", k, json_string_value(x));
  const char *d = json_string_value(json_object_get(j, "description"));
  if (d && d[0]) printf("description  %s\n", d);
  printf("script:\n%s", json_string_value(json_object_get(j, "script")));
  const char *sc = json_string_value(json_object_get(j, "script"));
  if (sc && sc[0] && sc[strlen(sc) - 1] != '\n') putchar('\n');
  free(ups);
  free(downs);
}

static int job_show_result(struct cli *cli, int status, json_t *j) {
  int rc = out_status(status, j);
  if (rc == CLI_OK) {
    if (cli->json) {
      char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
      if (s) puts(s);
      free(s);
    } else {
      job_print(j);
    }
  }
  json_decref(j);
  return rc;
}

static int job_list(struct cli *cli) {
  json_t *j = NULL;
  int st = client_get(cli, "/api/jobs", &j);
  int rc = out_status(st, j);
  if (rc != CLI_OK || cli->json) {
    if (rc == CLI_OK) {
      char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
      if (s) puts(s);
      free(s);
    }
    json_decref(j);
    return rc;
  }
  static const char *const head[] = {"ID", "NAME", "GROUP", "SCHEDULE", "ENABLED", "OWNER"};
  struct out_table t;
  out_table_init(&t, 6, head);
  size_t i;
  json_t *job;
  json_array_foreach(json_object_get(j, "jobs"), i, job) {
    char id[24], sched[300];
    snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(job, "id")));
    const char *cron = json_string_value(json_object_get(job, "cron"));
    if (cron) {
      snprintf(sched, sizeof(sched), "%s", cron);
    } else {
      char *ups = json_dumps(json_object_get(job, "upstreams"), JSON_COMPACT);
      snprintf(sched, sizeof(sched), "after %s", ups ? ups : "?");
      free(ups);
    }
    const char *cells[6] = {id, json_string_value(json_object_get(job, "name")),
                            json_string_value(json_object_get(job, "group")), sched,
                            json_is_true(json_object_get(job, "enabled")) ? "yes" : "no",
                            json_string_value(json_object_get(job, "owner"))};
    out_table_row(&t, cells);
  }
  if (t.nrows) out_table_print(&t);
  else printf("no jobs\n");
  out_table_free(&t);
  json_decref(j);
  return CLI_OK;
}

int cmd_job(struct cli *cli, int argc, char **argv) {
  if (argc < 2) return job_usage();
  const char *sub = argv[1];
  char path[512];
  json_t *j = NULL;
  if (strcmp(sub, "list") == 0) return argc == 2 ? job_list(cli) : job_usage();
  if (argc < 3) return job_usage();
  char *esc = client_escape(argv[2]);
  if (esc == NULL) return CLI_FAILED;
  snprintf(path, sizeof(path), "/api/jobs/%s", esc);
  free(esc);
  if (strcmp(sub, "add") == 0 || strcmp(sub, "update") == 0) {
    bool add = sub[0] == 'a';
    json_t *body = job_body(argc, argv, 3);
    if (body == NULL) return job_usage();
    if (add) json_object_set_new(body, "name", json_string(argv[2]));
    int st = client_send(cli, add ? "POST" : "PUT", add ? "/api/jobs" : path,
                         body, &j);
    json_decref(body);
    return job_show_result(cli, st, j);
  }
  if (argc != 3) return job_usage();
  if (strcmp(sub, "show") == 0) {
    int st = client_get(cli, path, &j);
    return job_show_result(cli, st, j);
  }
  if (strcmp(sub, "enable") == 0 || strcmp(sub, "disable") == 0) {
    strncat(path, sub[0] == 'e' ? "/enable" : "/disable",
            sizeof(path) - strlen(path) - 1);
    int st = client_send(cli, "POST", path, NULL, &j);
    return job_show_result(cli, st, j);
  }
  if (strcmp(sub, "delete") == 0) {
    int st = client_send(cli, "DELETE", path, NULL, &j);
    int rc = out_status(st, j);
    if (rc == CLI_OK) printf("deleted job %s\n", argv[2]);
    json_decref(j);
    return rc;
  }
  return job_usage();
}
