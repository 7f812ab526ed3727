#include "config.h"

#include "net/frame.h"

#include <stdlib.h>
#include <string.h>

void frame_dec_init(struct frame_dec *d, uint32_t max_payload) {
  memset(d, 0, sizeof(*d));
  d->max = max_payload;
}

void frame_dec_free(struct frame_dec *d) {
  free(d->buf);
  d->buf = NULL;
  d->len = d->cap = 0;
}

void frame_put_header(uint8_t out[FRAME_HEADER_SIZE], uint32_t len) {
  out[0] = (uint8_t)(len >> 24);
  out[1] = (uint8_t)(len >> 16);
  out[2] = (uint8_t)(len >> 8);
  out[3] = (uint8_t)len;
}

uint32_t frame_get_header(const uint8_t in[FRAME_HEADER_SIZE]) {
  return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 |
         (uint32_t)in[2] << 8 | (uint32_t)in[3];
}

/* Makes room for want bytes in total (want <= max + header). */
static int frame_reserve(struct frame_dec *d, size_t want) {
  if (want <= d->cap) return 0;
  uint8_t *nb = realloc(d->buf, want);
  if (nb == NULL) return -1;
  d->buf = nb;
  d->cap = want;
  return 0;
}

int frame_dec_feed(struct frame_dec *d, const uint8_t *in, size_t n,
                   frame_fn fn, void *arg) {
  /* First finish a frame already begun in d->buf. */
  while (d->len > 0 && n > 0) {
    if (d->len < FRAME_HEADER_SIZE) {
      size_t take = FRAME_HEADER_SIZE - d->len;
      if (take > n) take = n;
      memcpy(d->buf + d->len, in, take);
      d->len += take;
      in += take;
      n -= take;
      if (d->len < FRAME_HEADER_SIZE) return FRAME_OK;
      uint32_t plen = frame_get_header(d->buf);
      if (plen > d->max) {
        d->bad = plen;
        frame_dec_free(d);
        return FRAME_TOO_BIG;
      }
      if (frame_reserve(d, FRAME_HEADER_SIZE + (size_t)plen) < 0)
        return FRAME_NOMEM;
    }
    size_t total = FRAME_HEADER_SIZE + (size_t)frame_get_header(d->buf);
    size_t take = total - d->len;
    if (take > n) take = n;
    memcpy(d->buf + d->len, in, take);
    d->len += take;
    in += take;
    n -= take;
    if (d->len < total) return FRAME_OK;
    int rc = fn(arg, d->buf + FRAME_HEADER_SIZE, total - FRAME_HEADER_SIZE);
    frame_dec_free(d); /* between frames we hold nothing */
    if (rc != 0) return rc;
  }

  /* Then deliver whole frames straight from the input. */
  while (n >= FRAME_HEADER_SIZE) {
    uint32_t plen = frame_get_header(in);
    if (plen > d->max) {
      d->bad = plen;
      return FRAME_TOO_BIG;
    }
    if (n - FRAME_HEADER_SIZE < plen) break;
    int rc = fn(arg, in + FRAME_HEADER_SIZE, plen);
    if (rc != 0) return rc;
    in += FRAME_HEADER_SIZE + (size_t)plen;
    n -= FRAME_HEADER_SIZE + (size_t)plen;
  }

  /* Keep the start of an incomplete frame. */
  if (n > 0) {
    size_t want = FRAME_HEADER_SIZE;
    if (n >= FRAME_HEADER_SIZE)
      want += (size_t)frame_get_header(in); /* checked above */
    if (frame_reserve(d, want) < 0) return FRAME_NOMEM;
    memcpy(d->buf, in, n);
    d->len = n;
  }
  return FRAME_OK;
}
