/* store: the thread that owns the node's MariaDB session for state.
 *
 * The event loop never talks to MariaDB.  It hands a struct store_op to
 * store_submit(); the store thread runs queued operations in batches, one
 * transaction per batch, and hands each finished operation back to the
 * loop, whose done callback then runs on the loop thread (via ev_async).
 *
 * Fencing: an operation with a non-zero epoch is a master write.  Its
 * batch begins by locking the lease row in share mode and checking that
 * this node still holds the lease with that epoch and that it has not
 * expired; if not, every such operation completes with STORE_FENCED and
 * nothing of it is written.  The shared row lock keeps a successor from
 * taking over until the batch commits.
 *
 * Faults: when the session is lost the thread reconnects with backoff and
 * runs the pending operations again; nothing queued is dropped.  An
 * operation whose own work fails (bad data, constraint) completes with
 * STORE_ERR after being retried alone, so it cannot fail its batch-mates. */
#ifndef HERACRON_STORE_H
#define HERACRON_STORE_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"

struct cfg;

enum store_status { STORE_OK = 0, STORE_ERR = -1, STORE_FENCED = -2 };

struct store_op;

/* Runs on the store thread inside the batch's transaction.  Returns 0, or
 * -1 after writing a reason into op->err.  Must not keep pointers into db
 * results.  A read-only op simply fills fields of its own. */
typedef int (*store_work_fn)(struct db_conn *db, struct store_op *op);

/* Runs on the loop thread when op has finished; op->status tells how.
 * Owns op from then on (typically frees the struct embedding it). */
typedef void (*store_done_fn)(struct store_op *op);

struct store_op {
  struct store_op *next; /* queue link, owned by the store */
  store_work_fn work;
  store_done_fn done;    /* may be NULL: op is then freed with free() */
  void *arg;             /* for the callbacks */
  uint64_t epoch;        /* 0 = unfenced; else the master epoch to check */
  int status;            /* enum store_status, set before done runs */
  char err[256];         /* reason when status != STORE_OK */
};

/* Initialises the store and starts its thread.  node_name is the lease
 * holder name used by the fence (copied).  Returns 0, -1 on error. */
int store_start(struct ev_loop *loop, const struct cfg *cfg);

/* Queues op.  Takes ownership until done runs.  Thread-safe. */
void store_submit(struct store_op *op);

/* Number of operations queued or running (for metrics and tests). */
size_t store_pending(void);

/* Whether the store's session is up (last attempt succeeded). */
int store_connected(void);

/* Stops the thread after it has run what is queued (at most grace_ms),
 * completes what remains with STORE_ERR, and joins it. */
void store_stop(unsigned grace_ms);

#endif
