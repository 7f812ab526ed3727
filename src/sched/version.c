#include "config.h"

#include "sched/version.h"

#include "sched/cron.h"
#include "sched/tz.h"

int64_t version_id(const struct civil *t, uint32_t job_id) {
  int64_t ymdhm = (int64_t)t->year * 100000000 + (int64_t)t->month * 1000000 +
                  (int64_t)t->day * 10000 + t->hour * 100 + t->min;
  return ymdhm * 1000000 + job_id;
}

uint32_t version_job(int64_t id) { return (uint32_t)(id % 1000000); }

int64_t version_day(int64_t id) { return id / 1000000 / 10000; }

int version_for_cron(const struct cron *c, const struct tz *z, uint32_t job_id,
                     int64_t from_utc, int64_t to_utc, struct version *out,
                     size_t cap, size_t *n) {
  int64_t t = from_utc - 1;
  int64_t last_id = 0;
  while (cron_next_utc(c, z, t, &t) == 0 && t < to_utc) {
    struct civil lc;
    civil_from_epoch(t + tz_offset(z, t), &lc);
    int64_t id = version_id(&lc, job_id);
    if (id == last_id) continue; /* same local minute */
    if (*n >= cap) return -1;
    out[(*n)++] = (struct version){id, t};
    last_id = id;
  }
  return 0;
}

size_t version_dependent(uint32_t job_id, const struct version *const *ups,
                         const size_t *nups, size_t nupstreams,
                         struct version *out, int64_t *deps, size_t cap) {
  size_t base = 0;
  for (size_t k = 0; k < nupstreams; k++) {
    if (nups[k] == 0) return 0;
    if (k == 0) continue;
    if (nups[k] < nups[base] ||
        (nups[k] == nups[base] && ups[k][0].id > ups[base][0].id))
      base = k;
  }
  size_t n = 0;
  for (size_t i = 0; i < nups[base] && n < cap; i++) {
    const struct version *b = &ups[base][i];
    out[n].id = b->id / 1000000 * 1000000 + job_id;
    out[n].fire_at = b->fire_at;
    for (size_t k = 0; k < nupstreams; k++) {
      if (k == base) {
        deps[n * nupstreams + k] = b->id;
        continue;
      }
      /* nearest id in a sorted list; ties go to the earlier */
      int64_t best = ups[k][0].id;
      for (size_t j = 1; j < nups[k]; j++) {
        int64_t d1 = ups[k][j].id - b->id, d0 = best - b->id;
        if (d1 < 0) d1 = -d1;
        if (d0 < 0) d0 = -d0;
        if (d1 < d0) best = ups[k][j].id;
      }
      deps[n * nupstreams + k] = best;
    }
    n++;
  }
  return n;
}
