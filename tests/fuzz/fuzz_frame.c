/* libFuzzer target: the read path of a connection, minus the socket.
 * The input is cut into pieces at offsets taken from its first byte (so
 * the fuzzer explores splits too), fed to a frame decoder with a small
 * maximum, and every delivered payload goes through Envelope unpack, a
 * re-pack and free, as conn.c does. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "net/frame.h"
#include "proto/heracron.pb-c.h"

static int fuzz_payload(void *arg, const uint8_t *p, size_t len) {
  size_t *frames = arg;
  (*frames)++;
  Heracron__Envelope *env = heracron__envelope__unpack(NULL, len, p);
  if (env == NULL) return 0;
  size_t n = heracron__envelope__get_packed_size(env);
  uint8_t *out = malloc(n ? n : 1);
  if (out != NULL) {
    size_t m = heracron__envelope__pack(env, out);
    if (m != n) abort();
    free(out);
  }
  if (env->payload_case == HERACRON__ENVELOPE__PAYLOAD_HELLO &&
      env->hello->name != NULL && env->hello->n_groups > 1000000)
    abort(); /* touch the fields a handler reads */
  heracron__envelope__free_unpacked(env, NULL);
  return *frames > 64 ? 1 : 0; /* like a handler closing the connection */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  unsigned step = data[0] % 17 + 1; /* piece size */
  data++;
  size--;
  struct frame_dec d;
  frame_dec_init(&d, 65536);
  size_t frames = 0;
  for (size_t off = 0; off < size;) {
    size_t n = size - off < step ? size - off : step;
    int rc = frame_dec_feed(&d, data + off, n, fuzz_payload, &frames);
    if (rc != FRAME_OK) break;
    if (frame_dec_pending(&d) > 65536 + FRAME_HEADER_SIZE) abort();
    off += n;
    step = step * 7 % 23 + 1;
  }
  frame_dec_free(&d);
  return 0;
}
