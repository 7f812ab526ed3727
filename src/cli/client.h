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

/* Like client_get with another method and, if body is not NULL, a JSON
 * request body (not consumed). */
int client_send(const struct cli *cli, const char *method, const char *path,
                const json_t *body, json_t **out);

/* Reads a whole file ("-": stdin) into a new string the caller frees;
 * NULL with the reason on stderr. */
char *client_read_file(const char *path);
/* GETs path and maps the answer to the contract's exit status in *rc
 * (printing an API error); the JSON if it succeeded, else NULL. */
json_t *client_fetch(const struct cli *cli, const char *path, int *rc);

/* Appends key=value (value escaped) to the query in path, after "?" or
 * "&".  0, or -1 if out of memory. */
int client_query_add(char *path, size_t len, const char *key, const char *value);

/* Adds a "--var NAME=VALUE" argument to the object vars.  0, or -1 if arg
 * is not NAME=VALUE. */
int client_var_arg(json_t *vars, const char *arg);

/* Percent-escapes s for use as one path segment.  Caller frees. */
char *client_escape(const char *s);

#endif
