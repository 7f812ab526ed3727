/* Unit tests of the cron engine: both dialects, every field, specials,
 * leap years, the year field, invalid input; and a cross-check of the
 * field-by-field search against a brute-force minute scan. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sched/cron.h"

struct next_case {
  const char *expr;
  const char *from;
  const char *want[4]; /* the next fire times, NULL-terminated */
};

/* 2026-11-23 is a Monday; 2028 is a leap year. */
static const struct next_case next_cases[] = {
    /* Quartz: seconds, minutes, hours */
    {"* * * * * ?", "2026-11-23 10:00:00", {"2026-11-23 10:00:01", "2026-11-23 10:00:02"}},
    {"*/15 * * * * ?", "2026-11-23 10:00:50", {"2026-11-23 10:01:00", "2026-11-23 10:01:15"}},
    {"5/20 * * * * ?", "2026-11-23 10:00:00", {"2026-11-23 10:00:05", "2026-11-23 10:00:25", "2026-11-23 10:00:45", "2026-11-23 10:01:05"}},
    {"0 * * * * ?", "2026-11-23 10:00:00", {"2026-11-23 10:01:00", "2026-11-23 10:02:00"}},
    {"30 10 * * * ?", "2026-11-23 10:10:30", {"2026-11-23 11:10:30"}},
    {"0 0/5 14 * * ?", "2026-11-23 14:56:00", {"2026-11-24 14:00:00", "2026-11-24 14:05:00"}},
    {"0 0/5 14,18 * * ?", "2026-11-23 14:56:00", {"2026-11-23 18:00:00", "2026-11-23 18:05:00"}},
    {"0 0-5 14 * * ?", "2026-11-23 14:04:00", {"2026-11-23 14:05:00", "2026-11-24 14:00:00"}},
    {"0 10,44 14 ? 3 WED", "2026-11-23 00:00:00", {"2027-03-03 14:10:00", "2027-03-03 14:44:00", "2027-03-10 14:10:00"}},
    {"0 15 10 ? * MON-FRI", "2026-11-27 10:15:00", {"2026-11-30 10:15:00", "2026-12-01 10:15:00"}},
    {"0 0 12 * * ?", "2026-11-23 12:00:00", {"2026-11-24 12:00:00"}},
    {"0 15 10 * * ? *", "2026-11-23 10:14:59", {"2026-11-23 10:15:00"}},
    {"0 0 22-2 * * ?", "2026-11-23 21:00:00", {"2026-11-23 22:00:00", "2026-11-23 23:00:00", "2026-11-24 00:00:00", "2026-11-24 01:00:00"}},
    {"0 0 */7 * * ?", "2026-11-23 15:00:00", {"2026-11-23 21:00:00", "2026-11-24 00:00:00", "2026-11-24 07:00:00"}},
    {"59 59 23 31 12 ? *", "2026-11-23 00:00:00", {"2026-12-31 23:59:59", "2027-12-31 23:59:59"}},
    /* Quartz: day of month and its specials */
    {"0 0 0 1 * ?", "2026-11-23 00:00:00", {"2026-12-01 00:00:00", "2027-01-01 00:00:00"}},
    {"0 0 0 31 * ?", "2026-11-23 00:00:00", {"2026-12-31 00:00:00", "2027-01-31 00:00:00", "2027-03-31 00:00:00"}},
    {"0 0 0 30 2 ?", "2026-01-01 00:00:00", {NULL}},
    {"0 0 0 29 2 ?", "2026-01-01 00:00:00", {"2028-02-29 00:00:00", "2032-02-29 00:00:00"}},
    {"0 0 0 L * ?", "2026-11-23 00:00:00", {"2026-11-30 00:00:00", "2026-12-31 00:00:00", "2027-01-31 00:00:00", "2027-02-28 00:00:00"}},
    {"0 0 0 L 2 ?", "2027-03-01 00:00:00", {"2028-02-29 00:00:00", "2029-02-28 00:00:00"}},
    {"0 0 0 L-3 * ?", "2026-11-23 00:00:00", {"2026-11-27 00:00:00", "2026-12-28 00:00:00", "2027-01-28 00:00:00", "2027-02-25 00:00:00"}},
    {"0 0 0 L-30 * ?", "2026-11-23 00:00:00", {"2026-12-01 00:00:00", "2027-01-01 00:00:00", "2027-03-01 00:00:00"}},
    {"0 0 0 LW * ?", "2026-11-23 00:00:00", {"2026-11-30 00:00:00", "2026-12-31 00:00:00", "2027-01-29 00:00:00", "2027-02-26 00:00:00"}},
    {"0 0 0 15W * ?", "2026-11-23 00:00:00", {"2026-12-15 00:00:00", "2027-01-15 00:00:00", "2027-02-15 00:00:00", "2027-03-15 00:00:00"}},
    {"0 0 0 15W * ?", "2027-04-16 00:00:00", {"2027-05-14 00:00:00", "2027-06-15 00:00:00"}},
    {"0 0 0 1W * ?", "2026-11-23 00:00:00", {"2026-12-01 00:00:00", "2027-01-01 00:00:00", "2027-02-01 00:00:00"}},
    {"0 0 0 1W * ?", "2027-04-01 00:00:00", {"2027-05-03 00:00:00"}},
    {"0 0 0 31W * ?", "2027-01-01 00:00:00", {"2027-01-29 00:00:00", "2027-03-31 00:00:00"}},
    {"0 0 0 1-7 * ?", "2026-11-30 00:00:00", {"2026-12-01 00:00:00", "2026-12-02 00:00:00"}},
    {"0 0 0 */10 * ?", "2026-11-22 00:00:00", {"2026-12-01 00:00:00", "2026-12-11 00:00:00", "2026-12-21 00:00:00", "2026-12-31 00:00:00"}},
    /* Quartz: day of week (1 = Sunday) and its specials */
    {"0 0 0 ? * 1", "2026-11-23 00:00:00", {"2026-11-29 00:00:00", "2026-12-06 00:00:00"}},
    {"0 0 0 ? * 7", "2026-11-23 00:00:00", {"2026-11-28 00:00:00"}},
    {"0 0 0 ? * SUN,SAT", "2026-11-23 00:00:00", {"2026-11-28 00:00:00", "2026-11-29 00:00:00", "2026-12-05 00:00:00"}},
    {"0 0 0 ? * sat-sun", "2026-11-23 00:00:00", {"2026-11-28 00:00:00", "2026-11-29 00:00:00"}},
    {"0 0 0 ? * FRI-MON", "2026-11-24 00:00:00", {"2026-11-27 00:00:00", "2026-11-28 00:00:00", "2026-11-29 00:00:00", "2026-11-30 00:00:00"}},
    {"0 0 0 ? * L", "2026-11-23 00:00:00", {"2026-11-28 00:00:00", "2026-12-05 00:00:00"}},
    {"0 15 10 ? * 6L", "2026-11-23 00:00:00", {"2026-11-27 10:15:00", "2026-12-25 10:15:00", "2027-01-29 10:15:00"}},
    {"0 0 0 ? * FRIL", "2026-11-23 00:00:00", {"2026-11-27 00:00:00"}},
    {"0 0 0 ? * 2L", "2026-11-23 00:00:00", {"2026-11-30 00:00:00", "2026-12-28 00:00:00"}},
    {"0 0 0 ? * 6#3", "2026-11-23 00:00:00", {"2026-12-18 00:00:00", "2027-01-15 00:00:00", "2027-02-19 00:00:00"}},
    {"0 0 0 ? * 2#1", "2026-11-23 00:00:00", {"2026-12-07 00:00:00", "2027-01-04 00:00:00"}},
    {"0 0 0 ? * MON#5", "2026-11-23 00:00:00", {"2026-11-30 00:00:00", "2027-03-29 00:00:00", "2027-05-31 00:00:00"}},
    {"0 0 0 ? * 1#5", "2027-01-01 00:00:00", {"2027-01-31 00:00:00", "2027-05-30 00:00:00"}},
    /* Quartz: `*` beside a restricted day field reads as `?` */
    {"0 0 12 * * MON", "2026-11-23 12:00:00", {"2026-11-30 12:00:00"}},
    {"0 0 12 15 * *", "2026-11-23 12:00:00", {"2026-12-15 12:00:00"}},
    /* Quartz: months, names and the year field */
    {"0 0 0 1 JAN ?", "2026-11-23 00:00:00", {"2027-01-01 00:00:00", "2028-01-01 00:00:00"}},
    {"0 0 0 1 jan,Jul ?", "2026-11-23 00:00:00", {"2027-01-01 00:00:00", "2027-07-01 00:00:00"}},
    {"0 0 0 1 NOV-FEB ?", "2026-11-23 00:00:00", {"2026-12-01 00:00:00", "2027-01-01 00:00:00", "2027-02-01 00:00:00", "2027-11-01 00:00:00"}},
    {"0 0 0 1 */4 ?", "2026-11-23 00:00:00", {"2027-01-01 00:00:00", "2027-05-01 00:00:00", "2027-09-01 00:00:00"}},
    {"0 0 0 1 1 ? 2030", "2026-11-23 00:00:00", {"2030-01-01 00:00:00", NULL}},
    {"0 0 0 1 1 ? 2030/5", "2026-11-23 00:00:00", {"2030-01-01 00:00:00", "2035-01-01 00:00:00", "2040-01-01 00:00:00"}},
    {"0 0 0 1 1 ? 2027-2028", "2026-11-23 00:00:00", {"2027-01-01 00:00:00", "2028-01-01 00:00:00", NULL}},
    {"0 0 0 1 1 ? 2020", "2026-11-23 00:00:00", {NULL}},
    {"0 0 0 1 1 ? 2199", "2198-06-01 00:00:00", {"2199-01-01 00:00:00", NULL}},
    {"0 0 0 29 2 ? 2100", "2026-01-01 00:00:00", {NULL}},
    {"0 0 0 29 2 ? 2000-2199", "2096-03-01 00:00:00", {"2104-02-29 00:00:00"}},
    /* Unix: 5 fields, at second 0 */
    {"* * * * *", "2026-11-23 10:00:30", {"2026-11-23 10:01:00", "2026-11-23 10:02:00"}},
    {"*/20 * * * *", "2026-11-23 10:00:00", {"2026-11-23 10:20:00", "2026-11-23 10:40:00", "2026-11-23 11:00:00"}},
    {"5 4 * * *", "2026-11-23 04:05:00", {"2026-11-24 04:05:00"}},
    {"0 22 * * 1-5", "2026-11-27 22:00:00", {"2026-11-30 22:00:00"}},
    {"0 0 * * 0", "2026-11-23 00:00:00", {"2026-11-29 00:00:00"}},
    {"0 0 * * 7", "2026-11-23 00:00:00", {"2026-11-29 00:00:00"}},
    {"0 0 * * sun", "2026-11-23 00:00:00", {"2026-11-29 00:00:00"}},
    {"0 0 * * 5-7", "2026-11-23 00:00:00", {"2026-11-27 00:00:00", "2026-11-28 00:00:00", "2026-11-29 00:00:00"}},
    {"0 0 1,15 * 3", "2026-11-23 00:00:00", {"2026-11-25 00:00:00", "2026-12-01 00:00:00", "2026-12-02 00:00:00", "2026-12-09 00:00:00"}},
    {"0 0 */10 * *", "2026-11-23 00:00:00", {"2026-12-01 00:00:00", "2026-12-11 00:00:00"}},
    {"0 0 */10 * 1", "2026-11-23 00:00:00", {"2026-12-21 00:00:00", "2027-01-11 00:00:00", "2027-02-01 00:00:00", "2027-03-01 00:00:00"}},
    {"0 0 13 * 5", "2026-11-23 00:00:00", {"2026-11-27 00:00:00", "2026-12-04 00:00:00", "2026-12-11 00:00:00", "2026-12-13 00:00:00"}},
    {"23 0-20/2 * * *", "2026-11-23 19:00:00", {"2026-11-23 20:23:00", "2026-11-24 00:23:00"}},
    {"0 0 1 1 *", "2026-11-23 00:00:00", {"2027-01-01 00:00:00"}},
    {"0 12 * JAN,jun mon", "2026-11-23 00:00:00", {"2027-01-04 12:00:00"}},
    {"0 0 31 2 *", "2026-11-23 00:00:00", {NULL}},
    {"59 23 28-31 * *", "2027-02-27 00:00:00", {"2027-02-28 23:59:00", "2027-03-28 23:59:00"}},
    {"30 2 * * *", "2026-12-31 02:31:00", {"2027-01-01 02:30:00"}},
};

/* want[] lists the next times in order; a NULL ends the check, and a
 * NULL first means "never fires". */
static void check_next_case(const struct next_case *k) {
  struct cron c;
  char err[256], b[20];
  struct civil t, got;
  if (cron_parse(k->expr, &c, err, sizeof(err)) != 0)
    fail_msg("'%s' rejected: %s", k->expr, err);
  assert_int_equal(civil_parse(k->from, &t), 0);
  if (k->want[0] == NULL) {
    if (cron_next(&c, &t, &got) == 0) {
      civil_format(&got, b);
      fail_msg("'%s' from %s: got %s, expected none", k->expr, k->from, b);
    }
    return;
  }
  for (int i = 0; i < 4 && k->want[i] != NULL; i++) {
    if (cron_next(&c, &t, &got) != 0)
      fail_msg("'%s' from %s: no next time, expected %s", k->expr, k->from,
               k->want[i]);
    civil_format(&got, b);
    if (strcmp(b, k->want[i]) != 0)
      fail_msg("'%s' from %s: #%d is %s, expected %s", k->expr, k->from,
               i + 1, b, k->want[i]);
    assert_true(cron_matches(&c, &got));
    t = got;
  }
}

static void test_next_table(void **state) {
  for (size_t i = 0; i < sizeof(next_cases) / sizeof(next_cases[0]); i++)
    check_next_case(&next_cases[i]);
}

/* Explicit "none" checks: a NULL after some times means no more. */
static void test_exhausted(void **state) {
  static const char *const none[][2] = {
      {"0 0 0 30 2 ?", "2026-01-01 00:00:00"},
      {"0 0 0 31 2 *", "2026-01-01 00:00:00"},
      {"0 0 0 1 1 ? 2020", "2026-11-23 00:00:00"},
      {"0 0 0 1 1 ? 2030", "2030-01-01 00:00:00"},
      {"0 0 0 1 1 ? 2027-2028", "2028-01-01 00:00:00"},
      {"0 0 0 1 1 ? 2199", "2199-01-01 00:00:00"},
      {"0 0 0 29 2 ? 2100", "2026-01-01 00:00:00"},
      {"0 0 0 31 4,6,9,11 ?", "2026-01-01 00:00:00"},
  };
  for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
    struct cron c;
    char err[256];
    struct civil t, got;
    if (cron_parse(none[i][0], &c, err, sizeof(err)) != 0) fail_msg("%s: %s", none[i][0], err);
    civil_parse(none[i][1], &t);
    if (cron_next(&c, &t, &got) == 0) {
      char b[20];
      civil_format(&got, b);
      fail_msg("'%s' from %s: got %s, expected none", none[i][0], none[i][1], b);
    }
  }
}

struct bad_case {
  const char *expr;
  const char *field; /* must appear at the start of the message */
};

static const struct bad_case bad_cases[] = {
    {"", "expression"},
    {"* * * *", "expression"},
    {"* * * * * * * *", "expression"},
    {"60 * * * * ?", "second"},
    {"-1 * * * * ?", "second"},
    {"0 60 * * * ?", "minute"},
    {"0 0 24 * * ?", "hour"},
    {"0 0 25 * * ?", "hour"},
    {"0 0 0 0 * ?", "day-of-month"},
    {"0 0 0 32 * ?", "day-of-month"},
    {"0 0 0 1 13 ?", "month"},
    {"0 0 0 1 0 ?", "month"},
    {"0 0 0 1 FOO ?", "month"},
    {"0 0 0 ? * 8", "day-of-week"},
    {"0 0 0 ? * 0", "day-of-week"},
    {"0 0 0 ? * FUNDAY", "day-of-week"},
    {"0 0 0 1 1 ? 1969", "year"},
    {"0 0 0 1 1 ? 2200", "year"},
    {"0 0 0 ? * ?", "day-of-week"},
    {"0 0 0 1 * MON", "day-of-week"},
    {"0 0 0 L * 6L", "day-of-week"},
    {"0 0 0 L-31 * ?", "day-of-month"},
    {"0 0 0 L-0 * ?", "day-of-month"},
    {"0 0 0 32W * ?", "day-of-month"},
    {"0 0 0 W * ?", "day-of-month"},
    {"0 0 0 ? * 6#6", "day-of-week"},
    {"0 0 0 ? * 6#0", "day-of-week"},
    {"0 0 0 ? * 9L", "day-of-week"},
    {"0 0 0 1,L * ?", "day-of-month"},
    {"*/0 * * * * ?", "second"},
    {"*/61 * * * * ?", "second"},
    {"0 0/ * * * ?", "minute"},
    {"0 a * * * ?", "minute"},
    {"0 1-x * * * ?", "minute"},
    {"0 1, * * * ?", "minute"},
    {"0 0 ? * * ?", "hour"},
    {"? * * * *", "minute"},
    {"* * ? * *", "day-of-month"},
    {"* * L * *", "day-of-month"},
    {"* * * * 8", "day-of-week"},
    {"* * * * 1#2", "day-of-week"},
    {"* 24 * * *", "hour"},
    {"60 * * * *", "minute"},
    {"* * 0 * *", "day-of-month"},
    {"* * * 13 *", "month"},
    {"* * * * * 1x", "day-of-week"},
    {"1.5 * * * *", "minute"},
};

static void test_invalid(void **state) {
  for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
    struct cron c;
    char err[256] = "";
    if (cron_parse(bad_cases[i].expr, &c, err, sizeof(err)) == 0)
      fail_msg("'%s' was accepted", bad_cases[i].expr);
    size_t n = strlen(bad_cases[i].field);
    if (strncmp(err, bad_cases[i].field, n) != 0 || err[n] != ':')
      fail_msg("'%s': message '%s' does not name %s", bad_cases[i].expr, err,
               bad_cases[i].field);
  }
}

/* Every time cron_next returns matches, and a minute-by-minute scan finds
 * nothing between two consecutive results. */
static const char *const scan_exprs[] = {
    "0 * * * * ?",          "0 */7 * * * ?",       "0 0 * * * ?",
    "0 30 9-17 ? * MON-FRI", "0 0 0 L * ?",         "0 0 12 LW * ?",
    "0 0 6 15W * ?",        "0 0 0 ? * 6L",        "0 0 8 ? * 2#2",
    "0 15 3 L-5 * ?",       "0 0 0 ? * 1,7",       "0 45 23 31 * ?",
    "*/5 * * * *",          "0 0 1,15 * 3",        "0 */3 * * 1-5",
    "30 4 * * 0",           "0 0 */10 * *",        "0 0 29 2 *",
    "59 23 * 2 *",          "0 0 13 * 5",          "0 9-17/4 * * mon-fri",
    "0 0 1 */2 *",          "0 0 0 L * ? 2027",      "0 0 0 29 2 ?",
};

static void test_against_scan(void **state) {
  for (size_t i = 0; i < sizeof(scan_exprs) / sizeof(scan_exprs[0]); i++) {
    struct cron c;
    char err[256];
    if (cron_parse(scan_exprs[i], &c, err, sizeof(err)) != 0)
      fail_msg("%s: %s", scan_exprs[i], err);
    struct civil start, t, got;
    civil_parse("2027-01-25 00:00:00", &start);
    int64_t from = civil_to_epoch(&start), end = from + 45 * 86400;
    t = start;
    int64_t expect = -1;
    for (int64_t s = from + 60; s < end; s += 60) { /* the first match */
      struct civil m;
      civil_from_epoch(s, &m);
      if (cron_matches(&c, &m)) {
        expect = s;
        break;
      }
    }
    while (expect >= 0 && expect < end) {
      if (cron_next(&c, &t, &got) != 0) fail_msg("%s: none", scan_exprs[i]);
      if (civil_to_epoch(&got) != expect) {
        char a[20], b[20];
        struct civil e;
        civil_from_epoch(expect, &e);
        civil_format(&got, a);
        civil_format(&e, b);
        fail_msg("%s: next is %s, scan says %s", scan_exprs[i], a, b);
      }
      t = got;
      int64_t s = expect + 60;
      expect = -1;
      for (; s < end; s += 60) {
        struct civil m;
        civil_from_epoch(s, &m);
        if (cron_matches(&c, &m)) {
          expect = s;
          break;
        }
      }
    }
  }
}

static void test_civil(void **state) {
  struct civil c;
  assert_int_equal(civil_weekday(2026, 11, 23), 1); /* Monday */
  assert_int_equal(civil_weekday(1970, 1, 1), 4);   /* Thursday */
  assert_int_equal(civil_weekday(2000, 2, 29), 2);
  assert_true(civil_leap(2000));
  assert_false(civil_leap(2100));
  assert_true(civil_leap(2028));
  assert_int_equal(civil_days_in_month(2028, 2), 29);
  assert_int_equal(civil_days_in_month(2027, 2), 28);
  civil_from_epoch(0, &c);
  assert_int_equal(c.year, 1970);
  civil_from_epoch(1795395600, &c); /* 2026-11-23 01:00:00 UTC */
  assert_int_equal(c.year, 2026);
  assert_int_equal(c.month, 11);
  assert_int_equal(c.day, 23);
  assert_int_equal(c.hour, 1);
  assert_int_equal(civil_to_epoch(&c), 1795395600);
  assert_int_equal(civil_parse("2026-02-29 00:00:00", &c), -1);
  assert_int_equal(civil_parse("2028-02-29", &c), 0);
  assert_int_equal(civil_parse("2026-11-23T10:11:12", &c), 0);
  assert_int_equal(c.sec, 12);
  assert_int_equal(civil_parse("2026-11-23 24:00:00", &c), -1);
  assert_int_equal(civil_parse("2026-11-23 10:00", &c), -1);
  assert_int_equal(civil_parse("tomorrow", &c), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_civil),
      cmocka_unit_test(test_next_table),
      cmocka_unit_test(test_exhausted),
      cmocka_unit_test(test_invalid),
      cmocka_unit_test(test_against_scan),
  };
  return cmocka_run_group_tests_name("cron", tests, NULL, NULL);
}
