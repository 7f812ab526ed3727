#include "config.h"

#include "cli/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/out.h"

#define CLIENT_BODY_MAX (64u << 20)

struct client_buf {
  char *data;
  size_t len;
  int overflow;
};

static size_t client_write(char *p, size_t size, size_t n, void *arg) {
  struct client_buf *b = arg;
  size_t add = size * n;
  if (b->len + add > CLIENT_BODY_MAX) {
    b->overflow = 1;
    return 0;
  }
  char *nd = realloc(b->data, b->len + add + 1);
  if (nd == NULL) return 0;
  memcpy(nd + b->len, p, add);
  b->data = nd;
  b->len += add;
  b->data[b->len] = '\0';
  return add;
}

int client_get(const struct cli *cli, const char *path, json_t **out) {
  return client_send(cli, "GET", path, NULL, out);
}

int client_send(const struct cli *cli, const char *method, const char *path,
                const json_t *body, json_t **out) {
  char url[1024];
  snprintf(url, sizeof(url), "%s%s", cli->url, path);
  CURL *h = curl_easy_init();
  if (h == NULL) {
    fprintf(stderr, "heracron: cannot initialise libcurl\n");
    return -1;
  }
  struct client_buf b = {0};
  struct curl_slist *hdrs = NULL;
  char auth[600];
  if (cli->token != NULL && cli->token[0]) {
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cli->token);
    hdrs = curl_slist_append(hdrs, auth);
  }
  hdrs = curl_slist_append(hdrs, "Accept: application/json");
  char *text = NULL;
  if (body != NULL) {
    text = json_dumps(body, JSON_COMPACT);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, text ? text : "{}");
  }
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, client_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "heracron/" PACKAGE_VERSION);
  CURLcode rc = curl_easy_perform(h);
  long status = 0;
  int ret = -1;
  if (rc != CURLE_OK) {
    fprintf(stderr, "heracron: cannot reach heracron API at %s: %s\n",
            cli->url, b.overflow ? "answer too large" : curl_easy_strerror(rc));
    goto out;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  json_error_t jerr;
  *out = json_loadb(b.data ? b.data : "", b.len, 0, &jerr);
  if (*out == NULL) {
    fprintf(stderr, "heracron: %s answered HTTP %ld with something that is "
                    "not JSON (%s); is it a heracron node?\n",
            url, status, jerr.text);
    goto out;
  }
  ret = (int)status;
out:
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  free(b.data);
  free(text);
  return ret;
}

char *client_escape(const char *s) {
  char *e = curl_easy_escape(NULL, s, 0);
  char *copy = e ? strdup(e) : NULL;
  curl_free(e);
  return copy;
}

char *client_read_file(const char *path) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
  if (f == NULL) {
    fprintf(stderr, "heracron: cannot read %s: %s\n", path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, len = 0;
  char *s = malloc(cap);
  while (s != NULL) {
    size_t n = fread(s + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0) break;
    if (len + 1 >= cap) {
      char *ns = cap < (64u << 20) ? realloc(s, cap * 2) : NULL;
      if (ns == NULL) {
        free(s);
        s = NULL;
        fprintf(stderr, "heracron: %s is too large\n", path);
        break;
      }
      s = ns;
      cap *= 2;
    }
  }
  if (s) s[len] = '\0';
  if (f != stdin) fclose(f);
  return s;
}

json_t *client_fetch(const struct cli *cli, const char *path, int *rc) {
  json_t *j = NULL;
  int status = client_get(cli, path, &j);
  *rc = out_status(status, j);
  if (*rc == CLI_OK) return j;
  json_decref(j);
  return NULL;
}

int client_query_add(char *path, size_t len, const char *key, const char *value) {
  char *esc = client_escape(value);
  if (esc == NULL) return -1;
  size_t l = strlen(path);
  snprintf(path + l, len - l, "%c%s=%s", strchr(path, '?') ? '&' : '?', key, esc);
  free(esc);
  return 0;
}

int client_var_arg(json_t *vars, const char *arg) {
  const char *eq = arg ? strchr(arg, '=') : NULL;
  if (eq == NULL || eq == arg) return -1;
  char name[80];
  snprintf(name, sizeof(name), "%.*s", (int)(eq - arg) < 79 ? (int)(eq - arg) : 79, arg);
  json_object_set_new(vars, name, json_string(eq + 1));
  return 0;
}
