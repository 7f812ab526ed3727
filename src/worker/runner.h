/* runner: long-lived processes serving a map job's sub-tasks.
 *
 * A job with map_runner set gets, on each worker, runners of its script
 * for a map and task name: each is fed one item a line on stdin and
 * answers with one line on fd 3, "<exit code>[ <result>]", when that item
 * is done; what it prints on stdout and stderr meanwhile is that item's
 * output.  A runner serves one item at a time and is kept for the next
 * one; idle for RUNNER_IDLE_S it gets EOF on stdin and should exit.  A
 * runner that dies, or is killed (a stop, a timeout), ends its current
 * item with that status.  A process per sub-task costs about 0.5 ms of
 * CPU; an item given to a runner costs a few system calls. */
#ifndef HERACRON_RUNNER_H
#define HERACRON_RUNNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RUNNER_IDLE_S 2.0

struct runner_sink {
  /* Output of item (the pointer given to runner_assign). */
  void (*on_output)(void *item, const uint8_t *data, size_t len);
  /* item is done: wait_status as from waitpid (an exit code from the
   * status line, or how the runner died), result from the status line
   * or NULL, reason a protocol error or NULL. */
  void (*on_done)(void *item, int wait_status, const char *result,
                  const char *reason);
};

void runner_init(const struct runner_sink *sink);

/* What a runner runs: the same key gets the same runners. */
struct runner_key {
  uint64_t parent_id;
  const char *task_name;
  const char *script; /* its file, named by its content */
};

/* Whether an item can go to a runner: one line, not too long. */
int runner_item_ok(const uint8_t *data, size_t len);

/* Gives the item (data, len) to an idle runner of key, or to a new one
 * started from argv, envp and dir.  Returns the runner's pid (its process
 * group), or -1 with the reason in err. */
pid_t runner_assign(const struct runner_key *key, const uint8_t *data,
                    size_t len, void *item, char *const argv[],
                    char *const envp[], const char *dir, char *err,
                    size_t errlen);

/* Kills every runner (shutdown). */
void runner_kill_all(void);

#endif
