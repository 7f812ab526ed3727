#include "config.h"

#include "master/script.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/macro.h"

#define SCRIPT_MAX_VARS 512

/* Appends the variables of one JSON object text to vars (keys and values
 * point into the parsed object, kept in *keep until the caller frees). */
static void script_add_vars(const char *text, json_t **keep, size_t *nkeep,
                            struct macro_var *vars, size_t *n) {
  if (text == NULL || *nkeep >= 64) return;
  json_t *o = json_loads(text, 0, NULL);
  if (!json_is_object(o)) {
    json_decref(o);
    return;
  }
  keep[(*nkeep)++] = o;
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    if (*n >= SCRIPT_MAX_VARS || !json_is_string(v)) continue;
    vars[(*n)++] = (struct macro_var){k, json_string_value(v)};
  }
}

static const char *script_folder_vars(const struct script_folder *f, size_t n,
                                      const char *path, size_t len) {
  for (size_t i = 0; i < n; i++)
    if (strlen(f[i].path) == len && strncmp(f[i].path, path, len) == 0)
      return f[i].vars;
  return NULL;
}

char *script_render(const char *script, const char *job_vars,
                    const char *folder, const struct script_folder *folders,
                    size_t nfolders, const struct civil *anchor, char *err,
                    size_t errlen) {
  struct macro_var *vars = calloc(SCRIPT_MAX_VARS, sizeof(*vars));
  json_t *keep[64];
  size_t nkeep = 0, n = 0;
  if (vars == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  script_add_vars(job_vars, keep, &nkeep, vars, &n);
  /* /a/b, then /a, then / */
  for (size_t len = folder ? strlen(folder) : 0; folder && len > 0;) {
    script_add_vars(script_folder_vars(folders, nfolders, folder, len), keep,
                    &nkeep, vars, &n);
    if (len == 1) break;
    while (len > 1 && folder[len - 1] != '/') len--;
    if (len > 1) len--; /* drop the slash, except the root's */
  }
  char *out = macro_expand(script, anchor, vars, n, err, errlen);
  for (size_t i = 0; i < nkeep; i++) json_decref(keep[i]);
  free(vars);
  return out;
}

void script_anchor(int64_t action_id, const char *bizdate, struct civil *out) {
  if (action_id >= 100000000000000000LL) {
    int64_t t = action_id / 1000000; /* YYYYMMDDHHMM */
    *out = (struct civil){(int)(t / 100000000), (int)(t / 1000000 % 100),
                          (int)(t / 10000 % 100), (int)(t / 100 % 100),
                          (int)(t % 100), 0};
    return;
  }
  if (bizdate && strlen(bizdate) == 8) {
    long d = strtol(bizdate, NULL, 10);
    *out = (struct civil){(int)(d / 10000), (int)(d / 100 % 100),
                          (int)(d % 100), 0, 0, 0};
    return;
  }
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  *out = (struct civil){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec};
}
