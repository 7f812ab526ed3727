/* elect: the master election of a master-group node, on a thread of its
 * own with a MariaDB session of its own (the "lock session").
 *
 * Two detectors (DESIGN.md, Election):
 *  - the lease row decides: a node is master while it holds an unexpired
 *    lease; takeover is one conditional UPDATE that bumps the epoch;
 *  - a named lock (GET_LOCK) held by the master's lock session tells the
 *    candidates at once when that session dies (crash, kill -9): a
 *    candidate blocks in GET_LOCK, and when it gets the lock while the
 *    lease still records the dead session as lock holder, it may take over
 *    before expiry.  A hung master keeps its session and is replaced at
 *    expiry.  On Galera, named locks are node-local: set
 *    master.lock_takeover=false there and the lease alone decides.
 *
 * The loop learns of changes through a callback run on the loop thread. */
#ifndef HERACRON_ELECT_H
#define HERACRON_ELECT_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "sched/lease.h"

struct cfg;

/* Runs on the loop thread after the election state changed: v is a copy
 * of the current view (master or not, epoch, valid_until). */
typedef void (*elect_change_fn)(const struct lease_view *v);

/* Starts the election thread.  Returns 0, -1 on error. */
int elect_start(struct ev_loop *loop, const struct cfg *cfg,
                elect_change_fn on_change);

/* The current view (thread-safe copy). */
struct lease_view elect_view(void);

/* Asks the thread to give up mastership at once (the loop saw its lease
 * run out, or a fenced write was refused).  Thread-safe. */
void elect_step_down(const char *reason);

/* Stops the thread.  A master ends its lease (expires it now) so that a
 * successor can take over without waiting. */
void elect_stop(void);

#endif
