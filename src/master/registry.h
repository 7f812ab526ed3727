/* registry: the workers connected to this master, with what their last
 * heartbeat said.  Owned by the loop thread.  Entries are created when a
 * worker authenticates and removed when its connection closes (which also
 * happens when it stays silent past master.worker_timeout_ms). */
#ifndef HERACRON_REGISTRY_H
#define HERACRON_REGISTRY_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;

#define REG_MAX_LOAD 256 /* per-core loads kept per worker */

struct reg_worker {
  struct reg_worker *prev, *next;
  struct conn *conn;          /* not owned */
  char name[129];
  char address[256];
  char http[256];
  char peer[64];
  char groups[1024];          /* comma list */
  char version[32];
  bool master_group;
  uint32_t cores;
  uint32_t max_running;
  uint32_t running;
  uint64_t mem_total, mem_used; /* bytes */
  double load_avg;
  int nload;
  float load[REG_MAX_LOAD];   /* busy fraction per core, 0..1 */
  ev_tstamp connected_at;     /* ev_now() */
  ev_tstamp last_heartbeat;   /* ev_now(); 0 before the first */
  uint64_t heartbeats;
  uint32_t dispatched;        /* sent since the last heartbeat */
  uint32_t outstanding;       /* sent by this master and not yet ended */
  uint64_t *ids;              /* owned: instances its last heartbeat listed */
  size_t nids;                /* (running, or ended and not yet acked) */
  bool dirty;                 /* changed since the last flush */
};

/* Finds a worker by name, NULL if not connected. */
struct reg_worker *registry_find(const char *name);

/* Adds a zeroed entry for name (must not be present).  NULL on OOM. */
struct reg_worker *registry_add(const char *name);

/* Unlinks and frees w. */
void registry_remove(struct reg_worker *w);

/* Whether w's last heartbeat listed instance id. */
bool registry_lists(const struct reg_worker *w, uint64_t id);

size_t registry_count(void);
struct reg_worker *registry_first(void);

#endif
