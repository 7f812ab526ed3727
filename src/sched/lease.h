/* lease: the decisions of the master election, with no I/O.
 *
 * The election thread (store/elect.c) runs one conditional UPDATE per
 * attempt against the lease row and feeds its result here; these functions
 * say what the node now is.  All times are monotonic milliseconds of the
 * local clock: the server's clock decides expiry in SQL, the local clock
 * decides how long this node may still act as master. */
#ifndef HERACRON_LEASE_H
#define HERACRON_LEASE_H

#include <stdbool.h>
#include <stdint.h>

struct lease_view {
  bool master;            /* this node holds the lease */
  uint64_t epoch;         /* epoch held; 0 when not master */
  uint64_t valid_until;   /* ms, monotonic: act as master until then */
};

enum lease_outcome {
  LEASE_CANDIDATE = 0, /* not master before, not master now */
  LEASE_ACQUIRED,      /* became master, or the epoch changed under us */
  LEASE_RENEWED,       /* still master with the same epoch */
  LEASE_LOST,          /* was master; another node holds the lease now */
  LEASE_EXPIRED,       /* was master; could not renew before valid_until */
  LEASE_KEEP,          /* was master; attempt failed, still within validity */
};

/* Safety margin subtracted from the lease: a tenth of it, at least 100 ms
 * and at most 1 s, to absorb scheduling delays on this host. */
uint32_t lease_margin(uint32_t lease_ms);

/* Until when a lease granted by an UPDATE sent at sent_ms may be used.
 * The server started counting after sent_ms, so this is conservative. */
uint64_t lease_valid_until(uint64_t sent_ms, uint32_t lease_ms);

/* Applies one attempt.  updated: 1 if the UPDATE changed the row (lease
 * acquired or renewed), 0 if it changed nothing (held by another node),
 * -1 if it failed (database unreachable, timeout).  epoch: the lease's
 * epoch read back after an update (ignored otherwise).  Updates *v and
 * returns what happened. */
enum lease_outcome lease_apply(struct lease_view *v, int updated,
                               uint64_t epoch, uint64_t sent_ms,
                               uint64_t now_ms, uint32_t lease_ms);

/* Whether a master must stop acting as one at now_ms. */
bool lease_must_step_down(const struct lease_view *v, uint64_t now_ms);

/* Forgets the lease (after a step-down): the next acquisition, even by
 * this node, gets a new epoch. */
void lease_reset(struct lease_view *v);

const char *lease_outcome_name(enum lease_outcome o);

#endif
