/* static: what every node serves outside /api: the web console's files
 * (from http.console_dir: "/" is index.html, "/NAME.EXT" a file there,
 * never a path with a directory) and /metrics (Prometheus text). */
#ifndef HERACRON_STATIC_H
#define HERACRON_STATIC_H

#include "http/http.h"

void http_static(const struct http_req *req, struct http_resp *resp);

#endif
