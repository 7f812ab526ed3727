/* Unit tests of reconnect backoff. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sched/backoff.h"

static void test_grows_and_caps(void **state) {
  struct backoff b;
  backoff_init(&b, 100, 1000);
  /* rnd 0: the lower half of each ceiling */
  assert_int_equal(backoff_next(&b, 0), 50);
  assert_int_equal(backoff_next(&b, 0), 100);
  assert_int_equal(backoff_next(&b, 0), 200);
  assert_int_equal(backoff_next(&b, 0), 400);
  assert_int_equal(backoff_next(&b, 0), 500); /* capped at 1000 */
  assert_int_equal(backoff_next(&b, 0), 500);
}

static void test_jitter_bounds(void **state) {
  struct backoff b;
  backoff_init(&b, 100, 5000);
  for (uint32_t r = 0; r < 5000; r += 7) {
    backoff_reset(&b);
    uint32_t d = backoff_next(&b, r);
    assert_true(d >= 50 && d <= 100);
  }
  for (int i = 0; i < 20; i++) backoff_next(&b, 0);
  for (uint32_t r = 0; r < 100000; r += 997) {
    uint32_t d = backoff_next(&b, r);
    assert_true(d >= 2500 && d <= 5000);
  }
}

static void test_reset(void **state) {
  struct backoff b;
  backoff_init(&b, 100, 5000);
  for (int i = 0; i < 10; i++) backoff_next(&b, 0);
  backoff_reset(&b);
  assert_int_equal(backoff_next(&b, 0), 50);
}

static void test_degenerate(void **state) {
  struct backoff b;
  backoff_init(&b, 0, 0);
  assert_true(backoff_next(&b, 12345) <= 1);
  backoff_init(&b, 1000, 10); /* cap below base: base wins */
  assert_true(backoff_next(&b, 0) == 500);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_grows_and_caps),
      cmocka_unit_test(test_jitter_bounds),
      cmocka_unit_test(test_reset),
      cmocka_unit_test(test_degenerate),
  };
  return cmocka_run_group_tests_name("backoff", tests, NULL, NULL);
}
