/* version: actions (versions) of jobs, with no I/O.
 *
 * An action id is the fire time as the job's local civil time,
 * YYYYMMDDHHMM, followed by the job id in six digits.  Cron jobs get one
 * action per fire time in the horizon (fire times within the same local
 * minute collapse into the first: ids have minute resolution).  Dependent
 * jobs follow hera's rule, day by day: the upstream with the fewest
 * actions that day is the base (on a tie, the one whose first action id
 * is larger); each base action gives one dependent action at the same
 * time, matched to the base action and, for every other upstream, to its
 * action nearest in id (on a tie, the earlier). */
#ifndef HERACRON_VERSION_H
#define HERACRON_VERSION_H

#include <stddef.h>
#include <stdint.h>

#include "sched/civil.h"

struct cron;
struct tz;

#define VERSION_JOB_MAX 999999

struct version {
  int64_t id;      /* YYYYMMDDHHMM * 1e6 + job id */
  int64_t fire_at; /* UTC seconds */
};

/* The id of job_id firing at local civil time t. */
int64_t version_id(const struct civil *t, uint32_t job_id);
uint32_t version_job(int64_t id);
/* YYYYMMDD of an id (its local day). */
int64_t version_day(int64_t id);

/* Appends to out (capacity cap, count *n) the actions of a cron job whose
 * fire instants are in [from_utc, to_utc), in time order.  Returns 0, or
 * -1 if out is full (what fits is kept). */
int version_for_cron(const struct cron *c, const struct tz *z, uint32_t job_id,
                     int64_t from_utc, int64_t to_utc, struct version *out,
                     size_t cap, size_t *n);

/* The dependent job's actions for one day.  ups[k] (count nups[k], sorted
 * by id) are upstream k's actions of that day.  For each dependent action
 * written to out[i], deps[i * nupstreams + k] receives the matched action
 * of upstream k.  Returns the number written (0 if an upstream has none
 * that day), at most cap. */
size_t version_dependent(uint32_t job_id, const struct version *const *ups,
                         const size_t *nups, size_t nupstreams,
                         struct version *out, int64_t *deps, size_t cap);

#endif
