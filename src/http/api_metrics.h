/* api_metrics: GET /metrics, Prometheus text: this node's counters and
 * histograms (util/metrics.h) and the cluster's state read from MariaDB
 * (queue depths, connected workers, lease epoch). */
#ifndef HERACRON_API_METRICS_H
#define HERACRON_API_METRICS_H

#include "http/http.h"

void api_metrics(const struct http_req *req, struct http_resp *resp);

#endif
