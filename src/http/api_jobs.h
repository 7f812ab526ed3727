/* api_jobs: the jobs resource.  Definitions are data: any node reads and
 * writes them in MariaDB (validated, graph changes serialised); the master
 * picks changes up from jobs.updated_at.
 *
 *   GET    /api/jobs                  list
 *   POST   /api/jobs                  create        -> 201, 400 {field}, 409
 *   GET    /api/jobs/{id|name}        one, with upstream and downstream jobs
 *   PUT    /api/jobs/{id|name}        change the given fields
 *   POST   /api/jobs/{id|name}/enable | /disable
 *   DELETE /api/jobs/{id|name}        409 while other jobs depend on it */
#ifndef HERACRON_API_JOBS_H
#define HERACRON_API_JOBS_H

#include "http/http.h"

void api_jobs_list(const struct http_req *req, struct http_resp *resp);
void api_jobs_create(const struct http_req *req, struct http_resp *resp);
void api_jobs_get(const struct http_req *req, struct http_resp *resp);
void api_jobs_update(const struct http_req *req, struct http_resp *resp);
void api_jobs_action(const struct http_req *req, struct http_resp *resp);
void api_jobs_delete(const struct http_req *req, struct http_resp *resp);

#endif
