/* sched: the master's schedule.  Versions (actions) of every job for the
 * current and the next local day, regenerated when jobs change (also jobs
 * changed directly in MariaDB) and when the day turns; actions whose time
 * has come, and dependent actions whose matched upstream actions all
 * succeeded, become SCHEDULE instances in the queue (master/run.c).
 * The computing and the writing run on the store thread. */
#ifndef HERACRON_SCHED_H
#define HERACRON_SCHED_H

#include <stdint.h>

void sched_start(uint64_t epoch);
void sched_stop(void);
/* Looks for due and released actions now (e.g. an upstream succeeded). */
void sched_kick(void);

#endif
