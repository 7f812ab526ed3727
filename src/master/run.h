/* run: the master's side of instances — the queue of instances waiting to
 * run (read from MariaDB, where every command puts them), dispatch to a
 * worker by load, and the persisted transitions: QUEUED -> DISPATCHED ->
 * RUNNING -> SUCCEEDED | FAILED | TIMED_OUT | STOPPED, with retries.
 * Every transition is written (under the epoch) before it is acted on or
 * acknowledged. */
#ifndef HERACRON_RUN_H
#define HERACRON_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/heracron.pb-c.h"

struct conn;
struct db_conn;
struct reg_worker;

/* An instance's end, as the store thread applies it. */
struct run_finish {
  uint64_t id;
  char state[16];  /* SUCCEEDED FAILED TIMED_OUT STOPPED LOST */
  char worker[129]; /* the owner: the row must name it */
  char reason[128];
  int32_t exit_code, sig;
  uint64_t report_ms; /* applied only if newer than the last */
  int64_t actions;    /* out: actions updated (0 for a job or debug run) */
  /* What the worker said of it: its fan-out parent (0: none), checked
   * against the row; and a map part's result.  parent RUN_PARENT_UNKNOWN
   * when not said (a LOST instance). */
  uint64_t parent;
  char result[1025];
};

#define RUN_PARENT_UNKNOWN UINT64_MAX

/* Store thread: persists f if the instance is still out on f->worker,
 * with the action's state, a retry while attempts remain (not after
 * SUCCEEDED or STOPPED) and the next SUPER_RECOVERY step.  *applied is 1
 * if it was applied, 0 if stale or not that worker's.  0 or -1. */
int run_finish_work(struct db_conn *db, struct run_finish *f,
                    int64_t *applied);

/* Store thread: what follows an instance's end (state written already):
 * its action's state, the next SUPER_RECOVERY step, a retry (if retry and
 * attempts remain), alerts, and its fan-out parent.  parent: its fan-out
 * parent, 0 if it has none, RUN_PARENT_UNKNOWN; a known one saves the
 * statements that cannot apply (a map may end 100,000 parts).  *actions
 * (may be NULL): actions updated.  0 or -1. */
int run_ended_work(struct db_conn *db, uint64_t id, const char *state,
                   bool retry, int64_t *actions, uint64_t parent);

/* A store operation of this term was fenced: the master steps down. */
struct store_op;
void run_on_fenced(const struct store_op *op);

/* Whether the master is getting instance id onto a worker right now. */
bool run_in_flight(uint64_t id);

/* Master role started/stopped (epoch of the term). */
void run_start(uint64_t epoch);
void run_stop(void);

/* From a worker's connection (loop thread). */
int run_on_status(struct conn *c, struct reg_worker *w,
                  const Heracron__Envelope *env);
void run_on_log(struct reg_worker *w, const Heracron__LogChunk *lc);
/* Reads the queue now (something was just queued). */
void run_poll_now(void);
/* A worker's heartbeat arrived: capacity may have freed up. */
void run_kick(void);

#endif
