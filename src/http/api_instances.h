/* api_instances: instances and their logs, read from MariaDB.
 *   GET /api/instances[?job=ID|NAME&status=S&limit=N]
 *   GET /api/instances/{id}
 *   GET /api/instances/{id}/log[?after=SEQ]   chunks after SEQ, and the
 *       instance's status, so a client can follow a running job */
#ifndef HERACRON_API_INSTANCES_H
#define HERACRON_API_INSTANCES_H

#include "http/http.h"

void api_instances_list(const struct http_req *req, struct http_resp *resp);
void api_instances_get(const struct http_req *req, struct http_resp *resp);

#endif
