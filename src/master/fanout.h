/* fanout: jobs that run as several parts.  A broadcast job's instance
 * becomes one part pinned to each worker of its group with a fresh
 * heartbeat; a sharded job's instance becomes N parts told
 * HERACRON_SHARD_INDEX and HERACRON_SHARD_COUNT, spread by load.  Parts
 * are instances (parent_id set) with their own worker, log, status and
 * retries (a failed part is retried alone).  The parent is RUNNING (on
 * no worker) until every part has ended for good; it then SUCCEEDS when
 * at least min_success_pct of its parts did (shards: all), is STOPPED if
 * a part was stopped, else FAILS — and only then releases downstream jobs
 * and alerts, as any instance.  Store-thread functions; the callers hold
 * the master's fence. */
#ifndef HERACRON_FANOUT_H
#define HERACRON_FANOUT_H

#include <stddef.h>
#include <stdint.h>

struct db_conn;

/* Turns QUEUED parent into RUNNING with its parts: one per worker name
 * (broadcast, nworkers > 0) or shards of them.  *made: parts created (0
 * if the parent was taken meanwhile).  0 or -1. */
int fanout_expand_work(struct db_conn *db, uint64_t parent,
                       const char *const *workers, size_t nworkers,
                       uint32_t shards, int64_t *made);

/* A map job's instance: RUNNING, with its root part (task "root") queued. */
int fanout_expand_map_work(struct db_conn *db, uint64_t parent, int64_t *made);

/* A part ended for good (no retry coming): ends its parent if it was the
 * last.  0 or -1. */
int fanout_part_ended_work(struct db_conn *db, uint64_t part);

/* The same, told the parent (a part's result is written already): one
 * index lookup while other parts are still to run.  0 or -1. */
int fanout_parent_check_work(struct db_conn *db, uint64_t parent);

/* Ends parents whose parts have all ended (parts canceled before they
 * ran leave nobody else to do it).  0 or -1. */
int fanout_settle_work(struct db_conn *db);

#endif
