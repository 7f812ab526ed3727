/* frame: the wire framing, with no I/O.  A frame is a 4-byte big-endian
 * payload length followed by that many bytes (one serialized Envelope).
 *
 * The decoder accepts input split at any byte; it checks the announced
 * length against its maximum before it allocates anything, delivers
 * complete payloads straight from the caller's input when it can, and
 * holds only the bytes of one incomplete frame (released when empty, so an
 * idle connection holds no buffer). */
#ifndef HERACRON_FRAME_H
#define HERACRON_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* Version of the messages in proto/heracron.proto; bump on incompatible
 * change (if you change a field number there, change this). */
#define FRAME_PROTOCOL_VERSION 1
#define FRAME_HEADER_SIZE 4

enum frame_rc {
  FRAME_OK = 0,       /* all input consumed */
  FRAME_TOO_BIG = -2, /* a frame announced more than max bytes */
  FRAME_NOMEM = -3,   /* could not allocate the partial-frame buffer */
};

struct frame_dec {
  uint8_t *buf;   /* bytes of the incomplete frame, header included */
  size_t len;     /* bytes held in buf */
  size_t cap;     /* allocated size of buf */
  uint32_t max;   /* largest payload accepted, bytes */
  uint32_t bad;   /* the announced length after FRAME_TOO_BIG */
};

/* Called for each complete payload; the bytes are valid during the call
 * only.  Return 0 to go on, non-zero to stop (the decoder then returns
 * that value and drops the rest of the input: the caller is closing). */
typedef int (*frame_fn)(void *arg, const uint8_t *payload, size_t len);

void frame_dec_init(struct frame_dec *d, uint32_t max_payload);

/* Consumes n bytes of input.  Returns FRAME_OK, FRAME_TOO_BIG (d->bad
 * holds the length), FRAME_NOMEM, or the callback's non-zero value. */
int frame_dec_feed(struct frame_dec *d, const uint8_t *in, size_t n,
                   frame_fn fn, void *arg);

/* Bytes of an incomplete frame held (0 between frames). */
static inline size_t frame_dec_pending(const struct frame_dec *d) {
  return d->len;
}

/* Releases the buffer. */
void frame_dec_free(struct frame_dec *d);

/* Writes the header of a frame of len payload bytes. */
void frame_put_header(uint8_t out[FRAME_HEADER_SIZE], uint32_t len);
uint32_t frame_get_header(const uint8_t in[FRAME_HEADER_SIZE]);

#endif
