/* select: which worker runs the next instance (DESIGN.md, Dispatch), with
 * no I/O.  A worker is runnable when it is in the group, its heartbeat is
 * fresh, it runs fewer than its limit (counting what was sent to it since
 * its last heartbeat), and its CPU load per core and memory use are below
 * the limits.  Among runnable workers the least loaded wins: the lowest
 * (running + sent) / limit, then the lowest average CPU load; equals take
 * turns through a cursor. */
#ifndef HERACRON_SELECT_H
#define HERACRON_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct select_worker {
  const char *groups;   /* comma list */
  uint64_t age_ms;      /* since the last heartbeat */
  uint32_t running;     /* from the last heartbeat */
  uint32_t sent;        /* dispatched since that heartbeat */
  uint32_t max_running;
  double cpu;           /* average busy fraction per core, 0..1 */
  double mem;           /* used fraction, 0..1 */
};

struct select_limits {
  uint64_t fresh_ms;    /* a heartbeat older than this is stale */
  double max_cpu;       /* above this: overloaded (1.0: never) */
  double max_mem;
};

enum select_why {
  SELECT_OK = 0,
  SELECT_NO_GROUP,   /* no worker in the group */
  SELECT_STALE,      /* in the group, but no fresh heartbeat */
  SELECT_FULL,       /* all at their running limit */
  SELECT_OVERLOADED, /* all above CPU or memory limits */
};

/* Whether group is one of the comma list groups. */
bool select_in_group(const char *groups, const char *group);

/* Index of the chosen worker, or -1 with *why saying why none.  *cursor is
 * the caller's round-robin state (start at 0). */
int select_worker(const struct select_worker *w, size_t n, const char *group,
                  const struct select_limits *lim, size_t *cursor,
                  enum select_why *why);

const char *select_why_text(enum select_why why);

#endif
