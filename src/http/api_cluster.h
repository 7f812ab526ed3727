/* api_cluster: GET /api/status and GET /api/workers, read from MariaDB. */
#ifndef HERACRON_API_CLUSTER_H
#define HERACRON_API_CLUSTER_H

#include "http/http.h"

void api_status(const struct http_req *req, struct http_resp *resp);
void api_workers(const struct http_req *req, struct http_resp *resp);
void api_healthz(const struct http_req *req, struct http_resp *resp);

#endif
