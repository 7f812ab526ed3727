/* Unit tests of worker selection. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sched/select.h"

static const struct select_limits lim = {3000, 0.9, 0.9};

static struct select_worker W(const char *groups, uint32_t running,
                              uint32_t sent, uint32_t max) {
  return (struct select_worker){groups, 100, running, sent, max, 0.1, 0.2};
}

static void test_groups(void **state) {
  assert_true(select_in_group("default", "default"));
  assert_true(select_in_group("a,etl,b", "etl"));
  assert_false(select_in_group("etl2", "etl"));
  assert_false(select_in_group("", "etl"));
  assert_false(select_in_group("etl", "et"));
}

static void test_group_filter_and_reasons(void **state) {
  struct select_worker w[] = {W("default", 0, 0, 4), W("etl", 0, 0, 4)};
  size_t cur = 0;
  enum select_why why;
  assert_int_equal(select_worker(w, 2, "etl", &lim, &cur, &why), 1);
  assert_int_equal(select_worker(w, 2, "gpu", &lim, &cur, &why), -1);
  assert_int_equal(why, SELECT_NO_GROUP);
  w[1].age_ms = 5000;
  assert_int_equal(select_worker(w, 2, "etl", &lim, &cur, &why), -1);
  assert_int_equal(why, SELECT_STALE);
  w[1].age_ms = 0;
  w[1].running = 4;
  assert_int_equal(select_worker(w, 2, "etl", &lim, &cur, &why), -1);
  assert_int_equal(why, SELECT_FULL);
  w[1].running = 0;
  w[1].cpu = 0.95;
  assert_int_equal(select_worker(w, 2, "etl", &lim, &cur, &why), -1);
  assert_int_equal(why, SELECT_OVERLOADED);
  w[1].cpu = 0.1;
  w[1].mem = 0.95;
  assert_int_equal(select_worker(w, 2, "etl", &lim, &cur, &why), -1);
  assert_int_equal(why, SELECT_OVERLOADED);
  assert_string_equal(select_why_text(SELECT_FULL),
                      "the group's workers run all they may");
}

static void test_least_loaded(void **state) {
  struct select_worker w[] = {W("g", 3, 0, 4), W("g", 1, 0, 4), W("g", 2, 0, 4)};
  size_t cur = 0;
  enum select_why why;
  assert_int_equal(select_worker(w, 3, "g", &lim, &cur, &why), 1);
  /* relative to the limit: 2 of 8 beats 1 of 2 */
  struct select_worker v[] = {W("g", 1, 0, 2), W("g", 2, 0, 8)};
  assert_int_equal(select_worker(v, 2, "g", &lim, &cur, &why), 1);
}

/* A burst between heartbeats spreads: what was sent counts. */
static void test_burst_spreads(void **state) {
  struct select_worker w[] = {W("g", 0, 0, 4), W("g", 0, 0, 4), W("g", 0, 0, 4)};
  size_t cur = 0;
  enum select_why why;
  int seen[3] = {0};
  for (int k = 0; k < 9; k++) {
    int i = select_worker(w, 3, "g", &lim, &cur, &why);
    assert_true(i >= 0);
    w[i].sent++;
    seen[i]++;
  }
  assert_int_equal(seen[0], 3);
  assert_int_equal(seen[1], 3);
  assert_int_equal(seen[2], 3);
  for (int k = 0; k < 3; k++) {
    int i = select_worker(w, 3, "g", &lim, &cur, &why);
    w[i].sent++;
  }
  assert_int_equal(select_worker(w, 3, "g", &lim, &cur, &why), -1);
  assert_int_equal(why, SELECT_FULL);
}

static void test_round_robin_among_equals(void **state) {
  struct select_worker w[] = {W("g", 1, 0, 4), W("g", 1, 0, 4), W("g", 1, 0, 4)};
  size_t cur = 0;
  enum select_why why;
  int a = select_worker(w, 3, "g", &lim, &cur, &why);
  int b = select_worker(w, 3, "g", &lim, &cur, &why);
  int c = select_worker(w, 3, "g", &lim, &cur, &why);
  assert_true(a != b && b != c && a != c);
  assert_int_equal(select_worker(w, 3, "g", &lim, &cur, &why), a);
}

static void test_cpu_breaks_ties(void **state) {
  struct select_worker w[] = {W("g", 1, 0, 4), W("g", 1, 0, 4)};
  w[0].cpu = 0.8;
  w[1].cpu = 0.1;
  size_t cur = 1; /* round robin would start at 0 */
  enum select_why why;
  assert_int_equal(select_worker(w, 2, "g", &lim, &cur, &why), 1);
  assert_int_equal(select_worker(NULL, 0, "g", &lim, &cur, &why), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_groups),
      cmocka_unit_test(test_group_filter_and_reasons),
      cmocka_unit_test(test_least_loaded),
      cmocka_unit_test(test_burst_spreads),
      cmocka_unit_test(test_round_robin_among_equals),
      cmocka_unit_test(test_cpu_breaks_ties),
  };
  return cmocka_run_group_tests_name("select", tests, NULL, NULL);
}
