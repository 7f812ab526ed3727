#include "config.h"

#include "http/static.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/api_metrics.h"
#include "util/cfg.h"

#define STATIC_MAX (4u << 20)

static const struct {
  const char *ext, *type;
} static_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "application/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
};

/* "name.ext" of letters, digits, '_', '-', '.' and not starting with a
 * dot: no way out of the directory. */
static bool static_name_ok(const char *s) {
  if (*s == '\0' || *s == '.' || strlen(s) > 128) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
      return false;
  return true;
}

static const char *static_type(const char *name) {
  const char *dot = strrchr(name, '.');
  for (size_t i = 0; dot && i < sizeof(static_types) / sizeof(static_types[0]); i++)
    if (strcmp(dot, static_types[i].ext) == 0) return static_types[i].type;
  return NULL;
}

void http_static(const struct http_req *req, struct http_resp *resp) {
  if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
    http_error(resp, 405, "method %s not allowed on %s", req->method, req->path);
    return;
  }
  if (strcmp(req->path, "/metrics") == 0) {
    api_metrics(req, resp);
    return;
  }
  const char *name = strcmp(req->path, "/") == 0 ? "index.html" : req->path + 1;
  const char *type = static_name_ok(name) ? static_type(name) : NULL;
  if (type == NULL) {
    http_error(resp, 404, "no such resource: %s", req->path);
    return;
  }
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s", req->cfg->http.console_dir, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    http_error(resp, 404, "no such file: %s%s", req->path,
               errno == ENOENT && strcmp(name, "index.html") == 0
                   ? " (is http.console_dir right?)"
                   : "");
    return;
  }
  long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  rewind(f);
  char *buf = size >= 0 && size <= (long)STATIC_MAX ? malloc((size_t)size + 1) : NULL;
  size_t n = buf ? fread(buf, 1, (size_t)size, f) : 0;
  fclose(f);
  if (buf == NULL) {
    http_error(resp, 500, "cannot serve %s", req->path);
    return;
  }
  resp->raw = buf;
  resp->raw_len = n;
  resp->ctype = type;
}
