/* Unit tests of the token challenge/response. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/auth.h"

static void test_roundtrip(void **state) {
  uint8_t mn[AUTH_NONCE_SIZE], wn[AUTH_NONCE_SIZE], p[AUTH_PROOF_SIZE];
  assert_int_equal(auth_nonce(mn, sizeof(mn)), 0);
  assert_int_equal(auth_nonce(wn, sizeof(wn)), 0);
  assert_memory_not_equal(mn, wn, sizeof(mn));
  assert_int_equal(auth_proof(AUTH_HELLO, "tok", mn, wn, "n1", p), 0);
  assert_true(auth_check(AUTH_HELLO, "tok", mn, wn, "n1", p, sizeof(p)));
  /* wrong token, name, role, nonce or length all fail */
  assert_false(auth_check(AUTH_HELLO, "tok2", mn, wn, "n1", p, sizeof(p)));
  assert_false(auth_check(AUTH_HELLO, "tok", mn, wn, "n2", p, sizeof(p)));
  assert_false(auth_check(AUTH_WELCOME, "tok", mn, wn, "n1", p, sizeof(p)));
  assert_false(auth_check(AUTH_HELLO, "tok", wn, mn, "n1", p, sizeof(p)));
  assert_false(auth_check(AUTH_HELLO, "tok", mn, wn, "n1", p, sizeof(p) - 1));
  assert_false(auth_check(AUTH_HELLO, "tok", mn, wn, "n1", NULL, 0));
}

/* The proof must not contain the token (it never crosses the wire). */
static void test_proof_hides_token(void **state) {
  uint8_t mn[AUTH_NONCE_SIZE] = {0}, wn[AUTH_NONCE_SIZE] = {0};
  uint8_t p[AUTH_PROOF_SIZE];
  const char *tok = "abcdefgh";
  assert_int_equal(auth_proof(AUTH_HELLO, tok, mn, wn, "n1", p), 0);
  assert_null(memmem(p, sizeof(p), tok, strlen(tok)));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_proof_hides_token),
  };
  return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
