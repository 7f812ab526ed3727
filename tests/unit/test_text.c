/* Unit tests of small text and directory helpers: a map part's result (its
 * output's last line), and which day directories the retention removes. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/daydirs.h"
#include "util/text.h"

static void test_last_line(void **state) {
  (void)state;
  char out[8];
  assert_int_equal(text_last_line("a\nbc\n\n", 6, out, sizeof(out)), 2);
  assert_string_equal(out, "bc");
  assert_int_equal(text_last_line("one line", 8, out, sizeof(out)), 7);
  assert_string_equal(out, "one lin"); /* cut to the buffer */
  assert_int_equal(text_last_line("x\r\n", 3, out, sizeof(out)), 1);
  assert_string_equal(out, "x");
  assert_int_equal(text_last_line("", 0, out, sizeof(out)), 0);
  assert_string_equal(out, "");
  assert_int_equal(text_last_line("\n\n", 2, out, sizeof(out)), 0);
  assert_int_equal(text_last_line("a\nb\0c", 5, out, sizeof(out)), 1);
  assert_string_equal(out, "b"); /* a NUL ends it */
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_expired_days(void **state) {
  (void)state;
  char dir[] = "/tmp/hc-workdir-XXXXXX";
  assert_non_null(mkdtemp(dir));
  const char *names[] = {"2026-11-01", "2026-11-19", "2026-11-20",
                         "2026-11-27", "notes",      "2026-1-05",
                         "2026-xx-01"};
  char path[256];
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
    assert_int_equal(mkdir(path, 0755), 0);
  }
  struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 27, .tm_hour = 9,
                  .tm_isdst = -1};
  time_t now = mktime(&tm);
  char *old[8];
  size_t n = daydirs_expired(dir, 7, now, old, 8);
  assert_int_equal(n, 2); /* kept: 7 days back (the 20th) and later */
  qsort(old, n, sizeof(old[0]), by_name);
  snprintf(path, sizeof(path), "%s/2026-11-01", dir);
  assert_string_equal(old[0], path);
  snprintf(path, sizeof(path), "%s/2026-11-19", dir);
  assert_string_equal(old[1], path);
  for (size_t i = 0; i < n; i++) free(old[i]);
  assert_int_equal(daydirs_expired(dir, 0, now, old, 8), 0); /* forever */
  assert_int_equal(daydirs_expired(dir, 7, now, old, 1), 1); /* at most max */
  free(old[0]);
  assert_int_equal(daydirs_expired("/nonexistent/x", 7, now, old, 8), 0);
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
    rmdir(path);
  }
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_last_line),
      cmocka_unit_test(test_expired_days),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
