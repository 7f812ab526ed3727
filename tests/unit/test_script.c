/* Unit tests of script rendering: where variables come from (job, then
 * the nearest folder up to the root) and the macros' anchor. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/script.h"

static const struct script_folder folders[] = {
    {"/", "{\"a\": \"root\", \"r\": \"only-root\"}"},
    {"/etl", "{\"a\": \"etl\", \"b\": \"etl\"}"},
    {"/etl/daily", "{\"a\": \"daily\"}"},
    {"/etlx", "{\"b\": \"not-a-parent\"}"},
    {"/broken", "{not json"},
};

static void expect(const char *script, const char *job_vars, const char *folder,
                   const struct civil *anchor, const char *want) {
  char err[256] = "";
  char *got = script_render(script, job_vars, folder, folders,
                            sizeof(folders) / sizeof(folders[0]), anchor, err,
                            sizeof(err));
  if (got == NULL) fail_msg("render failed: %s", err);
  assert_string_equal(got, want);
  free(got);
}

static void test_nearest_folder_wins(void **state) {
  expect("${a} ${b} ${r}", NULL, "/etl/daily", NULL, "daily etl only-root");
  expect("${a} ${b}", NULL, "/etl", NULL, "etl etl");
  expect("${a} ${b}", NULL, "/", NULL, "root ${b}");
}

static void test_job_wins_over_folders(void **state) {
  expect("${a} ${b}", "{\"a\": \"job\"}", "/etl/daily", NULL, "job etl");
}

static void test_prefix_is_not_a_parent(void **state) {
  expect("${b}", NULL, "/etlx/sub", NULL, "not-a-parent");
  expect("${b}", NULL, "/etl/dailyx", NULL, "etl");
}

static void test_bad_or_missing_variables_are_ignored(void **state) {
  expect("${a}", "[1, 2]", "/broken", NULL, "root");
  expect("${a}", "{\"a\": 7}", NULL, NULL, "${a}");
  expect("plain text", NULL, NULL, NULL, "plain text");
}

static void test_anchor(void **state) {
  struct civil c;
  script_anchor(202611220305000123LL, "20260101", &c);
  assert_int_equal(c.year, 2026);
  assert_int_equal(c.month, 11);
  assert_int_equal(c.day, 22);
  assert_int_equal(c.hour, 3);
  assert_int_equal(c.min, 5);
  script_anchor(0, "20260301", &c);
  assert_int_equal(c.year * 10000 + c.month * 100 + c.day, 20260301);
  assert_int_equal(c.hour, 0);
  expect("${yesterday} ${zdt.format(\"yyyy-MM-dd HH:mm\")}", NULL, NULL, &c,
         "20260228 2026-03-01 00:00");
  script_anchor(0, NULL, &c); /* now */
  assert_true(c.year >= 2024);
}

static void test_bad_macro_reports(void **state) {
  struct civil c = {2026, 3, 1, 0, 0, 0};
  char err[256] = "";
  char *got = script_render("echo ${zdt.adDay(1)}", NULL, NULL, NULL, 0, &c,
                            err, sizeof(err));
  assert_null(got);
  assert_non_null(strstr(err, "adDay"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nearest_folder_wins),
      cmocka_unit_test(test_job_wins_over_folders),
      cmocka_unit_test(test_prefix_is_not_a_parent),
      cmocka_unit_test(test_bad_or_missing_variables_are_ignored),
      cmocka_unit_test(test_anchor),
      cmocka_unit_test(test_bad_macro_reports),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
