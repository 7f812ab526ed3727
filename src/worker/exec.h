/* exec: the processes a worker runs.  Each instance's script is run in
 * its work directory (workdir.h) by its type's interpreter in a process
 * group of its own, stdout and stderr into one pipe read on the loop.  Children are reaped with ev_child on
 * the default loop, never by a blocking wait.  A timeout or a stop sends
 * SIGTERM to the whole group, then SIGKILL after the grace period. */
#ifndef HERACRON_EXEC_H
#define HERACRON_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/heracron.pb-c.h"

struct exec_sink {
  /* A piece of output (seq from 1, in order). */
  void (*on_log)(uint64_t instance_id, uint32_t seq, const uint8_t *data,
                 size_t len);
  /* The instance ended; r is filled but for worker and report time. */
  void (*on_exit)(uint64_t instance_id, const Heracron__StatusReport *r);
};

void exec_init(const struct exec_sink *sink);

/* Starts x.  Returns the pid, or a negative value with a reason in err
 * (nothing runs): -EXEC_PERMANENT when trying again cannot help (no
 * interpreter for the job's type), else -1. */
#define EXEC_PERMANENT 2
int exec_start(const Heracron__Execute *x, char *err, size_t errlen);

/* Asks instance id to stop (SIGTERM to its group, SIGKILL after grace).
 * Returns 0, -1 if it is not running here. */
int exec_stop(uint64_t instance_id, const char *reason);

/* The ids of running instances, up to max; returns the count. */
size_t exec_running(uint64_t *ids, Heracron__Trigger *triggers, size_t max);
size_t exec_count(void);

/* Whether a running instance works in prefix or under it. */
bool exec_dir_in_use(const char *prefix);

/* Kills every process group (shutdown). */
void exec_kill_all(void);

#endif
