#include "config.h"

#include "util/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum cfg_type { CFG_STR, CFG_U32, CFG_BOOL };

struct cfg_key {
  const char *section;
  const char *key;
  enum cfg_type type;
  size_t offset;
  bool secret;
  const char *def; /* text form of the default; NULL = unset */
  uint32_t min, max; /* range for CFG_U32 */
};

#define K(sec, k, t, field, secret, def, lo, hi) \
  {sec, k, t, offsetof(struct cfg, field), secret, def, lo, hi}

static const struct cfg_key cfg_keys[] = {
    K("node", "name", CFG_STR, node.name, false, NULL, 0, 0),
    K("node", "address", CFG_STR, node.address, false, NULL, 0, 0),
    K("node", "groups", CFG_STR, node.groups, false, "default", 0, 0),
    K("node", "master_group", CFG_BOOL, node.master_group, false, "true", 0, 0),
    K("node", "work_dir", CFG_STR, node.work_dir, false, "/var/lib/heracron", 0, 0),
    K("node", "max_running", CFG_U32, node.max_running, false, "32", 1, 100000),
    K("node", "interpreters", CFG_STR, node.interpreters, false,
      "shell=/bin/sh,bash=/bin/bash,python=/usr/bin/python3 -u", 0, 0),
    K("node", "log_max_bytes", CFG_U32, node.log_max_bytes, false, "8388608", 4096, 1073741824),
    K("node", "work_keep_days", CFG_U32, node.work_keep_days, false, "7", 0, 36500),
    K("node", "kill_grace_ms", CFG_U32, node.kill_grace_ms, false, "5000", 0, 3600000),
    K("master", "listen", CFG_STR, master.listen, false, "0.0.0.0:7070", 0, 0),
    K("master", "lease_ms", CFG_U32, master.lease_ms, false, "5000", 500, 3600000),
    K("master", "renew_ms", CFG_U32, master.renew_ms, false, "1000", 100, 3600000),
    K("master", "heartbeat_ms", CFG_U32, master.heartbeat_ms, false, "1000", 50, 3600000),
    K("master", "worker_timeout_ms", CFG_U32, master.worker_timeout_ms, false, "5000", 200, 86400000),
    K("master", "max_frame", CFG_U32, master.max_frame, false, "4194304", 64, 1073741824),
    K("master", "write_queue_max", CFG_U32, master.write_queue_max, false, "16777216", 1024, 2147483647),
    K("master", "auth_timeout_ms", CFG_U32, master.auth_timeout_ms, false, "5000", 100, 3600000),
    K("master", "request_timeout_ms", CFG_U32, master.request_timeout_ms, false, "10000", 10, 3600000),
    K("master", "flush_ms", CFG_U32, master.flush_ms, false, "2000", 100, 3600000),
    K("master", "lock_takeover", CFG_BOOL, master.lock_takeover, false, "true", 0, 0),
    K("master", "max_cpu_pct", CFG_U32, master.max_cpu_pct, false, "100", 1, 100),
    K("master", "max_mem_pct", CFG_U32, master.max_mem_pct, false, "95", 1, 100),
    K("http", "listen", CFG_STR, http.listen, false, "127.0.0.1:8080", 0, 0),
    K("http", "console_dir", CFG_STR, http.console_dir, false, PKGDATADIR "/web", 0, 0),
    K("db", "host", CFG_STR, db.host, false, "127.0.0.1", 0, 0),
    K("db", "port", CFG_U32, db.port, false, "3306", 0, 65535),
    K("db", "socket", CFG_STR, db.socket, false, NULL, 0, 0),
    K("db", "user", CFG_STR, db.user, false, "heracron", 0, 0),
    K("db", "password", CFG_STR, db.password, true, NULL, 0, 0),
    K("db", "password_file", CFG_STR, db.password_file, false, NULL, 0, 0),
    K("db", "database", CFG_STR, db.database, false, "heracron", 0, 0),
    K("db", "connect_timeout_ms", CFG_U32, db.connect_timeout_ms, false, "2000", 1000, 600000),
    K("db", "batch_max", CFG_U32, db.batch_max, false, "512", 1, 100000),
    K("cluster", "token", CFG_STR, cluster.token, true, NULL, 0, 0),
    K("cluster", "token_file", CFG_STR, cluster.token_file, false, NULL, 0, 0),
    K("smtp", "host", CFG_STR, smtp.host, false, "127.0.0.1", 0, 0),
    K("smtp", "port", CFG_U32, smtp.port, false, "25", 1, 65535),
    K("smtp", "from", CFG_STR, smtp.from, false, "heracron@localhost", 0, 0),
    K("smtp", "starttls", CFG_STR, smtp.starttls, false, "opportunistic", 0, 0),
    K("smtp", "user", CFG_STR, smtp.user, false, NULL, 0, 0),
    K("smtp", "password", CFG_STR, smtp.password, true, NULL, 0, 0),
    K("smtp", "password_file", CFG_STR, smtp.password_file, false, NULL, 0, 0),
    K("smtp", "group_s", CFG_U32, smtp.group_s, false, "10", 0, 3600),
    K("console", "url", CFG_STR, console.url, false, "http://127.0.0.1:8080", 0, 0),
    K("log", "level", CFG_STR, log.level, false, "info", 0, 0),
};
#undef K

#define CFG_NKEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

static const struct cfg_key *cfg_find(const char *section, const char *key) {
  for (size_t i = 0; i < CFG_NKEYS; i++)
    if (strcmp(cfg_keys[i].section, section) == 0 &&
        strcmp(cfg_keys[i].key, key) == 0)
      return &cfg_keys[i];
  return NULL;
}

static int cfg_parse_bool(const char *v, bool *out) {
  static const char *const yes[] = {"1", "true", "yes", "on"};
  static const char *const no[] = {"0", "false", "no", "off"};
  for (int i = 0; i < 4; i++) {
    if (strcasecmp(v, yes[i]) == 0) { *out = true; return 0; }
    if (strcasecmp(v, no[i]) == 0) { *out = false; return 0; }
  }
  return -1;
}

static int cfg_apply(struct cfg *cfg, const struct cfg_key *k,
                     const char *value, char *err, size_t errlen) {
  char *base = (char *)cfg;
  switch (k->type) {
  case CFG_STR: {
    char **slot = (char **)(base + k->offset);
    char *copy = strdup(value);
    if (copy == NULL) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    free(*slot);
    *slot = copy;
    return 0;
  }
  case CFG_U32: {
    char *end;
    errno = 0;
    long long n = strtoll(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || n < (long long)k->min ||
        n > (long long)k->max) {
      snprintf(err, errlen, "%s.%s: '%s' is not a number in %u..%u",
               k->section, k->key, k->secret ? "(secret)" : value, k->min,
               k->max);
      return -1;
    }
    *(uint32_t *)(base + k->offset) = (uint32_t)n;
    return 0;
  }
  case CFG_BOOL:
    if (cfg_parse_bool(value, (bool *)(base + k->offset)) < 0) {
      snprintf(err, errlen, "%s.%s: '%s' is not a boolean (true/false)",
               k->section, k->key, value);
      return -1;
    }
    return 0;
  }
  return -1;
}

int cfg_set(struct cfg *cfg, const char *section, const char *key,
            const char *value, char *err, size_t errlen) {
  const struct cfg_key *k = cfg_find(section, key);
  if (k == NULL) {
    snprintf(err, errlen, "unknown configuration key %s.%s", section, key);
    return -1;
  }
  return cfg_apply(cfg, k, value, err, errlen);
}

int cfg_init(struct cfg *cfg) {
  char err[256];
  memset(cfg, 0, sizeof(*cfg));
  for (size_t i = 0; i < CFG_NKEYS; i++) {
    if (cfg_keys[i].def == NULL) continue;
    if (cfg_apply(cfg, &cfg_keys[i], cfg_keys[i].def, err, sizeof(err)) < 0)
      return -1;
  }
  char host[256];
  if (gethostname(host, sizeof(host)) < 0) snprintf(host, sizeof(host), "node");
  host[sizeof(host) - 1] = '\0';
  cfg->node.name = strdup(host);
  return cfg->node.name != NULL ? 0 : -1;
}

void cfg_free(struct cfg *cfg) {
  char *base = (char *)cfg;
  for (size_t i = 0; i < CFG_NKEYS; i++) {
    if (cfg_keys[i].type != CFG_STR) continue;
    char **slot = (char **)(base + cfg_keys[i].offset);
    if (*slot != NULL && cfg_keys[i].secret)
      memset(*slot, 0, strlen(*slot));
    free(*slot);
    *slot = NULL;
  }
}

struct cfg_ini_ctx {
  struct cfg *cfg;
  char *err;
  size_t errlen;
  const char *path;
  bool failed;
};

static int cfg_ini_handler(void *user, const char *section, const char *name,
                           const char *value) {
  struct cfg_ini_ctx *ctx = user;
  char msg[256];
  if (ctx->failed) return 0;
  if (cfg_set(ctx->cfg, section, name, value, msg, sizeof(msg)) < 0) {
    snprintf(ctx->err, ctx->errlen, "%s: [%s] %s: %s", ctx->path, section,
             name, msg);
    ctx->failed = true;
    return 0;
  }
  return 1;
}

int cfg_load_file(struct cfg *cfg, const char *path, char *err,
                  size_t errlen) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    snprintf(err, errlen, "cannot open config file %s: %s", path,
             strerror(errno));
    return -1;
  }
  struct cfg_ini_ctx ctx = {cfg, err, errlen, path, false};
  int rc = ini_parse_file(f, cfg_ini_handler, &ctx);
  fclose(f);
  if (ctx.failed) return -1;
  if (rc != 0) {
    snprintf(err, errlen, "%s:%d: syntax error", path, rc);
    return -1;
  }
  return 0;
}

int cfg_override(struct cfg *cfg, const char *arg, char *err, size_t errlen) {
  const char *dot = strchr(arg, '.');
  const char *eq = strchr(arg, '=');
  if (dot == NULL || eq == NULL || dot > eq || dot == arg || eq == dot + 1) {
    snprintf(err, errlen, "bad override '%s': expected --section.key=value",
             arg);
    return -1;
  }
  char section[64], key[64];
  size_t sl = (size_t)(dot - arg), kl = (size_t)(eq - dot - 1);
  if (sl >= sizeof(section) || kl >= sizeof(key)) {
    snprintf(err, errlen, "bad override: name too long");
    return -1;
  }
  memcpy(section, arg, sl);
  section[sl] = '\0';
  memcpy(key, dot + 1, kl);
  key[kl] = '\0';
  return cfg_set(cfg, section, key, eq + 1, err, errlen);
}

/* Reads the first line of a secret file into *slot (replacing it). */
static int cfg_read_secret(char **slot, const char *path, const char *what,
                           char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    snprintf(err, errlen, "cannot read %s from %s: %s", what, path,
             strerror(errno));
    return -1;
  }
  char buf[1024];
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  buf[strcspn(buf, "\r\n")] = '\0';
  char *copy = strdup(buf);
  memset(buf, 0, sizeof(buf));
  if (copy == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (*slot != NULL) memset(*slot, 0, strlen(*slot));
  free(*slot);
  *slot = copy;
  return 0;
}

int cfg_finish(struct cfg *cfg, char *err, size_t errlen) {
  if (cfg->db.password_file != NULL &&
      cfg_read_secret(&cfg->db.password, cfg->db.password_file, "db.password",
                      err, errlen) < 0)
    return -1;
  if (cfg->cluster.token_file != NULL &&
      cfg_read_secret(&cfg->cluster.token, cfg->cluster.token_file,
                      "cluster.token", err, errlen) < 0)
    return -1;
  if (cfg->smtp.password_file != NULL &&
      cfg_read_secret(&cfg->smtp.password, cfg->smtp.password_file,
                      "smtp.password", err, errlen) < 0)
    return -1;
  if (cfg->master.renew_ms >= cfg->master.lease_ms) {
    snprintf(err, errlen,
             "master.renew_ms (%u) must be smaller than master.lease_ms (%u)",
             cfg->master.renew_ms, cfg->master.lease_ms);
    return -1;
  }
  if (cfg->node.name == NULL || cfg->node.name[0] == '\0' ||
      strlen(cfg->node.name) > 128) {
    snprintf(err, errlen, "node.name must be 1..128 characters");
    return -1;
  }
  for (const char *p = cfg->node.name; *p; p++) {
    if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.') {
      snprintf(err, errlen,
               "node.name '%s': only letters, digits, '-', '_' and '.'",
               cfg->node.name);
      return -1;
    }
  }
  char host[256];
  uint16_t port;
  if (cfg_split_hostport(cfg->master.listen, host, sizeof(host), &port) < 0) {
    snprintf(err, errlen, "master.listen '%s' is not host:port",
             cfg->master.listen);
    return -1;
  }
  if (cfg_split_hostport(cfg->http.listen, host, sizeof(host), &port) < 0) {
    snprintf(err, errlen, "http.listen '%s' is not host:port",
             cfg->http.listen);
    return -1;
  }
  if (strcmp(cfg->smtp.starttls, "required") != 0 &&
      strcmp(cfg->smtp.starttls, "opportunistic") != 0 &&
      strcmp(cfg->smtp.starttls, "off") != 0) {
    snprintf(err, errlen,
             "smtp.starttls '%s': expected required, opportunistic or off",
             cfg->smtp.starttls);
    return -1;
  }
  if (strcmp(cfg->log.level, "error") != 0 &&
      strcmp(cfg->log.level, "warn") != 0 &&
      strcmp(cfg->log.level, "info") != 0 &&
      strcmp(cfg->log.level, "debug") != 0) {
    snprintf(err, errlen, "log.level '%s': expected error, warn, info or debug",
             cfg->log.level);
    return -1;
  }
  return 0;
}

int cfg_split_hostport(const char *hp, char *hostbuf, size_t hostlen,
                       uint16_t *port) {
  const char *colon;
  const char *hstart = hp;
  size_t hl;
  if (hp == NULL || *hp == '\0') return -1;
  if (hp[0] == '[') {
    const char *close = strchr(hp, ']');
    if (close == NULL || close[1] != ':') return -1;
    hstart = hp + 1;
    hl = (size_t)(close - hstart);
    colon = close + 1;
  } else {
    colon = strrchr(hp, ':');
    if (colon == NULL) return -1;
    hl = (size_t)(colon - hp);
    if (memchr(hp, ':', hl) != NULL) return -1; /* bare v6 needs [] */
  }
  if (hl == 0 || hl >= hostlen) return -1;
  char *end;
  errno = 0;
  long p = strtol(colon + 1, &end, 10);
  if (errno != 0 || end == colon + 1 || *end != '\0' || p < 1 || p > 65535)
    return -1;
  memcpy(hostbuf, hstart, hl);
  hostbuf[hl] = '\0';
  *port = (uint16_t)p;
  return 0;
}

int cfg_split_list(char *buf, char **items, int max) {
  int n = 0;
  char *p = buf;
  while (p != NULL && *p != '\0' && n < max) {
    char *comma = strchr(p, ',');
    if (comma != NULL) *comma = '\0';
    while (isspace((unsigned char)*p)) p++;
    char *e = p + strlen(p);
    while (e > p && isspace((unsigned char)e[-1])) *--e = '\0';
    if (*p != '\0') items[n++] = p;
    p = comma != NULL ? comma + 1 : NULL;
  }
  return n;
}

void cfg_dump(const struct cfg *cfg, void *fp) {
  FILE *f = fp;
  const char *base = (const char *)cfg;
  const char *cur = "";
  for (size_t i = 0; i < CFG_NKEYS; i++) {
    const struct cfg_key *k = &cfg_keys[i];
    if (strcmp(cur, k->section) != 0) {
      fprintf(f, "%s[%s]\n", i ? "\n" : "", k->section);
      cur = k->section;
    }
    switch (k->type) {
    case CFG_STR: {
      const char *v = *(char *const *)(base + k->offset);
      if (k->secret)
        fprintf(f, "%s = %s\n", k->key, v ? "(set)" : "");
      else
        fprintf(f, "%s = %s\n", k->key, v ? v : "");
      break;
    }
    case CFG_U32:
      fprintf(f, "%s = %u\n", k->key, *(const uint32_t *)(base + k->offset));
      break;
    case CFG_BOOL:
      fprintf(f, "%s = %s\n", k->key,
              *(const bool *)(base + k->offset) ? "true" : "false");
      break;
    }
  }
}
