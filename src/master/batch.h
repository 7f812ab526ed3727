/* batch: writes the master makes for many instances at once.  A map ends
 * thousands of parts a second; marking each RUNNING, and checking its
 * parent after each end, one statement apiece, kept MariaDB's session
 * thread busy.  What arrives in one turn of the loop is written by one
 * store operation, just before the loop waits again (ev_prepare). */
#ifndef HERACRON_BATCH_H
#define HERACRON_BATCH_H

#include <stdint.h>

/* Master role started (epoch of the term) and stopped (what is pending
 * is written, fenced by its term). */
void batch_start(uint64_t epoch);
void batch_stop(void);

/* Instance id was taken by its worker: RUNNING. */
void batch_running(uint64_t id);

/* A part of parent ended: the parent ends if it was the last. */
void batch_parent_check(uint64_t parent);

#endif
