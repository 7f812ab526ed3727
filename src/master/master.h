/* master: the master role of a node — the worker port, authentication of
 * workers, their heartbeats and the registry, written to MariaDB under the
 * lease epoch.  Runs only while the election says this node holds the
 * lease; steps down at once when it does not (the lease ran out before a
 * renewal, another node took it, or a fenced write was refused). */
#ifndef HERACRON_MASTER_H
#define HERACRON_MASTER_H

#include <stdbool.h>
#include <stdint.h>

#include "sched/lease.h"

/* The election callback (store/elect.h): starts, restarts or stops the
 * master role to match v.  Loop thread. */
void master_on_elect(const struct lease_view *v);

/* Stops the role if running (shutdown). */
void master_shutdown(void);

bool master_active(void);
uint64_t master_epoch(void);

#endif
