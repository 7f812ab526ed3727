/* api_logs: an instance's output, beyond the chunk-by-chunk reads of
 * api_instances:
 *   GET /api/instances/{id}/log?page=N&lines=L  page N (from 1; 0 or none:
 *       the last) of L lines (default 200), with the total line count
 *   GET /api/instances/{id}/log/download        the whole log, text/plain
 *   GET /api/instances/{id}/log/stream[?after=SEQ]  Server-Sent Events:
 *       "chunk" events {"seq", "data"} as output arrives, then one "end"
 *       event {"status"} when the instance has ended */
#ifndef HERACRON_API_LOGS_H
#define HERACRON_API_LOGS_H

#include "http/http.h"

void api_log_page(const struct http_req *req, struct http_resp *resp,
                  long long id);
void api_log_download(const struct http_req *req, struct http_resp *resp,
                      long long id);
void api_log_stream(const struct http_req *req, struct http_resp *resp,
                    long long id);

#endif
