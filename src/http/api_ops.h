/* api_ops: operators' commands on actions and instances.  They only
 * write rows the master acts on (queued instances, stop flags), with
 * conditional updates, so they are safe from any node at any time.
 *   GET  /api/actions[?date=YYYY-MM-DD&job=ID|NAME]  versions of a day
 *   POST /api/actions/{id}/recover [{"chain": true}]  RECOVERY (or
 *        SUPER_RECOVERY: the action, then its downstream chain)
 *   POST /api/instances/{id}/stop|cancel|retry
 *   POST /api/reruns {"job", "from", "to", "parallel"}  RERUN backfill
 *   POST /api/debug {"group", "script"}                  DEBUG run */
#ifndef HERACRON_API_OPS_H
#define HERACRON_API_OPS_H

#include "http/http.h"

void api_actions_list(const struct http_req *req, struct http_resp *resp);
void api_actions_op(const struct http_req *req, struct http_resp *resp);
void api_instances_op(const struct http_req *req, struct http_resp *resp);
void api_reruns_create(const struct http_req *req, struct http_resp *resp);
void api_debug_create(const struct http_req *req, struct http_resp *resp);
/* GET /api/cron/next?expr=E&tz=Z&count=N: the next fire times. */
void api_cron_next(const struct http_req *req, struct http_resp *resp);

#endif
