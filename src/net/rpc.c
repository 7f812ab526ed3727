#include "config.h"

#include "net/rpc.h"

#include <stdlib.h>

struct rpc_pending {
  ev_timer timer; /* first: the struct is recovered from the watcher */
  struct rpc_pending *prev, *next;
  struct rpc_table *table;
  struct conn *conn;
  uint64_t id;
  rpc_fn fn;
  void *arg;
};

void rpc_init(struct rpc_table *t) {
  t->head = NULL;
  t->count = 0;
}

static void rpc_unlink(struct rpc_table *t, struct rpc_pending *p) {
  if (p->prev) p->prev->next = p->next;
  else t->head = p->next;
  if (p->next) p->next->prev = p->prev;
  t->count--;
}

static void rpc_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  struct rpc_pending *p = (struct rpc_pending *)w;
  rpc_unlink(p->table, p);
  p->fn(p->conn, p->arg, NULL);
  free(p);
}

int rpc_add(struct ev_loop *loop, struct rpc_table *t, struct conn *c,
            uint64_t id, uint32_t timeout_ms, rpc_fn fn, void *arg) {
  struct rpc_pending *p = calloc(1, sizeof(*p));
  if (p == NULL) return -1;
  p->table = t;
  p->conn = c;
  p->id = id;
  p->fn = fn;
  p->arg = arg;
  p->next = t->head;
  if (t->head) t->head->prev = p;
  t->head = p;
  t->count++;
  ev_timer_init(&p->timer, rpc_timeout_cb, timeout_ms / 1000.0, 0.);
  ev_timer_start(loop, &p->timer);
  return 0;
}

int rpc_deliver(struct ev_loop *loop, struct rpc_table *t, struct conn *c,
                const Heracron__Envelope *reply) {
  for (struct rpc_pending *p = t->head; p != NULL; p = p->next) {
    if (p->id != reply->reply_to) continue;
    ev_timer_stop(loop, &p->timer);
    rpc_unlink(t, p);
    p->fn(c, p->arg, reply);
    free(p);
    return 1;
  }
  return 0;
}

void rpc_fail_all(struct ev_loop *loop, struct rpc_table *t, struct conn *c) {
  while (t->head != NULL) {
    struct rpc_pending *p = t->head;
    ev_timer_stop(loop, &p->timer);
    rpc_unlink(t, p);
    p->fn(c, p->arg, NULL);
    free(p);
  }
}
