/* bench_versions: version generation for 100,000 jobs, half of them
 * dependent on one to three earlier jobs, for today and tomorrow — the
 * computing the master does on the store thread (MariaDB writes aside).
 *
 *   bench_versions [JOBS]      prints the elapsed time and versions made */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/cron.h"
#include "sched/tz.h"
#include "sched/version.h"

struct job {
  struct version *v;
  size_t nv;
  int nups;
  int ups[3];
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100000;
  if (n < 2 || n > 999999) return 2;
  static const char *const exprs[] = {
      "0 0 3 * * ?", "0 30 * * * ?", "0 0 */2 * * ?", "0 15 10 ? * MON-FRI",
      "0 0 0 L * ?", "0 0 6,18 * * ?", "0 */30 * * * ?", "0 5 4 * * ?"};
  struct cron crons[8];
  char err[256];
  for (int i = 0; i < 8; i++)
    if (cron_parse(exprs[i], &crons[i], err, sizeof(err)) < 0) return 1;
  struct tz *z = tz_load("Europe/Paris", err, sizeof(err));
  if (z == NULL) return 1;
  struct job *jobs = calloc((size_t)n, sizeof(*jobs));
  srand(42);
  for (int i = n / 2; i < n; i++) { /* dependents on earlier jobs */
    jobs[i].nups = 1 + rand() % 3;
    for (int k = 0; k < jobs[i].nups; k++) jobs[i].ups[k] = rand() % i;
  }
  int64_t from = 1795392000; /* 2026-11-23 00:00 UTC */
  int64_t to = from + 2 * 86400;
  double t0 = now_s();
  size_t total = 0;
  struct version buf[256];
  for (int i = 0; i < n / 2; i++) {
    size_t m = 0;
    version_for_cron(&crons[i % 8], z, (uint32_t)(i + 1), from, to, buf, 256, &m);
    jobs[i].v = malloc(m * sizeof(*buf) + 1);
    memcpy(jobs[i].v, buf, m * sizeof(*buf));
    jobs[i].nv = m;
    total += m;
  }
  double t1 = now_s();
  for (int i = n / 2; i < n; i++) {
    const struct version *ups[3];
    size_t counts[3], cap = 0;
    for (int k = 0; k < jobs[i].nups; k++) {
      ups[k] = jobs[jobs[i].ups[k]].v;
      counts[k] = jobs[jobs[i].ups[k]].nv;
      if (counts[k] > cap) cap = counts[k];
    }
    jobs[i].v = malloc(cap * sizeof(struct version) + 1);
    int64_t *deps = malloc(cap * 3 * sizeof(int64_t) + 1);
    /* two days: match day by day as the master does; here the lists are
     * split at the day boundary of the first upstream */
    jobs[i].nv = version_dependent((uint32_t)(i + 1), ups, counts,
                                   (size_t)jobs[i].nups, jobs[i].v, deps, cap);
    total += jobs[i].nv;
    free(deps);
  }
  double t2 = now_s();
  printf("versions: %d jobs (%d cron, %d dependent), today and tomorrow: "
         "%zu versions in %.3f s (cron %.3f s, dependent %.3f s); target <= 2 s\n",
         n, n / 2, n - n / 2, total, t2 - t0, t1 - t0, t2 - t1);
  for (int i = 0; i < n; i++) free(jobs[i].v);
  free(jobs);
  tz_free(z);
  return 0;
}
