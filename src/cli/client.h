/* client: HTTP requests from the CLI to a node's API (libcurl). */
#ifndef HERACRON_CLIENT_H
#define HERACRON_CLIENT_H

#include <jansson.h>

struct cli;

/* GETs base URL + path and parses the JSON answer into *out (owned by the
 * caller).  Returns the HTTP status (*out may hold {"error":...}), or -1
 * with a message on stderr if the API could not be reached or answered
 * something that is not JSON. */
int client_get(const struct cli *cli, const char *path, json_t **out);

#endif
