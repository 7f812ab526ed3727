/* backoff: exponential reconnect delays with jitter.  Pure: the caller
 * supplies the random numbers, so tests are deterministic. */
#ifndef HERACRON_BACKOFF_H
#define HERACRON_BACKOFF_H

#include <stdint.h>

struct backoff {
  uint32_t base_ms;  /* first ceiling */
  uint32_t cap_ms;   /* largest ceiling */
  uint32_t ceil_ms;  /* current ceiling, doubles per failure up to cap */
};

void backoff_init(struct backoff *b, uint32_t base_ms, uint32_t cap_ms);

/* The delay before the next attempt: "equal jitter", half the current
 * ceiling plus rnd scaled into the other half, so attempts of many workers
 * spread out yet never retry at once.  Doubles the ceiling afterwards. */
uint32_t backoff_next(struct backoff *b, uint32_t rnd);

/* After a success: start again from base. */
void backoff_reset(struct backoff *b);

#endif
