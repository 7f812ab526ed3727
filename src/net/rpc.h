/* rpc: requests waiting for their replies on one connection, matched by
 * id, each with its own timeout. */
#ifndef HERACRON_RPC_H
#define HERACRON_RPC_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/heracron.pb-c.h"

struct conn;
struct rpc_pending;

/* The reply to a request (freed by the caller after return), or NULL if
 * the request timed out or its connection closed (then c may already be
 * closed: do not send on it). */
typedef void (*rpc_fn)(struct conn *c, void *arg,
                       const Heracron__Envelope *reply);

struct rpc_table {
  struct rpc_pending *head; /* doubly linked, few entries per connection */
  size_t count;
};

void rpc_init(struct rpc_table *t);

/* Registers request id with a timeout.  Returns 0, -1 on allocation
 * failure. */
int rpc_add(struct ev_loop *loop, struct rpc_table *t, struct conn *c,
            uint64_t id, uint32_t timeout_ms, rpc_fn fn, void *arg);

/* Delivers reply to its request if one waits.  Returns 1 if delivered, 0
 * if no request has that id (a late or bogus reply). */
int rpc_deliver(struct ev_loop *loop, struct rpc_table *t, struct conn *c,
                const Heracron__Envelope *reply);

/* Fails every pending request (fn called with NULL). */
void rpc_fail_all(struct ev_loop *loop, struct rpc_table *t, struct conn *c);

#endif
