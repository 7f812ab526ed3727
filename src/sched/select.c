#include "config.h"

#include "sched/select.h"

#include <string.h>

bool select_in_group(const char *groups, const char *group) {
  size_t gl = strlen(group);
  for (const char *p = groups; p && *p;) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    if (n == gl && strncmp(p, group, n) == 0) return true;
    if (comma == NULL) break;
    p = comma + 1;
  }
  return false;
}

int select_worker(const struct select_worker *w, size_t n, const char *group,
                  const struct select_limits *lim, size_t *cursor,
                  enum select_why *why) {
  enum select_why worst = SELECT_NO_GROUP;
  int best = -1;
  double best_busy = 0, best_cpu = 0;
  /* Start after the last pick so that equals take turns. */
  for (size_t k = 0; k < n; k++) {
    size_t i = (*cursor + 1 + k) % n;
    if (!select_in_group(w[i].groups, group)) continue;
    if (w[i].age_ms > lim->fresh_ms) {
      if (worst < SELECT_STALE) worst = SELECT_STALE;
      continue;
    }
    uint32_t cap = w[i].max_running ? w[i].max_running : 1;
    if (w[i].running + w[i].sent >= cap) {
      if (worst < SELECT_FULL) worst = SELECT_FULL;
      continue;
    }
    if (w[i].cpu > lim->max_cpu || w[i].mem > lim->max_mem) {
      if (worst < SELECT_OVERLOADED) worst = SELECT_OVERLOADED;
      continue;
    }
    double busy = (double)(w[i].running + w[i].sent) / cap;
    if (best < 0 || busy < best_busy ||
        (busy == best_busy && w[i].cpu < best_cpu - 0.05)) {
      best = (int)i;
      best_busy = busy;
      best_cpu = w[i].cpu;
    }
  }
  if (best >= 0) {
    *cursor = (size_t)best;
    *why = SELECT_OK;
  } else {
    *why = worst;
  }
  return best;
}

const char *select_why_text(enum select_why why) {
  switch (why) {
  case SELECT_OK: return "ok";
  case SELECT_NO_GROUP: return "no worker of the group is connected";
  case SELECT_STALE: return "the group's workers have no fresh heartbeat";
  case SELECT_FULL: return "the group's workers run all they may";
  case SELECT_OVERLOADED: return "the group's workers are above the CPU or memory limit";
  }
  return "?";
}
