/* run: the master's side of instances — the queue of instances waiting to
 * run (read from MariaDB, where every command puts them), dispatch to a
 * worker by load, and the persisted transitions: QUEUED -> DISPATCHED ->
 * RUNNING -> SUCCEEDED | FAILED | TIMED_OUT | STOPPED, with retries.
 * Every transition is written (under the epoch) before it is acted on or
 * acknowledged. */
#ifndef HERACRON_RUN_H
#define HERACRON_RUN_H

#include <stdint.h>

#include "proto/heracron.pb-c.h"

struct conn;
struct reg_worker;

/* Master role started/stopped (epoch of the term). */
void run_start(uint64_t epoch);
void run_stop(void);

/* From a worker's connection (loop thread). */
int run_on_status(struct conn *c, struct reg_worker *w,
                  const Heracron__Envelope *env);
void run_on_log(struct reg_worker *w, const Heracron__LogChunk *lc);
/* A worker's heartbeat arrived: capacity may have freed up. */
void run_kick(void);

#endif
