/* Unit tests of alert mail composition: subjects, grouping, escaping, the
 * log's last lines. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mail/compose.h"

static struct compose_alert one(const char *job, const char *kind) {
  return (struct compose_alert){.kind = kind, .job_id = 7, .instance_id = 42,
                                .action_id = 202611220305000007LL, .job = job,
                                .owner = "alice", .description = "a <b> & c",
                                .status = "FAILED", .trigger = "SCHEDULE",
                                .worker = "w1", .started = "s", .ended = "e",
                                .reason = "", .exit_code = 3,
                                .log_tail = "line <1>\nline 2\n"};
}

static void test_single_failure(void **state) {
  struct compose_alert a = one("nightly", "failure");
  char *s, *t, *h;
  assert_int_equal(compose_mail(&a, 1, "https://c.example/", &s, &t, &h), 0);
  assert_string_equal(s, "[heracron] job nightly (id 7) action "
                         "202611220305000007 FAILED");
  assert_non_null(strstr(t, "exit code 3"));
  assert_non_null(strstr(t, "line <1>\nline 2\n"));
  assert_non_null(strstr(t, "https://c.example/#/instance/42"));
  assert_non_null(strstr(h, "a &lt;b&gt; &amp; c"));
  assert_non_null(strstr(h, "line &lt;1&gt;"));
  assert_null(strstr(h, "<b>"));
  free(s), free(t), free(h);
}

static void test_grouped_and_recovered(void **state) {
  struct compose_alert a[6];
  for (int i = 0; i < 6; i++) a[i] = one(i == 5 ? "back" : "job", i == 5 ? "recovered" : "failure");
  a[5].status = "SUCCEEDED";
  a[5].exit_code = 0;
  char *s, *t, *h;
  assert_int_equal(compose_mail(a, 6, "", &s, &t, &h), 0);
  assert_string_equal(s, "[heracron] 6 alerts (5 failed): job, job, job, job, ...");
  assert_non_null(strstr(t, "6 alerts, grouped into one mail"));
  assert_non_null(strstr(t, "Job back (id 7) recovered."));
  free(s), free(t), free(h);
}

static void test_tail(void **state) {
  char *t = compose_tail("a\nb\nc\nd\n", 2, 100);
  assert_string_equal(t, "c\nd\n");
  free(t);
  t = compose_tail("a\nb", 5, 100);
  assert_string_equal(t, "a\nb");
  free(t);
  t = compose_tail("0123456789\n", 5, 4);
  assert_string_equal(t, "6789\n");
  free(t);
  t = compose_tail(NULL, 5, 4);
  assert_string_equal(t, "");
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_single_failure),
      cmocka_unit_test(test_grouped_and_recovered),
      cmocka_unit_test(test_tail),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
