/* watch: the master's view of instances out on workers (DISPATCHED or
 * RUNNING in MariaDB) checked against what the workers' heartbeats list.
 *
 * After a failover this is how the new master adopts what its predecessor
 * started: a DISPATCHED instance its worker lists becomes RUNNING, one the
 * worker does not list goes back to the queue.  A RUNNING instance whose
 * worker has been away longer than master.worker_timeout_ms, or that its
 * connected worker no longer lists, becomes LOST and is retried per its
 * job.  Operators' stop requests are sent to the owning worker from here. */
#ifndef HERACRON_WATCH_H
#define HERACRON_WATCH_H

#include <stdint.h>

void watch_start(uint64_t epoch);
void watch_stop(void);

#endif
