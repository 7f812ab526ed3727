/* clock: the two clocks heracron uses.  Durations and deadlines use the
 * monotonic clock; only values shown to people or stored use wall time. */
#ifndef HERACRON_CLOCK_H
#define HERACRON_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t clock_mono_ms(void);
/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
uint64_t clock_wall_ms(void);

#endif
