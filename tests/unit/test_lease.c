/* Unit tests of the election's decisions. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sched/lease.h"

static void test_margin(void **state) {
  assert_int_equal(lease_margin(5000), 500);
  assert_int_equal(lease_margin(500), 100);
  assert_int_equal(lease_margin(60000), 1000);
  assert_int_equal(lease_margin(150), 100);
  assert_int_equal(lease_margin(80), 40); /* never the whole lease */
  assert_int_equal(lease_valid_until(1000, 5000), 5500);
}

static void test_candidate_stays_candidate(void **state) {
  struct lease_view v = {0};
  assert_int_equal(lease_apply(&v, 0, 0, 100, 100, 5000), LEASE_CANDIDATE);
  assert_int_equal(lease_apply(&v, -1, 0, 100, 100, 5000), LEASE_CANDIDATE);
  assert_false(v.master);
  assert_false(lease_must_step_down(&v, 1000000));
}

static void test_acquire_renew(void **state) {
  struct lease_view v = {0};
  assert_int_equal(lease_apply(&v, 1, 3, 1000, 1010, 5000), LEASE_ACQUIRED);
  assert_true(v.master);
  assert_int_equal(v.epoch, 3);
  assert_int_equal(v.valid_until, 5500);
  assert_int_equal(lease_apply(&v, 1, 3, 2000, 2005, 5000), LEASE_RENEWED);
  assert_int_equal(v.valid_until, 6500);
}

/* The renewal matched by expiry and bumped the epoch: a new term. */
static void test_epoch_change_is_acquire(void **state) {
  struct lease_view v = {0};
  lease_apply(&v, 1, 3, 1000, 1000, 5000);
  assert_int_equal(lease_apply(&v, 1, 4, 2000, 2000, 5000), LEASE_ACQUIRED);
  assert_int_equal(v.epoch, 4);
}

static void test_lost(void **state) {
  struct lease_view v = {0};
  lease_apply(&v, 1, 3, 1000, 1000, 5000);
  assert_int_equal(lease_apply(&v, 0, 0, 2000, 2000, 5000), LEASE_LOST);
  assert_false(v.master);
  assert_int_equal(v.epoch, 0);
}

/* A failing database: keep the lease until its local validity ends, then
 * step down, never later. */
static void test_error_keeps_then_expires(void **state) {
  struct lease_view v = {0};
  lease_apply(&v, 1, 3, 1000, 1000, 5000); /* valid until 5500 */
  assert_int_equal(lease_apply(&v, -1, 0, 2000, 2000, 5000), LEASE_KEEP);
  assert_true(v.master);
  assert_false(lease_must_step_down(&v, 5499));
  assert_true(lease_must_step_down(&v, 5500));
  assert_int_equal(lease_apply(&v, -1, 0, 5400, 5500, 5000), LEASE_EXPIRED);
  assert_false(v.master);
}

/* A paused process: its renewal is sent long after validity ended.  Even
 * a successful renewal later must not revive the old validity. */
static void test_paused_master(void **state) {
  struct lease_view v = {0};
  lease_apply(&v, 1, 3, 1000, 1000, 5000);
  assert_true(lease_must_step_down(&v, 20000));
  /* the successor took over: our renewal changes nothing */
  assert_int_equal(lease_apply(&v, 0, 0, 20000, 20001, 5000), LEASE_LOST);
}

static void test_reset(void **state) {
  struct lease_view v = {0};
  lease_apply(&v, 1, 9, 1000, 1000, 5000);
  lease_reset(&v);
  assert_false(v.master);
  /* the next acquisition is a new term, even with the same epoch number */
  assert_int_equal(lease_apply(&v, 1, 9, 2000, 2000, 5000), LEASE_ACQUIRED);
  assert_string_equal(lease_outcome_name(LEASE_KEEP), "keep");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_margin),
      cmocka_unit_test(test_candidate_stays_candidate),
      cmocka_unit_test(test_acquire_renew),
      cmocka_unit_test(test_epoch_change_is_acquire),
      cmocka_unit_test(test_lost),
      cmocka_unit_test(test_error_keeps_then_expires),
      cmocka_unit_test(test_paused_master),
      cmocka_unit_test(test_reset),
  };
  return cmocka_run_group_tests_name("lease", tests, NULL, NULL);
}
