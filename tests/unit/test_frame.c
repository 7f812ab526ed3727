/* Unit tests of the frame decoder: every split of a stream, garbage,
 * limits, and that nothing is allocated before the length is checked. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/frame.h"
#include "proto/heracron.pb-c.h"

#define MAX_SEEN 64

struct seen {
  int n;
  size_t len[MAX_SEEN];
  uint8_t data[MAX_SEEN][256];
  int stop_after; /* return 1 after this many frames; 0 = never */
};

static int collect(void *arg, const uint8_t *p, size_t len) {
  struct seen *s = arg;
  assert_true(s->n < MAX_SEEN);
  assert_true(len <= sizeof(s->data[0]));
  s->len[s->n] = len;
  memcpy(s->data[s->n], p, len);
  s->n++;
  return s->stop_after && s->n >= s->stop_after ? 7 : 0;
}

/* Appends a frame with payload p to buf at *off. */
static void put_frame(uint8_t *buf, size_t *off, const void *p, uint32_t len) {
  frame_put_header(buf + *off, len);
  memcpy(buf + *off + FRAME_HEADER_SIZE, p, len);
  *off += FRAME_HEADER_SIZE + len;
}

static size_t three_frames(uint8_t *buf) {
  size_t off = 0;
  put_frame(buf, &off, "hello", 5);
  put_frame(buf, &off, "", 0);
  uint8_t big[200];
  for (int i = 0; i < 200; i++) big[i] = (uint8_t)i;
  put_frame(buf, &off, big, sizeof(big));
  return off;
}

static void check_three(const struct seen *s) {
  assert_int_equal(s->n, 3);
  assert_int_equal(s->len[0], 5);
  assert_memory_equal(s->data[0], "hello", 5);
  assert_int_equal(s->len[1], 0);
  assert_int_equal(s->len[2], 200);
  for (int i = 0; i < 200; i++) assert_int_equal(s->data[2][i], (uint8_t)i);
}

static void test_header_roundtrip(void **state) {
  uint8_t h[4];
  frame_put_header(h, 0x01020304u);
  assert_int_equal(h[0], 1);
  assert_int_equal(h[3], 4);
  assert_int_equal(frame_get_header(h), 0x01020304u);
  frame_put_header(h, 0xffffffffu);
  assert_int_equal(frame_get_header(h), 0xffffffffu);
}

static void test_whole_buffer(void **state) {
  uint8_t buf[512];
  size_t n = three_frames(buf);
  struct frame_dec d;
  struct seen s = {0};
  frame_dec_init(&d, 1024);
  assert_int_equal(frame_dec_feed(&d, buf, n, collect, &s), FRAME_OK);
  check_three(&s);
  assert_int_equal(frame_dec_pending(&d), 0);
  assert_null(d.buf); /* nothing held between frames */
  frame_dec_free(&d);
}

/* Every way to cut the stream in two and in three pieces. */
static void test_all_splits(void **state) {
  uint8_t buf[512];
  size_t n = three_frames(buf);
  for (size_t a = 0; a <= n; a++) {
    for (size_t b = a; b <= n; b++) {
      struct frame_dec d;
      struct seen s = {0};
      frame_dec_init(&d, 1024);
      assert_int_equal(frame_dec_feed(&d, buf, a, collect, &s), FRAME_OK);
      assert_int_equal(frame_dec_feed(&d, buf + a, b - a, collect, &s),
                       FRAME_OK);
      assert_int_equal(frame_dec_feed(&d, buf + b, n - b, collect, &s),
                       FRAME_OK);
      check_three(&s);
      assert_int_equal(frame_dec_pending(&d), 0);
      frame_dec_free(&d);
    }
  }
}

static void test_byte_by_byte(void **state) {
  uint8_t buf[512];
  size_t n = three_frames(buf);
  struct frame_dec d;
  struct seen s = {0};
  frame_dec_init(&d, 1024);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(frame_dec_feed(&d, buf + i, 1, collect, &s), FRAME_OK);
  check_three(&s);
  frame_dec_free(&d);
}

static void test_truncated_is_held(void **state) {
  uint8_t buf[512];
  size_t n = three_frames(buf);
  struct frame_dec d;
  struct seen s = {0};
  frame_dec_init(&d, 1024);
  assert_int_equal(frame_dec_feed(&d, buf, n - 1, collect, &s), FRAME_OK);
  assert_int_equal(s.n, 2);
  assert_int_equal(frame_dec_pending(&d), 4 + 199);
  frame_dec_free(&d);
}

static void test_too_big_whole(void **state) {
  uint8_t buf[16];
  frame_put_header(buf, 101);
  struct frame_dec d;
  struct seen s = {0};
  frame_dec_init(&d, 100);
  assert_int_equal(frame_dec_feed(&d, buf, 4, collect, &s), FRAME_TOO_BIG);
  assert_int_equal(d.bad, 101);
  assert_int_equal(s.n, 0);
  assert_null(d.buf);
  frame_dec_free(&d);
}

/* The length arrives in pieces: still refused before any allocation of
 * the announced size (4 GiB here). */
static void test_too_big_split_header(void **state) {
  uint8_t buf[4];
  frame_put_header(buf, 0xffffffffu);
  struct frame_dec d;
  struct seen s = {0};
  frame_dec_init(&d, 4u << 20);
  assert_int_equal(frame_dec_feed(&d, buf, 2, collect, &s), FRAME_OK);
  assert_true(d.cap <= FRAME_HEADER_SIZE);
  assert_int_equal(frame_dec_feed(&d, buf + 2, 2, collect, &s), FRAME_TOO_BIG);
  assert_int_equal(d.bad, 0xffffffffu);
  frame_dec_free(&d);
}

static void test_exact_limit(void **state) {
  uint8_t buf[4 + 100];
  memset(buf, 'x', sizeof(buf));
  frame_put_header(buf, 100);
  struct frame_dec d;
  struct seen s = {0};
  frame_dec_init(&d, 100);
  assert_int_equal(frame_dec_feed(&d, buf, sizeof(buf), collect, &s),
                   FRAME_OK);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.len[0], 100);
  frame_dec_free(&d);
}

static void test_callback_stops(void **state) {
  uint8_t buf[512];
  size_t n = three_frames(buf);
  struct frame_dec d;
  struct seen s = {.stop_after = 1};
  frame_dec_init(&d, 1024);
  assert_int_equal(frame_dec_feed(&d, buf, n, collect, &s), 7);
  assert_int_equal(s.n, 1);
  frame_dec_free(&d);
}

/* Garbage: an HTTP request read as a length is a huge frame. */
static void test_http_garbage(void **state) {
  const char *req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  struct frame_dec d;
  struct seen s = {0};
  frame_dec_init(&d, 4u << 20);
  assert_int_equal(frame_dec_feed(&d, (const uint8_t *)req, strlen(req),
                                  collect, &s),
                   FRAME_TOO_BIG);
  assert_int_equal(s.n, 0);
  frame_dec_free(&d);
}

/* A well-framed payload that is not an Envelope is caught by unpack;
 * one with only an unknown field decodes with no payload set. */
static void test_payload_validation(void **state) {
  const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  assert_null(heracron__envelope__unpack(NULL, sizeof(junk), junk));
  /* field 99, wire type 2 (len-delimited), 3 bytes */
  const uint8_t unknown[] = {0x9a, 0x06, 0x03, 'a', 'b', 'c'};
  Heracron__Envelope *e =
      heracron__envelope__unpack(NULL, sizeof(unknown), unknown);
  assert_non_null(e);
  assert_int_equal(e->payload_case, HERACRON__ENVELOPE__PAYLOAD__NOT_SET);
  assert_int_equal(e->base.n_unknown_fields, 1);
  heracron__envelope__free_unpacked(e, NULL);
}

static void test_envelope_roundtrip_through_decoder(void **state) {
  Heracron__Envelope env = HERACRON__ENVELOPE__INIT;
  Heracron__HeartbeatAck ack = HERACRON__HEARTBEAT_ACK__INIT;
  ack.epoch = 42;
  env.id = 7;
  env.reply_to = 9;
  env.payload_case = HERACRON__ENVELOPE__PAYLOAD_HEARTBEAT_ACK;
  env.heartbeat_ack = &ack;
  uint8_t buf[128];
  size_t len = heracron__envelope__get_packed_size(&env);
  frame_put_header(buf, (uint32_t)len);
  heracron__envelope__pack(&env, buf + 4);
  struct frame_dec d;
  struct seen s = {0};
  frame_dec_init(&d, 1024);
  assert_int_equal(frame_dec_feed(&d, buf, 4 + len, collect, &s), FRAME_OK);
  assert_int_equal(s.n, 1);
  Heracron__Envelope *e = heracron__envelope__unpack(NULL, s.len[0], s.data[0]);
  assert_non_null(e);
  assert_int_equal(e->id, 7);
  assert_int_equal(e->reply_to, 9);
  assert_int_equal(e->payload_case, HERACRON__ENVELOPE__PAYLOAD_HEARTBEAT_ACK);
  assert_int_equal(e->heartbeat_ack->epoch, 42);
  heracron__envelope__free_unpacked(e, NULL);
  frame_dec_free(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header_roundtrip),
      cmocka_unit_test(test_whole_buffer),
      cmocka_unit_test(test_all_splits),
      cmocka_unit_test(test_byte_by_byte),
      cmocka_unit_test(test_truncated_is_held),
      cmocka_unit_test(test_too_big_whole),
      cmocka_unit_test(test_too_big_split_header),
      cmocka_unit_test(test_exact_limit),
      cmocka_unit_test(test_callback_stops),
      cmocka_unit_test(test_http_garbage),
      cmocka_unit_test(test_payload_validation),
      cmocka_unit_test(test_envelope_roundtrip_through_decoder),
  };
  return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
