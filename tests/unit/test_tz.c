/* Unit tests of time zones (TZif + POSIX footer) and of cron across
 * daylight-saving changes. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sched/civil.h"
#include "sched/cron.h"
#include "sched/tz.h"

static int64_t at(const char *s) {
  struct civil c;
  assert_int_equal(civil_parse(s, &c), 0);
  return civil_to_epoch(&c);
}

static struct tz *load(const char *name) {
  char err[256];
  struct tz *z = tz_load(name, err, sizeof(err));
  if (z == NULL) fail_msg("%s: %s", name, err);
  return z;
}

static void test_offsets(void **state) {
  struct tz *p = load("Europe/Paris"), *ny = load("America/New_York"),
            *syd = load("Australia/Sydney"), *kol = load("Asia/Kolkata"),
            *utc = load("UTC");
  assert_int_equal(tz_offset(p, at("2026-01-15 12:00:00")), 3600);
  assert_int_equal(tz_offset(p, at("2026-07-15 12:00:00")), 7200);
  assert_int_equal(tz_offset(ny, at("2026-01-15 12:00:00")), -5 * 3600);
  assert_int_equal(tz_offset(ny, at("2026-07-15 12:00:00")), -4 * 3600);
  assert_int_equal(tz_offset(syd, at("2026-01-15 12:00:00")), 11 * 3600);
  assert_int_equal(tz_offset(syd, at("2026-07-15 12:00:00")), 10 * 3600);
  assert_int_equal(tz_offset(kol, at("2026-07-15 12:00:00")), 19800);
  assert_int_equal(tz_offset(utc, at("2026-07-15 12:00:00")), 0);
  /* far future: the POSIX footer rule */
  assert_int_equal(tz_offset(p, at("2100-01-15 12:00:00")), 3600);
  assert_int_equal(tz_offset(p, at("2100-07-15 12:00:00")), 7200);
  assert_int_equal(tz_offset(syd, at("2150-07-15 12:00:00")), 10 * 3600);
  assert_int_equal(tz_offset(syd, at("2150-01-15 12:00:00")), 11 * 3600);
  /* exact transition: Paris 2027-03-28 01:00 UTC */
  assert_int_equal(tz_offset(p, at("2027-03-28 00:59:59")), 3600);
  assert_int_equal(tz_offset(p, at("2027-03-28 01:00:00")), 7200);
  assert_int_equal(tz_offset(p, at("2090-03-26 00:59:59")), 3600);
  assert_int_equal(tz_offset(p, at("2090-03-26 01:00:00")), 7200);
  tz_free(p);
  tz_free(ny);
  tz_free(syd);
  tz_free(kol);
  tz_free(utc);
}

static void test_gaps_and_overlaps(void **state) {
  struct tz *p = load("Europe/Paris");
  int64_t u[2];
  /* 02:30 does not exist on 2027-03-28 */
  assert_int_equal(tz_to_utc(p, at("2027-03-28 02:30:00"), u), 0);
  assert_int_equal(tz_to_utc(p, at("2027-03-28 03:30:00"), u), 1);
  assert_int_equal(u[0], at("2027-03-28 01:30:00"));
  /* 02:30 happens twice on 2027-10-31 */
  assert_int_equal(tz_to_utc(p, at("2027-10-31 02:30:00"), u), 2);
  assert_int_equal(u[0], at("2027-10-31 00:30:00"));
  assert_int_equal(u[1], at("2027-10-31 01:30:00"));
  assert_int_equal(tz_to_utc(p, at("2027-06-01 12:00:00"), u), 1);
  assert_int_equal(u[0], at("2027-06-01 10:00:00"));
  tz_free(p);
}

static void test_bad_zones(void **state) {
  char err[256];
  assert_null(tz_load("Mars/Olympus_Mons", err, sizeof(err)));
  assert_non_null(strstr(err, "unknown time zone"));
  assert_null(tz_load("../../etc/passwd", err, sizeof(err)));
  assert_null(tz_load("/etc/passwd", err, sizeof(err)));
  assert_null(tz_load("Europe/Paris;rm", err, sizeof(err)));
  struct tz *z = tz_load(NULL, err, sizeof(err)); /* the node's own */
  assert_non_null(z);
  tz_free(z);
}

/* Fire times of expr in zone after `from` (local), as local strings. */
static void expect_fires(const char *zone, const char *expr, const char *from,
                         const char *const *want, int n) {
  struct tz *z = load(zone);
  struct cron c;
  char err[256];
  if (cron_parse(expr, &c, err, sizeof(err)) != 0) fail_msg("%s", err);
  int64_t u[2];
  assert_true(tz_to_utc(z, at(from), u) >= 1);
  int64_t t = u[0];
  for (int i = 0; i < n; i++) {
    assert_int_equal(cron_next_utc(&c, z, t, &t), 0);
    struct civil lc;
    char b[20];
    civil_from_epoch(t + tz_offset(z, t), &lc);
    civil_format(&lc, b);
    if (strcmp(b, want[i]) != 0)
      fail_msg("%s in %s: #%d is %s, expected %s", expr, zone, i + 1, b, want[i]);
  }
  tz_free(z);
}

static void test_cron_across_dst(void **state) {
  /* daily 02:30 in Paris: skipped the day it does not exist, once the day
   * it happens twice */
  static const char *const spring[] = {"2027-03-27 02:30:00",
                                       "2027-03-29 02:30:00"};
  expect_fires("Europe/Paris", "0 30 2 * * ?", "2027-03-27 00:00:00", spring, 2);
  static const char *const fall[] = {"2027-10-30 02:30:00", "2027-10-31 02:30:00",
                                     "2027-11-01 02:30:00"};
  expect_fires("Europe/Paris", "0 30 2 * * ?", "2027-10-30 00:00:00", fall, 3);
  /* hourly in New York across the spring gap: 02:00 does not exist */
  static const char *const hourly[] = {"2027-03-14 01:00:00", "2027-03-14 03:00:00",
                                       "2027-03-14 04:00:00"};
  expect_fires("America/New_York", "0 * * * *", "2027-03-14 00:30:00", hourly, 3);
  /* the same expression in two zones */
  static const char *const tokyo[] = {"2026-11-24 09:00:00", "2026-11-25 09:00:00"};
  expect_fires("Asia/Tokyo", "0 9 * * *", "2026-11-23 10:00:00", tokyo, 2);
  static const char *const utc[] = {"2026-11-23 09:00:00"};
  expect_fires("UTC", "0 9 * * *", "2026-11-23 08:00:00", utc, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_offsets),
      cmocka_unit_test(test_gaps_and_overlaps),
      cmocka_unit_test(test_bad_zones),
      cmocka_unit_test(test_cron_across_dst),
  };
  return cmocka_run_group_tests_name("tz", tests, NULL, NULL);
}
