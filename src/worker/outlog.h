/* outlog: a worker's copy of each instance's output, kept until a master
 * has acknowledged the instance's end.  When the worker connects to a
 * master (a new one after a failover, or the same one after a break), it
 * sends every kept chunk again; the master stores chunks idempotently (by
 * instance and sequence), so no output is lost and none is doubled.  The
 * output of an instance is bounded by node.log_max_bytes.  Loop thread. */
#ifndef HERACRON_OUTLOG_H
#define HERACRON_OUTLOG_H

#include <stddef.h>
#include <stdint.h>

/* Copies a chunk.  0, or -1 if out of memory (then it is only sent). */
int outlog_add(uint64_t id, uint32_t seq, const uint8_t *data, size_t len);

/* A master acknowledged id's end: its chunks are dropped. */
void outlog_drop(uint64_t id);

/* Calls fn for every kept chunk, in order within each instance. */
void outlog_each(void (*fn)(uint64_t id, uint32_t seq, const uint8_t *data,
                            size_t len));

/* Bytes kept (for tests and metrics). */
size_t outlog_bytes(void);

void outlog_free_all(void);

#endif
