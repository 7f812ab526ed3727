#include "config.h"

#include "http/api_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "util/cfg.h"
#include "util/metrics.h"

static const char api_sql_queues[] =
    "SELECT CASE WHEN trigger_kind = 'SCHEDULE' THEN 'schedule'"
    " WHEN trigger_kind = 'DEBUG' THEN 'debug' ELSE 'manual' END, COUNT(*) "
    "FROM instances WHERE status = 'QUEUED' GROUP BY 1";
static const char api_sql_cluster[] =
    "SELECT (SELECT COUNT(*) FROM nodes WHERE connected = 1"
    "  AND heartbeat_at > NOW(6) - INTERVAL ? MICROSECOND),"
    " COALESCE((SELECT epoch FROM lease WHERE name = 'master'), 0),"
    " (SELECT COUNT(*) FROM instances WHERE status IN ('DISPATCHED', 'RUNNING')),"
    " (SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending'))";

void api_metrics(const struct http_req *req, struct http_resp *resp) {
  char *out = NULL;
  size_t len = 0, cap = 0;
  metrics_render(&out, &len, &cap);
  struct db_rows q, c;
  struct db_param p[] = {
      DB_U64((uint64_t)req->cfg->master.worker_timeout_ms * 1000u)};
  if (http_db_read(resp, api_sql_queues, NULL, 0, &q) < 0 ||
      http_db_read(resp, api_sql_cluster, p, 1, &c) < 0) {
    free(out);
    return; /* a 503 saying why */
  }
  long long depth[3] = {0, 0, 0};
  static const char *const qn[] = {"schedule", "manual", "debug"};
  for (int i = 0; i < q.nrows; i++)
    for (int k = 0; k < 3; k++)
      if (strcmp(db_cell(&q, i, 0), qn[k]) == 0)
        depth[k] = strtoll(db_cell(&q, i, 1), NULL, 10);
  char buf[1536];
  int n = snprintf(
      buf, sizeof(buf),
      "# HELP heracron_queue_depth Instances waiting in each queue.\n"
      "# TYPE heracron_queue_depth gauge\n"
      "heracron_queue_depth{queue=\"schedule\"} %lld\n"
      "heracron_queue_depth{queue=\"manual\"} %lld\n"
      "heracron_queue_depth{queue=\"debug\"} %lld\n"
      "# HELP heracron_instances_running Instances out on workers.\n"
      "# TYPE heracron_instances_running gauge\n"
      "heracron_instances_running %s\n"
      "# HELP heracron_workers_connected Workers with a fresh heartbeat.\n"
      "# TYPE heracron_workers_connected gauge\n"
      "heracron_workers_connected %s\n"
      "# HELP heracron_lease_epoch Epoch of the master lease.\n"
      "# TYPE heracron_lease_epoch gauge\n"
      "heracron_lease_epoch %s\n"
      "# HELP heracron_outbox_pending Alert mails not sent yet.\n"
      "# TYPE heracron_outbox_pending gauge\n"
      "heracron_outbox_pending %s\n",
      depth[0], depth[1], depth[2], c.nrows ? db_cell(&c, 0, 2) : "0",
      c.nrows ? db_cell(&c, 0, 0) : "0", c.nrows ? db_cell(&c, 0, 1) : "0",
      c.nrows ? db_cell(&c, 0, 3) : "0");
  db_rows_free(&q);
  db_rows_free(&c);
  char *all = realloc(out, len + (size_t)n + 1);
  if (all == NULL) {
    free(out);
    http_error(resp, 500, "out of memory");
    return;
  }
  memcpy(all + len, buf, (size_t)n + 1);
  resp->raw = all;
  resp->raw_len = len + (size_t)n;
  resp->ctype = "text/plain; version=0.0.4; charset=utf-8";
}
