/* Unit tests of db_sql_in: statements over many ids come in a few sizes,
 * each built once. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/db.h"

static void test_sizes_and_text(void **state) {
  (void)state;
  char *cache[4] = {NULL, NULL, NULL, NULL};
  size_t cls;
  const char *one = db_sql_in("SELECT id FROM t WHERE id IN ", 1, &cls, cache);
  assert_int_equal(cls, 1);
  assert_string_equal(one, "SELECT id FROM t WHERE id IN (?)");
  const char *four = db_sql_in("SELECT id FROM t WHERE id IN ", 3, &cls, cache);
  assert_int_equal(cls, 4);
  assert_string_equal(four, "SELECT id FROM t WHERE id IN (?, ?, ?, ?)");
  assert_ptr_equal(db_sql_in("x", 2, &cls, cache), four); /* built once */
  db_sql_in("SELECT id FROM t WHERE id IN ", 5, &cls, cache);
  assert_int_equal(cls, 16);
  const char *max = db_sql_in("SELECT id FROM t WHERE id IN ", DB_IN_MAX, &cls, cache);
  assert_int_equal(cls, DB_IN_MAX);
  size_t marks = 0;
  for (const char *p = max; *p; p++) marks += *p == '?';
  assert_int_equal(marks, DB_IN_MAX);
  assert_int_equal(max[strlen(max) - 1], ')');
  for (int i = 0; i < 4; i++) free(cache[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sizes_and_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
