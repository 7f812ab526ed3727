/* heracron status, heracron workers. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/out.h"

int cmd_status(struct cli *cli, int argc, char **argv) {
  if (argc > 1) {
    fprintf(stderr, "heracron: status takes no arguments\n");
    return CLI_USAGE;
  }
  int rc;
  json_t *j = client_fetch(cli, "/api/status", &rc);
  if (j == NULL) return rc;
  if (cli->json) {
    out_json(j);
    json_decref(j);
    return CLI_OK;
  }
  const char *master = json_string_value(json_object_get(j, "master"));
  if (master != NULL) {
    printf("master   %s (%s, http %s)\n", master,
           json_string_value(json_object_get(j, "address")),
           json_string_value(json_object_get(j, "http")));
  } else {
    const char *h = json_string_value(json_object_get(j, "holder"));
    printf("master   none (lease %s)\n",
           h && h[0] ? "expired" : "never taken");
  }
  printf("epoch    %lld\n",
         (long long)json_integer_value(json_object_get(j, "epoch")));
  long long left = json_integer_value(json_object_get(j, "lease_expires_ms"));
  if (master != NULL)
    printf("lease    expires in %.1f s\n", (double)left / 1000.0);
  else if (json_object_get(j, "lease_expires_ms"))
    printf("lease    expired %.1f s ago\n", (double)-left / 1000.0);
  printf("workers  %lld connected\n",
         (long long)json_integer_value(json_object_get(j, "workers")));
  printf("node     %s (answered this request)\n",
         json_string_value(json_object_get(j, "node")));
  json_decref(j);
  return CLI_OK;
}

int cmd_workers(struct cli *cli, int argc, char **argv) {
  if (argc > 1) {
    fprintf(stderr, "heracron: workers takes no arguments\n");
    return CLI_USAGE;
  }
  int rc;
  json_t *j = client_fetch(cli, "/api/workers", &rc);
  if (j == NULL) return rc;
  if (cli->json) {
    out_json(j);
    json_decref(j);
    return CLI_OK;
  }
  static const char *const head[] = {"NAME",      "ADDRESS", "GROUPS",
                                     "CORES",     "LOAD/CORE", "MEMORY",
                                     "HEARTBEAT", "STATE"};
  struct out_table t;
  out_table_init(&t, 8, head);
  size_t i;
  json_t *w;
  json_array_foreach(json_object_get(j, "workers"), i, w) {
    char groups[256] = "", load[256] = "", mem[96], cores[16], hb[32];
    size_t k;
    json_t *x;
    size_t off = 0;
    json_array_foreach(json_object_get(w, "groups"), k, x) {
      off += (size_t)snprintf(groups + off, off < sizeof(groups) ? sizeof(groups) - off : 0,
                              "%s%s", k ? "," : "", json_string_value(x));
      if (off >= sizeof(groups)) break;
    }
    off = 0;
    json_array_foreach(json_object_get(w, "load"), k, x) {
      off += (size_t)snprintf(load + off, off < sizeof(load) ? sizeof(load) - off : 0,
                              "%s%.2f", k ? " " : "", json_number_value(x));
      if (off >= sizeof(load)) break;
    }
    uint64_t used = (uint64_t)json_integer_value(json_object_get(w, "mem_used"));
    uint64_t total =
        (uint64_t)json_integer_value(json_object_get(w, "mem_total"));
    char u[32], tot[32];
    out_bytes(used, u, sizeof(u));
    out_bytes(total, tot, sizeof(tot));
    snprintf(mem, sizeof(mem), "%s / %s (%.0f%%)", u, tot,
             total ? 100.0 * (double)used / (double)total : 0.0);
    snprintf(cores, sizeof(cores), "%lld",
             (long long)json_integer_value(json_object_get(w, "cores")));
    json_t *age = json_object_get(w, "heartbeat_age_ms");
    if (json_is_integer(age)) {
      char a[24];
      out_age_ms(json_integer_value(age), a, sizeof(a));
      snprintf(hb, sizeof(hb), "%s ago", a);
    } else {
      snprintf(hb, sizeof(hb), "never");
    }
    const char *cells[8] = {
        json_string_value(json_object_get(w, "name")),
        json_string_value(json_object_get(w, "address")),
        groups,
        cores,
        load[0] ? load : "-",
        mem,
        hb,
        json_is_true(json_object_get(w, "connected")) ? "connected" : "gone"};
    out_table_row(&t, cells);
  }
  if (t.nrows == 0)
    printf("no workers have connected yet\n");
  else
    out_table_print(&t);
  out_table_free(&t);
  json_decref(j);
  return CLI_OK;
}
