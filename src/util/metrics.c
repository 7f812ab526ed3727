#include "config.h"

#include "util/metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double metrics_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,  0.1,    0.25,  0.5,  1,
                                        2.5,   5,      10};
#define METRICS_NB (sizeof(metrics_bounds) / sizeof(metrics_bounds[0]))

static struct {
  atomic_ullong counter[MC_NCOUNTERS];
  atomic_ullong bucket[MH_NHIST][METRICS_NB + 1]; /* last: +Inf */
  atomic_ullong sum_us[MH_NHIST];
  atomic_ullong master_epoch;
} mx;

void metrics_count(enum metrics_counter c) { atomic_fetch_add(&mx.counter[c], 1); }

void metrics_count_end(const char *status) {
  static const char *const names[] = {"", "SUCCEEDED", "FAILED", "TIMED_OUT",
                                      "STOPPED", "LOST"};
  for (int i = MC_SUCCEEDED; i <= MC_LOST; i++)
    if (strcmp(status, names[i]) == 0) metrics_count((enum metrics_counter)i);
}

void metrics_observe(enum metrics_hist h, double seconds) {
  if (seconds < 0) seconds = 0;
  size_t b = 0;
  while (b < METRICS_NB && seconds > metrics_bounds[b]) b++;
  atomic_fetch_add(&mx.bucket[h][b], 1);
  atomic_fetch_add(&mx.sum_us[h], (unsigned long long)(seconds * 1e6));
}

void metrics_set_master(uint64_t epoch) { atomic_store(&mx.master_epoch, epoch); }

static void metrics_printf(char **out, size_t *len, size_t *cap,
                           const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int n = *out ? vsnprintf(*out + *len, *cap - *len, fmt, ap) : -1;
    va_end(ap);
    if (n >= 0 && *len + (size_t)n < *cap) {
      *len += (size_t)n;
      return;
    }
    size_t ncap = *cap ? *cap * 2 : 4096;
    while (n >= 0 && ncap < *len + (size_t)n + 1) ncap *= 2;
    char *nb = realloc(*out, ncap);
    if (nb == NULL) return;
    *out = nb;
    *cap = ncap;
  }
}

void metrics_render(char **out, size_t *len, size_t *cap) {
  static const char *const status[] = {"", "succeeded", "failed", "timed_out",
                                       "stopped", "lost"};
  metrics_printf(out, len, cap,
                 "# HELP heracron_instances_started_total Instances workers "
                 "started, counted by the master that sent them.\n"
                 "# TYPE heracron_instances_started_total counter\n"
                 "heracron_instances_started_total %llu\n"
                 "# HELP heracron_instances_finished_total Instances ended, by "
                 "status, counted by the master that applied it.\n"
                 "# TYPE heracron_instances_finished_total counter\n",
                 (unsigned long long)atomic_load(&mx.counter[MC_STARTED]));
  for (int i = MC_SUCCEEDED; i <= MC_LOST; i++)
    metrics_printf(out, len, cap,
                   "heracron_instances_finished_total{status=\"%s\"} %llu\n",
                   status[i], (unsigned long long)atomic_load(&mx.counter[i]));
  static const char *const hname[] = {"heracron_dispatch_latency_seconds",
                                      "heracron_store_batch_seconds"};
  static const char *const hhelp[] = {
      "Time from an instance being queued (or due) to its process running.",
      "Time of one store transaction (a batch of writes) on MariaDB."};
  for (int h = 0; h < MH_NHIST; h++) {
    metrics_printf(out, len, cap, "# HELP %s %s\n# TYPE %s histogram\n",
                   hname[h], hhelp[h], hname[h]);
    unsigned long long cum = 0;
    for (size_t b = 0; b <= METRICS_NB; b++) {
      cum += atomic_load(&mx.bucket[h][b]);
      if (b < METRICS_NB)
        metrics_printf(out, len, cap, "%s_bucket{le=\"%g\"} %llu\n", hname[h],
                       metrics_bounds[b], cum);
      else
        metrics_printf(out, len, cap, "%s_bucket{le=\"+Inf\"} %llu\n",
                       hname[h], cum);
    }
    metrics_printf(out, len, cap, "%s_sum %.6f\n%s_count %llu\n", hname[h],
                   (double)atomic_load(&mx.sum_us[h]) / 1e6, hname[h], cum);
  }
  uint64_t epoch = atomic_load(&mx.master_epoch);
  metrics_printf(out, len, cap,
                 "# HELP heracron_is_master 1 if this node holds the lease.\n"
                 "# TYPE heracron_is_master gauge\nheracron_is_master %d\n",
                 epoch ? 1 : 0);
}
