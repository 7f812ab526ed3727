/* worker: the worker role every node plays.  Finds the master in the
 * lease row (through the store thread), connects, proves the cluster
 * token, and sends heartbeats with its load.  When the master goes away,
 * stops answering, or the lease names another master, it reconnects with
 * exponential backoff and jitter. */
#ifndef HERACRON_WORKER_H
#define HERACRON_WORKER_H

#include <stdbool.h>

/* Starts looking for the master.  Returns 0, -1. */
int worker_start(void);

/* Closes the connection and stops all timers. */
void worker_stop(void);

/* Whether the worker is connected and authenticated. */
bool worker_ready(void);

#endif
