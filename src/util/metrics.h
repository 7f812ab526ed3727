/* metrics: counters and histograms any thread may update (C11 atomics),
 * rendered in the Prometheus text format by GET /metrics. */
#ifndef HERACRON_METRICS_H
#define HERACRON_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metrics_counter {
  MC_STARTED,   /* instances a worker acknowledged starting (master) */
  MC_SUCCEEDED, /* ended, by status (master) */
  MC_FAILED,
  MC_TIMED_OUT,
  MC_STOPPED,
  MC_LOST,
  MC_NCOUNTERS
};

enum metrics_hist {
  MH_DISPATCH,    /* queued (or due) -> running, seconds (master) */
  MH_STORE_BATCH, /* one store transaction, seconds */
  MH_NHIST
};

void metrics_count(enum metrics_counter c);
/* Counts an end by its status name ("SUCCEEDED", ...); others ignored. */
void metrics_count_end(const char *status);
void metrics_observe(enum metrics_hist h, double seconds);
/* This node's role: master of epoch, or not (epoch 0). */
void metrics_set_master(uint64_t epoch);

/* Appends the metrics to a malloc'd buffer (*out, *len, *cap grow). */
void metrics_render(char **out, size_t *len, size_t *cap);

#endif
