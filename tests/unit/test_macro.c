/* Unit tests of script macro expansion: variables (nested, unknown,
 * loops), ${yesterday}, hera's ${zdt...} date chains across month, year
 * and leap-day ends, SimpleDateFormat patterns, errors and their
 * messages, and text that must pass through byte for byte. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sched/macro.h"

/* 2026-11-23 is a Monday, day 327 of the year. */
static const struct civil anchor = {2026, 11, 23, 10, 30, 15};

static void expect_at(const char *script, const struct civil *at,
                      const struct macro_var *vars, size_t n,
                      const char *want) {
  char err[256];
  char *got = macro_expand(script, at, vars, n, err, sizeof(err));
  if (got == NULL) fail_msg("%s: %s", script, err);
  assert_string_equal(got, want);
  free(got);
}

static void expect(const char *script, const char *want) {
  expect_at(script, &anchor, NULL, 0, want);
}

/* The date macro expr (the text inside ${}) evaluated at the given time. */
static void expect_date(const char *at, const char *expr, const char *want) {
  struct civil c;
  assert_int_equal(civil_parse(at, &c), 0);
  char script[256];
  snprintf(script, sizeof(script), "${%s}", expr);
  expect_at(script, &c, NULL, 0, want);
}

/* Expansion fails and the message contains part. */
static void expect_err_vars(const char *script, const struct macro_var *vars,
                            size_t n, const char *part) {
  char err[256] = "unset";
  char *got = macro_expand(script, &anchor, vars, n, err, sizeof(err));
  if (got != NULL) fail_msg("%s: expanded to '%s'", script, got);
  if (strstr(err, part) == NULL)
    fail_msg("%s: error '%s' lacks '%s'", script, err, part);
}

static void expect_err(const char *script, const char *part) {
  expect_err_vars(script, NULL, 0, part);
}

static void test_plain_vars(void **state) {
  (void)state;
  const struct macro_var v[] = {{"a", "1"}, {"name", "two words"}, {"e", ""}};
  expect_at("echo ${a} ${name}|${e}|", &anchor, v, 3, "echo 1 two words||");
  expect_at("${a}${a}", &anchor, v, 3, "11");
  expect_at("${a}", &anchor, v, 3, "1");
}

static void test_first_key_wins(void **state) {
  (void)state;
  /* job first, then its folder, then the folder's parent */
  const struct macro_var v[] = {
      {"db", "job_db"}, {"db", "folder_db"}, {"root", "/r"}, {"root", "/x"}};
  expect_at("${db} ${root}", &anchor, v, 4, "job_db /r");
}

static void test_nested_var(void **state) {
  (void)state;
  const struct macro_var v[] = {
      {"a", "${b}"},
      {"b", "hello"},
      {"day", "${zdt.addDay(-1).format(\"yyyyMMdd\")}"},
      {"y", "${yesterday}"},
      {"n", "${nope}"},
  };
  expect_at("${a}", &anchor, v, 5, "hello");
  expect_at("${day}", &anchor, v, 5, "20261122");
  expect_at("${y}", &anchor, v, 5, "20261122");
  expect_at("${n}", &anchor, v, 5, "${nope}"); /* unknown: as it is */
}

static void test_nested_depth_limit(void **state) {
  (void)state;
  /* v0 -> v1 -> ... -> v10 = "end": 10 re-expansions are allowed */
  struct macro_var v[12];
  char keys[12][8], vals[12][16];
  for (int i = 0; i < 12; i++) {
    snprintf(keys[i], sizeof(keys[i]), "v%d", i);
    snprintf(vals[i], sizeof(vals[i]), "${v%d}", i + 1);
    v[i] = (struct macro_var){keys[i], vals[i]};
  }
  v[10].value = "end";
  expect_at("${v0}", &anchor, v, 11, "end");
  v[10].value = vals[10]; /* one more level */
  v[11].value = "end";
  expect_err_vars("${v0}", v, 12, "variable loop");
}

static void test_variable_loop(void **state) {
  (void)state;
  const struct macro_var v[] = {{"a", "${b}"}, {"b", "${a}"}, {"s", "${s}"}};
  expect_err_vars("x ${a}", v, 3, "bad macro at offset 2: variable loop");
  expect_err_vars("${s}", v, 3, "variable loop");
}

static void test_value_inserted_as_is(void **state) {
  (void)state;
  /* only a value that is exactly one token is expanded again */
  const struct macro_var v[] = {{"a", "x${b}"}, {"b", "B"}, {"c", "$"}};
  expect_at("${a} ${c}{b}", &anchor, v, 3, "x${b} ${b}");
}

static void test_unknown_kept(void **state) {
  (void)state;
  expect("${nope} ${HOME} ${1:-x} ${arr[@]} ${}",
         "${nope} ${HOME} ${1:-x} ${arr[@]} ${}");
  expect("${ zdt} ${zdt .addDay(1)} ${zdtx}",
         "${ zdt} ${zdt .addDay(1)} ${zdtx}");
  /* the text after an unknown "${" is still scanned */
  expect("${x:-${yesterday}}", "${x:-20261122}");
}

static void test_yesterday(void **state) {
  (void)state;
  expect("d=${yesterday}", "d=20261122");
  expect_date("2026-01-01 00:00:00", "yesterday", "20251231");
  expect_date("2024-03-01 23:59:59", "yesterday", "20240229");
  expect_date("2023-03-01 12:00:00", "yesterday", "20230228");
}

static void test_yesterday_variable_wins(void **state) {
  (void)state;
  const struct macro_var v[] = {{"yesterday", "19991231"}};
  expect_at("${yesterday}", &anchor, v, 1, "19991231");
}

static void test_add_day_month_and_year_ends(void **state) {
  (void)state;
  const char *f = ".format(\"yyyyMMdd\")";
  char e[128];
  snprintf(e, sizeof(e), "zdt.addDay(1)%s", f);
  expect_date("2026-01-31 10:00:00", e, "20260201");
  expect_date("2026-04-30 10:00:00", e, "20260501");
  expect_date("2026-12-31 23:59:59", e, "20270101");
  snprintf(e, sizeof(e), "zdt.addDay(-1)%s", f);
  expect_date("2027-01-01 00:00:00", e, "20261231");
  expect_date("2026-03-01 00:00:00", e, "20260228");
  snprintf(e, sizeof(e), "zdt.addDay(-365)%s", f);
  expect_date("2026-11-23 00:00:00", e, "20251123");
}

static void test_add_day_leap(void **state) {
  (void)state;
  const char *f = ".format(\"yyyy-MM-dd\")";
  char e[128];
  snprintf(e, sizeof(e), "zdt.addDay(1)%s", f);
  expect_date("2024-02-28 00:00:00", e, "2024-02-29");
  expect_date("2024-02-29 00:00:00", e, "2024-03-01");
  expect_date("2023-02-28 00:00:00", e, "2023-03-01");
  expect_date("2100-02-28 00:00:00", e, "2100-03-01"); /* not leap */
  expect_date("2000-02-28 00:00:00", e, "2000-02-29"); /* leap */
  snprintf(e, sizeof(e), "zdt.addDay(-1)%s", f);
  expect_date("2024-03-01 00:00:00", e, "2024-02-29");
  snprintf(e, sizeof(e), "zdt.addDay(366)%s", f);
  expect_date("2024-01-01 00:00:00", e, "2025-01-01");
}

static void test_add_month_clamps(void **state) {
  (void)state;
  const char *f = ".format(\"yyyy-MM-dd\")";
  char e[128];
  snprintf(e, sizeof(e), "zdt.addMonth(1)%s", f);
  expect_date("2026-01-31 00:00:00", e, "2026-02-28");
  expect_date("2024-01-31 00:00:00", e, "2024-02-29");
  expect_date("2026-08-31 00:00:00", e, "2026-09-30");
  expect_date("2026-12-15 00:00:00", e, "2027-01-15");
  snprintf(e, sizeof(e), "zdt.addMonth(-1)%s", f);
  expect_date("2026-03-31 00:00:00", e, "2026-02-28");
  expect_date("2026-01-15 00:00:00", e, "2025-12-15");
  snprintf(e, sizeof(e), "zdt.addMonth(-13)%s", f);
  expect_date("2026-01-31 00:00:00", e, "2024-12-31");
  snprintf(e, sizeof(e), "zdt.addMonth(25)%s", f);
  expect_date("2026-11-30 00:00:00", e, "2028-12-30");
}

static void test_add_year_leap_day(void **state) {
  (void)state;
  expect_date("2024-02-29 08:00:00", "zdt.addYear(1).format(\"yyyy-MM-dd\")",
              "2025-02-28");
  expect_date("2024-02-29 08:00:00", "zdt.addYear(4).format(\"yyyy-MM-dd\")",
              "2028-02-29");
  expect_date("2024-02-29 08:00:00", "zdt.addYear(-1)", "2023-02-28 08:00:00");
}

static void test_add_hour_across_midnight(void **state) {
  (void)state;
  expect_date("2026-12-31 23:30:00", "zdt.addHour(1)", "2027-01-01 00:30:00");
  expect_date("2026-03-01 00:30:00", "zdt.addHour(-1)", "2026-02-28 23:30:00");
  expect_date("2026-11-23 10:30:15", "zdt.addHour(24)", "2026-11-24 10:30:15");
  expect_date("2026-11-23 00:30:00", "zdt.addMinute(-31)",
              "2026-11-22 23:59:00");
  expect_date("2026-11-23 23:59:59", "zdt.addSecond(1)", "2026-11-24 00:00:00");
}

static void test_chained_calls(void **state) {
  (void)state;
  /* last day of the previous month */
  expect("${zdt.addMonth(-1).set(5,1).addDay(-1).format(\"yyyyMMdd\")}",
         "20260930");
  expect("${zdt.addDay(-1).addHour(-10).addMinute(-30)"
         ".format(\"yyyyMMddHHmm\")}",
         "202611220000");
  expect("${zdt.addYear(1).addMonth(1).addDay(9)}", "2028-01-01 10:30:15");
}

static void test_format_compact(void **state) {
  (void)state;
  expect("p_${zdt.format(\"yyyyMMdd\")}_x", "p_20261123_x");
  expect("${zdt.format(\"yyyyMMddHHmmss\")}", "20261123103015");
  expect("${zdt.format(\"\")}", "");
}

static void test_format_default_and_full(void **state) {
  (void)state;
  expect("${zdt.format(\"yyyy-MM-dd HH:mm:ss\")}", "2026-11-23 10:30:15");
  expect("${zdt}", "2026-11-23 10:30:15"); /* bare */
  expect("${zdt.addDay(2)}", "2026-11-25 10:30:15"); /* no terminal */
}

static void test_format_yy(void **state) {
  (void)state;
  expect("${zdt.format(\"yy/MM\")}", "26/11");
  expect_date("2009-01-02 00:00:00", "zdt.format(\"yyMMdd\")", "090102");
  expect_date("2009-01-02 00:00:00", "zdt.format(\"y yyy yyyyy\")",
              "2009 2009 02009");
}

static void test_format_unpadded(void **state) {
  (void)state;
  expect_date("2026-03-05 07:08:09", "zdt.format(\"M/d H:m:s\")", "3/5 7:8:9");
  expect_date("2026-11-23 17:38:49", "zdt.format(\"M/d H:m:s\")",
              "11/23 17:38:49");
}

static void test_format_quoted_literals(void **state) {
  (void)state;
  expect("${zdt.format(\"yyyy-MM-dd'T'HH:mm:ss\")}", "2026-11-23T10:30:15");
  expect("${zdt.format(\"'day' d 'of' yyyy\")}", "day 23 of 2026");
  expect("${zdt.format(\"HH 'o''clock' ''\")}", "10 o'clock '");
  expect("${zdt.format(\"'{'yyyy'}'\")}", "{2026}"); /* braces in strings */
}

static void test_format_text_fields(void **state) {
  (void)state;
  expect("${zdt.format(\"EEE EEEE MMM MMMM D\")}",
         "Mon Monday Nov November 327");
  expect_date("2026-11-23 15:05:00", "zdt.format(\"hh:mm a k K\")",
              "03:05 PM 15 3");
  expect_date("2026-11-23 00:05:00", "zdt.format(\"h a k K SSS\")",
              "12 AM 24 0 000");
}

static void test_get_time(void **state) {
  (void)state;
  expect("${zdt.getTime()}", "1795429815"); /* the anchor read as UTC */
  expect("${zdt.getMillis()}", "1795429815000");
  expect("${zdt.addDay(1).getTime()}", "1795516215");
  expect_date("1970-01-01 00:00:00", "zdt.getTime()", "0");
  expect_date("1970-01-01 00:00:00", "zdt.addHour(-1).getTime()", "-3600");
}

static void test_add_field_numbers(void **state) {
  (void)state;
  expect("${zdt.add(2,-1).format(\"yyyyMMdd\")}", "20261023");
  expect("${zdt.add(1,1)}", "2027-11-23 10:30:15");
  expect("${zdt.add(5,8)}", "2026-12-01 10:30:15");
  expect("${zdt.add(6,-1)}", "2026-11-22 10:30:15");
  expect("${zdt.add(3,1)}", "2026-11-30 10:30:15");
  expect("${zdt.add(10,14)}", "2026-11-24 00:30:15");
  expect("${zdt.add(11,-11)}", "2026-11-22 23:30:15");
  expect("${zdt.add(12,30)}", "2026-11-23 11:00:15");
  expect("${zdt.add(13,-16)}", "2026-11-23 10:29:59");
  expect_date("2026-03-31 00:00:00", "zdt.add(2,-1)", "2026-02-28 00:00:00");
}

static void test_set_field_numbers(void **state) {
  (void)state;
  expect("${zdt.set(5,1).format(\"yyyyMMdd\")}", "20261101");
  expect("${zdt.set(5,0).format(\"yyyyMMdd\")}", "20261031"); /* lenient */
  expect("${zdt.set(2,0)}", "2026-01-23 10:30:15"); /* Java: 0 = January */
  expect("${zdt.set(1,2020).set(6,60)}", "2020-02-29 10:30:15");
  expect("${zdt.set(11,0).set(12,0).set(13,0)}", "2026-11-23 00:00:00");
  expect("${zdt.set(11,25)}", "2026-11-24 01:30:15");
  expect_date("2026-11-23 14:00:00", "zdt.set(10,1)", "2026-11-23 13:00:00");
  /* Java's lenient set: Feb 31 rolls into March */
  expect_date("2026-01-31 00:00:00", "zdt.set(2,1)", "2026-03-03 00:00:00");
  expect_date("2026-01-31 00:00:00", "zdt.set(2,12)", "2027-01-31 00:00:00");
}

static void test_whitespace_in_parentheses(void **state) {
  (void)state;
  expect("${zdt.add( 2 , -1 ).format(  \"yyyyMMdd\"\t)}", "20261023");
  expect("${zdt.getTime( )}", "1795429815");
}

static void test_error_unknown_method(void **state) {
  (void)state;
  char err[256];
  char *got = macro_expand("echo hello world ${zdt.adDay(-1)}", &anchor, NULL,
                           0, err, sizeof(err));
  assert_null(got);
  assert_string_equal(err, "bad macro at offset 17: unknown method 'adDay' "
                           "in ${zdt.adDay(-1)}");
  expect_err("${zdt.AddDay(1)}", "unknown method 'AddDay'");
  expect_err("${zdt.addDay(1).toString()}", "unknown method 'toString'");
}

static void test_error_parentheses(void **state) {
  (void)state;
  expect_err("${zdt.addDay(1}", "missing ')' after the arguments of addDay()");
  expect_err("${zdt.add(2 -1)}", "missing ')'");
  expect_err("${zdt.addDay}", "missing '(' after addDay");
  expect_err("${zdt.addDay 1)}", "missing '(' after addDay");
  expect_err("${zdt.}", "expected a method name after '.'");
  expect_err("${zdt.addDay(1)x}", "unexpected 'x'");
}

static void test_error_bad_string(void **state) {
  (void)state;
  expect_err("${zdt.format(\"yyyyMMdd)}", "unterminated string in format()");
  expect_err("${zdt.format(yyyyMMdd)}", "bad argument 1 of format()");
  expect_err("${zdt.format('yyyyMMdd')}", "bad argument 1 of format()");
  expect_err("${zdt.format(1)}", "argument 1 of format() must be a string");
  expect_err("${zdt.addDay(\"1\")}", "argument 1 of addDay() must be a number");
  expect_err("${zdt.format(\"yyyy'T\")}", "unterminated quote");
  expect_err("${zdt.format(\"yyyy-Q\")}", "unsupported pattern letter 'Q'");
}

static void test_error_arguments(void **state) {
  (void)state;
  expect_err("${zdt.addDay()}", "addDay() takes 1 argument, not 0");
  expect_err("${zdt.add(5)}", "add() takes 2 arguments, not 1");
  expect_err("${zdt.set(5,1,2)}", "too many arguments to set()");
  expect_err("${zdt.add(99,1)}", "unsupported Calendar field 99 in add()");
  expect_err("${zdt.set(7,1)}", "unsupported Calendar field 7 in set()");
  expect_err("${zdt.addDay(1234567890)}", "more than 9 digits");
  expect_err("${zdt.addDay(-)}", "'-' without a number");
  expect_err("${zdt.format(\"y\").addDay(1)}", "nothing may follow format()");
  expect_err("${zdt.addYear(8000)}", "date out of range");
  expect_err("${zdt.addDay(-999999999)}", "date out of range");
}

static void test_error_fails_whole_script(void **state) {
  (void)state;
  const struct macro_var v[] = {{"a", "${zdt.nope()}"}};
  expect_err_vars("ok ${yesterday} ${a}", v, 1,
                  "bad macro at offset 16: unknown method 'nope' in "
                  "${zdt.nope()} (from ${a})");
  /* a short or absent error buffer is safe */
  char small[8];
  assert_null(macro_expand("${zdt.x()}", &anchor, NULL, 0, small,
                           sizeof(small)));
  assert_int_equal(strlen(small), 7);
  assert_null(macro_expand("${zdt.x()}", &anchor, NULL, 0, NULL, 0));
}

static void test_anchor_checks(void **state) {
  (void)state;
  const struct macro_var v[] = {{"a", "1"}};
  expect_at("plain ${a}", NULL, v, 1, "plain 1"); /* no date: no anchor */
  char err[256];
  assert_null(macro_expand("${yesterday}", NULL, NULL, 0, err, sizeof(err)));
  assert_non_null(strstr(err, "no anchor time"));
  const struct civil bad = {2026, 13, 1, 0, 0, 0};
  assert_null(macro_expand("${zdt}", &bad, NULL, 0, err, sizeof(err)));
  assert_non_null(strstr(err, "invalid anchor time"));
}

static void test_literal_dollar(void **state) {
  (void)state;
  expect("cost $5, $HOME, $$ and $ alone $",
         "cost $5, $HOME, $$ and $ alone $");
  expect("awk '{print $1}' ${zdt.format(\"d\")}", "awk '{print $1}' 23");
  expect("$${yesterday}", "$20261122");
}

static void test_unterminated_brace(void **state) {
  (void)state;
  const struct macro_var v[] = {{"b", "1"}};
  expect("echo ${a", "echo ${a");
  expect("x ${zdt.addDay(1)", "x ${zdt.addDay(1)");
  expect("${", "${");
  expect_at("${a ${b}", &anchor, v, 1, "${a 1");
}

static void test_no_macros_byte_identical(void **state) {
  (void)state;
  static const char script[] =
      "#!/bin/bash\nset -euo pipefail\n\tcd /data && ls -l | wc -l\n"
      "echo \"caf\xc3\xa9 \xe2\x82\xac {} } { ' \\\" \\\\\"\r\n"
      "for i in 1 2 3; do echo $i; done\n# end, no newline";
  char err[256];
  char *got = macro_expand(script, &anchor, NULL, 0, err, sizeof(err));
  assert_non_null(got);
  assert_int_equal(strlen(got), sizeof(script) - 1);
  assert_memory_equal(got, script, sizeof(script));
  free(got);
  expect("", "");
}

static void test_many_macros(void **state) {
  (void)state;
  /* output growth well past the initial buffer */
  size_t n = 500;
  char *script = malloc(n * 12 + 1);
  assert_non_null(script);
  script[0] = '\0';
  for (size_t i = 0; i < n; i++) strcat(script, "${yesterday}");
  char err[256];
  char *got = macro_expand(script, &anchor, NULL, 0, err, sizeof(err));
  assert_non_null(got);
  assert_int_equal(strlen(got), n * 8);
  for (size_t i = 0; i < n; i++)
    assert_memory_equal(got + i * 8, "20261122", 8);
  free(got);
  free(script);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_vars),
      cmocka_unit_test(test_first_key_wins),
      cmocka_unit_test(test_nested_var),
      cmocka_unit_test(test_nested_depth_limit),
      cmocka_unit_test(test_variable_loop),
      cmocka_unit_test(test_value_inserted_as_is),
      cmocka_unit_test(test_unknown_kept),
      cmocka_unit_test(test_yesterday),
      cmocka_unit_test(test_yesterday_variable_wins),
      cmocka_unit_test(test_add_day_month_and_year_ends),
      cmocka_unit_test(test_add_day_leap),
      cmocka_unit_test(test_add_month_clamps),
      cmocka_unit_test(test_add_year_leap_day),
      cmocka_unit_test(test_add_hour_across_midnight),
      cmocka_unit_test(test_chained_calls),
      cmocka_unit_test(test_format_compact),
      cmocka_unit_test(test_format_default_and_full),
      cmocka_unit_test(test_format_yy),
      cmocka_unit_test(test_format_unpadded),
      cmocka_unit_test(test_format_quoted_literals),
      cmocka_unit_test(test_format_text_fields),
      cmocka_unit_test(test_get_time),
      cmocka_unit_test(test_add_field_numbers),
      cmocka_unit_test(test_set_field_numbers),
      cmocka_unit_test(test_whitespace_in_parentheses),
      cmocka_unit_test(test_error_unknown_method),
      cmocka_unit_test(test_error_parentheses),
      cmocka_unit_test(test_error_bad_string),
      cmocka_unit_test(test_error_arguments),
      cmocka_unit_test(test_error_fails_whole_script),
      cmocka_unit_test(test_anchor_checks),
      cmocka_unit_test(test_literal_dollar),
      cmocka_unit_test(test_unterminated_brace),
      cmocka_unit_test(test_no_macros_byte_identical),
      cmocka_unit_test(test_many_macros),
  };
  return cmocka_run_group_tests_name("macro", tests, NULL, NULL);
}
