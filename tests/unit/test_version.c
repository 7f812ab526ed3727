/* Unit tests of version (action) generation and hera's dependency
 * matching. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sched/cron.h"
#include "sched/tz.h"
#include "sched/version.h"

static int64_t at(const char *s) {
  struct civil c;
  assert_int_equal(civil_parse(s, &c), 0);
  return civil_to_epoch(&c);
}

static size_t gen(const char *expr, const char *zone, uint32_t job,
                  const char *from, const char *to, struct version *out,
                  size_t cap) {
  struct cron c;
  char err[256];
  if (cron_parse(expr, &c, err, sizeof(err)) < 0) fail_msg("%s", err);
  struct tz *z = tz_load(zone, err, sizeof(err));
  assert_non_null(z);
  int64_t u[2];
  assert_true(tz_to_utc(z, at(from), u) >= 1);
  int64_t f = u[0];
  assert_true(tz_to_utc(z, at(to), u) >= 1);
  size_t n = 0;
  version_for_cron(&c, z, job, f, u[0], out, cap, &n);
  tz_free(z);
  return n;
}

static void test_ids(void **state) {
  struct civil t = {2026, 11, 22, 3, 5, 0};
  assert_int_equal(version_id(&t, 123), 202611220305000123LL);
  assert_int_equal(version_job(202611220305000123LL), 123);
  assert_int_equal(version_day(202611220305000123LL), 20261122);
  t = (struct civil){2199, 12, 31, 23, 59, 0};
  assert_true(version_id(&t, 999999) < INT64_MAX); /* fits */
}

static void test_daily_two_days(void **state) {
  struct version v[16];
  size_t n = gen("0 30 3 * * ?", "UTC", 7, "2026-11-23 00:00:00",
                 "2026-11-25 00:00:00", v, 16);
  assert_int_equal(n, 2);
  assert_int_equal(v[0].id, 202611230330000007LL);
  assert_int_equal(v[1].id, 202611240330000007LL);
  assert_int_equal(v[0].fire_at, at("2026-11-23 03:30:00"));
}

static void test_hourly_and_minutely(void **state) {
  static struct version v[4000];
  assert_int_equal(gen("0 0 * * * ?", "UTC", 1, "2026-11-23 00:00:00",
                       "2026-11-25 00:00:00", v, 4000), 48);
  assert_int_equal(gen("* * * * *", "UTC", 1, "2026-11-23 00:00:00",
                       "2026-11-25 00:00:00", v, 4000), 2880);
  for (size_t i = 1; i < 2880; i++) assert_true(v[i].id > v[i - 1].id);
}

/* every 10 seconds collapses to one version a minute */
static void test_seconds_collapse(void **state) {
  struct version v[100];
  size_t n = gen("*/10 * * * * ?", "UTC", 2, "2026-11-23 10:00:00",
                 "2026-11-23 10:05:00", v, 100);
  assert_int_equal(n, 5);
  assert_int_equal(v[1].id, 202611231001000002LL);
  assert_int_equal(v[1].fire_at, at("2026-11-23 10:01:00"));
}

/* ids carry local time; DST days have 23 or 25 hourly versions */
static void test_time_zone_days(void **state) {
  static struct version v[100];
  assert_int_equal(gen("0 0 * * * ?", "Europe/Paris", 3, "2027-03-28 00:00:00",
                       "2027-03-29 00:00:00", v, 100), 23);
  assert_int_equal(gen("0 0 * * * ?", "Europe/Paris", 3, "2027-10-31 00:00:00",
                       "2027-11-01 00:00:00", v, 100), 24); /* 02:00 once */
  size_t n = gen("0 0 9 * * ?", "Asia/Tokyo", 4, "2026-11-23 00:00:00",
                 "2026-11-24 00:00:00", v, 100);
  assert_int_equal(n, 1);
  assert_int_equal(v[0].id, 202611230900000004LL);
  assert_int_equal(v[0].fire_at, at("2026-11-23 00:00:00")); /* 09:00 JST */
}

static void test_full_output(void **state) {
  struct version v[3];
  struct cron c;
  char err[64];
  cron_parse("* * * * *", &c, err, sizeof(err));
  struct tz *z = tz_load("UTC", err, sizeof(err));
  size_t n = 0;
  assert_int_equal(version_for_cron(&c, z, 1, 0, 3600, v, 3, &n), -1);
  assert_int_equal(n, 3);
  tz_free(z);
}

static struct version V(int64_t ymdhm, uint32_t job) {
  struct version v = {ymdhm * 1000000 + job, 0};
  return v;
}

/* A job after a daily and an hourly job runs once a day (hera). */
static void test_fan_in_fewest_is_base(void **state) {
  struct version daily[] = {V(202611230300LL, 1)};
  struct version hourly[24];
  for (int h = 0; h < 24; h++) hourly[h] = V(202611230000LL + h * 100, 2);
  const struct version *ups[] = {hourly, daily};
  size_t n[] = {24, 1};
  struct version out[24];
  int64_t deps[48];
  assert_int_equal(version_dependent(9, ups, n, 2, out, deps, 24), 1);
  assert_int_equal(out[0].id, 202611230300000009LL);
  assert_int_equal(deps[0], 202611230300000002LL); /* nearest hourly */
  assert_int_equal(deps[1], 202611230300000001LL); /* the base */
}

static void test_tie_goes_to_later_first_id(void **state) {
  struct version a[] = {V(202611230100LL, 1), V(202611231300LL, 1)};
  struct version b[] = {V(202611230200LL, 2), V(202611231400LL, 2)};
  const struct version *ups[] = {a, b};
  size_t n[] = {2, 2};
  struct version out[4];
  int64_t deps[8];
  assert_int_equal(version_dependent(5, ups, n, 2, out, deps, 4), 2);
  assert_int_equal(out[0].id, 202611230200000005LL); /* b's times */
  assert_int_equal(out[1].id, 202611231400000005LL);
  assert_int_equal(deps[0], 202611230100000001LL);
  assert_int_equal(deps[1], 202611230200000002LL);
}

static void test_nearest_tie_is_earlier(void **state) {
  struct version base[] = {V(202611231000LL, 3)};
  struct version other[] = {V(202611230900LL, 4), V(202611231100LL, 4),
                            V(202611231500LL, 4)};
  const struct version *ups[] = {base, other};
  size_t n[] = {1, 3};
  struct version out[2];
  int64_t deps[4];
  assert_int_equal(version_dependent(8, ups, n, 2, out, deps, 2), 1);
  /* 09:00 and 11:00 are equally near in time; ids differ by job only in
   * the last digits, so the earlier one wins */
  assert_int_equal(deps[1], 202611230900000004LL);
}

static void test_empty_upstream_means_none(void **state) {
  struct version a[] = {V(202611230100LL, 1)};
  const struct version *ups[] = {a, NULL};
  size_t n[] = {1, 0};
  struct version out[2];
  int64_t deps[4];
  assert_int_equal(version_dependent(5, ups, n, 2, out, deps, 2), 0);
}

static void test_single_upstream_chain(void **state) {
  struct version a[] = {V(202611230100LL, 1), V(202611230200LL, 1),
                        V(202611230300LL, 1)};
  const struct version *ups[] = {a};
  size_t n[] = {3};
  struct version out[3];
  int64_t deps[3];
  assert_int_equal(version_dependent(2, ups, n, 1, out, deps, 3), 3);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(out[i].id, a[i].id + 1);
    assert_int_equal(deps[i], a[i].id);
  }
  assert_int_equal(version_dependent(2, ups, n, 1, out, deps, 2), 2); /* cap */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ids),
      cmocka_unit_test(test_daily_two_days),
      cmocka_unit_test(test_hourly_and_minutely),
      cmocka_unit_test(test_seconds_collapse),
      cmocka_unit_test(test_time_zone_days),
      cmocka_unit_test(test_full_output),
      cmocka_unit_test(test_fan_in_fewest_is_base),
      cmocka_unit_test(test_tie_goes_to_later_first_id),
      cmocka_unit_test(test_nearest_tie_is_earlier),
      cmocka_unit_test(test_empty_upstream_means_none),
      cmocka_unit_test(test_single_upstream_chain),
  };
  return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}
