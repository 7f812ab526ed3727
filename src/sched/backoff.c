#include "config.h"

#include "sched/backoff.h"

void backoff_init(struct backoff *b, uint32_t base_ms, uint32_t cap_ms) {
  b->base_ms = base_ms ? base_ms : 1;
  b->cap_ms = cap_ms < b->base_ms ? b->base_ms : cap_ms;
  b->ceil_ms = b->base_ms;
}

uint32_t backoff_next(struct backoff *b, uint32_t rnd) {
  uint32_t half = b->ceil_ms / 2;
  uint32_t span = b->ceil_ms - half; /* >= 1 since ceil >= 1 */
  uint32_t delay = half + rnd % (span + 1u);
  if (b->ceil_ms <= b->cap_ms / 2) b->ceil_ms *= 2;
  else b->ceil_ms = b->cap_ms;
  return delay;
}

void backoff_reset(struct backoff *b) { b->ceil_ms = b->base_ms; }
