/* Unit tests of configuration parsing: defaults, the INI file, overrides,
 * bad values, secrets from files. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/cfg.h"

static char tmpdir[64];

static int setup(void **state) {
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/hc-cfg-XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text, char *path,
                       size_t len) {
  snprintf(path, len, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void test_defaults(void **state) {
  struct cfg c;
  char err[256];
  assert_int_equal(cfg_init(&c), 0);
  assert_int_equal(c.master.lease_ms, 5000);
  assert_int_equal(c.master.renew_ms, 1000);
  assert_int_equal(c.master.heartbeat_ms, 1000);
  assert_true(c.node.master_group);
  assert_string_equal(c.node.groups, "default");
  assert_non_null(c.node.name);
  assert_int_equal(cfg_finish(&c, err, sizeof(err)), 0);
  cfg_free(&c);
}

static void test_file_and_override(void **state) {
  char path[256], err[256];
  write_file("a.conf",
             "; comment\n[node]\nname = n1\ngroups = etl, web\n"
             "master_group = no\n[master]\nlease_ms = 8000\n"
             "[db]\ndatabase = hc\n",
             path, sizeof(path));
  struct cfg c;
  assert_int_equal(cfg_init(&c), 0);
  assert_int_equal(cfg_load_file(&c, path, err, sizeof(err)), 0);
  assert_string_equal(c.node.name, "n1");
  assert_false(c.node.master_group);
  assert_int_equal(c.master.lease_ms, 8000);
  assert_int_equal(cfg_override(&c, "master.lease_ms=9000", err, sizeof(err)),
                   0);
  assert_int_equal(cfg_override(&c, "node.name=n2", err, sizeof(err)), 0);
  assert_int_equal(c.master.lease_ms, 9000);
  assert_string_equal(c.node.name, "n2");
  assert_int_equal(cfg_finish(&c, err, sizeof(err)), 0);
  char buf[64];
  snprintf(buf, sizeof(buf), "%s", c.node.groups);
  char *items[4];
  assert_int_equal(cfg_split_list(buf, items, 4), 2);
  assert_string_equal(items[0], "etl");
  assert_string_equal(items[1], "web");
  cfg_free(&c);
}

static void test_bad_values(void **state) {
  struct cfg c;
  char err[256];
  assert_int_equal(cfg_init(&c), 0);
  assert_int_equal(cfg_override(&c, "master.lease_ms=abc", err, sizeof(err)),
                   -1);
  assert_non_null(strstr(err, "master.lease_ms"));
  assert_int_equal(cfg_override(&c, "master.lease_ms=5x", err, sizeof(err)),
                   -1);
  assert_int_equal(cfg_override(&c, "master.lease_ms=-1", err, sizeof(err)),
                   -1);
  assert_int_equal(cfg_override(&c, "node.master_group=perhaps", err,
                                sizeof(err)),
                   -1);
  assert_non_null(strstr(err, "boolean"));
  assert_int_equal(cfg_override(&c, "nosuch.key=1", err, sizeof(err)), -1);
  assert_non_null(strstr(err, "unknown configuration key nosuch.key"));
  assert_int_equal(cfg_override(&c, "novalue", err, sizeof(err)), -1);
  assert_int_equal(cfg_override(&c, "node.=x", err, sizeof(err)), -1);
  cfg_free(&c);
}

static void test_cross_checks(void **state) {
  struct cfg c;
  char err[256];
  assert_int_equal(cfg_init(&c), 0);
  assert_int_equal(cfg_override(&c, "master.renew_ms=6000", err, sizeof(err)),
                   0);
  assert_int_equal(cfg_finish(&c, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "renew_ms"));
  cfg_free(&c);

  assert_int_equal(cfg_init(&c), 0);
  assert_int_equal(cfg_override(&c, "node.name=bad name", err, sizeof(err)), 0);
  assert_int_equal(cfg_finish(&c, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "node.name"));
  cfg_free(&c);

  assert_int_equal(cfg_init(&c), 0);
  assert_int_equal(cfg_override(&c, "http.listen=nohostport", err, sizeof(err)),
                   0);
  assert_int_equal(cfg_finish(&c, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "http.listen"));
  cfg_free(&c);
}

static void test_unknown_key_in_file(void **state) {
  char path[256], err[256];
  write_file("b.conf", "[node]\nnmae = typo\n", path, sizeof(path));
  struct cfg c;
  assert_int_equal(cfg_init(&c), 0);
  assert_int_equal(cfg_load_file(&c, path, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "node.nmae"));
  assert_non_null(strstr(err, path));
  cfg_free(&c);
}

static void test_missing_file(void **state) {
  struct cfg c;
  char err[256];
  assert_int_equal(cfg_init(&c), 0);
  assert_int_equal(cfg_load_file(&c, "/nonexistent/x.conf", err, sizeof(err)),
                   -1);
  assert_non_null(strstr(err, "cannot open"));
  cfg_free(&c);
}

static void test_secret_files(void **state) {
  char tok[256], pw[256], err[256];
  write_file("token", "s3cret-token\n", tok, sizeof(tok));
  write_file("pw", "dbpass\r\nignored\n", pw, sizeof(pw));
  struct cfg c;
  assert_int_equal(cfg_init(&c), 0);
  assert_int_equal(cfg_set(&c, "cluster", "token_file", tok, err, sizeof(err)),
                   0);
  assert_int_equal(cfg_set(&c, "db", "password_file", pw, err, sizeof(err)), 0);
  assert_int_equal(cfg_finish(&c, err, sizeof(err)), 0);
  assert_string_equal(c.cluster.token, "s3cret-token");
  assert_string_equal(c.db.password, "dbpass");
  /* the dump hides secrets */
  char dump[256];
  write_file("dump", "", dump, sizeof(dump));
  FILE *f = fopen(dump, "w");
  cfg_dump(&c, f);
  fclose(f);
  f = fopen(dump, "r");
  char text[8192];
  size_t n = fread(text, 1, sizeof(text) - 1, f);
  fclose(f);
  text[n] = '\0';
  assert_null(strstr(text, "s3cret"));
  assert_null(strstr(text, "dbpass"));
  assert_non_null(strstr(text, "token = (set)"));
  cfg_free(&c);

  assert_int_equal(cfg_init(&c), 0);
  assert_int_equal(cfg_set(&c, "cluster", "token_file", "/nonexistent/t", err,
                           sizeof(err)),
                   0);
  assert_int_equal(cfg_finish(&c, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "cluster.token"));
  cfg_free(&c);
}

static void test_hostport(void **state) {
  char h[64];
  uint16_t p;
  assert_int_equal(cfg_split_hostport("127.0.0.1:7070", h, sizeof(h), &p), 0);
  assert_string_equal(h, "127.0.0.1");
  assert_int_equal(p, 7070);
  assert_int_equal(cfg_split_hostport("[::1]:80", h, sizeof(h), &p), 0);
  assert_string_equal(h, "::1");
  assert_int_equal(cfg_split_hostport("host", h, sizeof(h), &p), -1);
  assert_int_equal(cfg_split_hostport("host:0", h, sizeof(h), &p), -1);
  assert_int_equal(cfg_split_hostport("host:65536", h, sizeof(h), &p), -1);
  assert_int_equal(cfg_split_hostport(":80", h, sizeof(h), &p), -1);
  assert_int_equal(cfg_split_hostport("::1:80", h, sizeof(h), &p), -1);
  assert_int_equal(cfg_split_hostport("h:8x", h, sizeof(h), &p), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_file_and_override),
      cmocka_unit_test(test_bad_values),
      cmocka_unit_test(test_cross_checks),
      cmocka_unit_test(test_unknown_key_in_file),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_secret_files),
      cmocka_unit_test(test_hostport),
  };
  return cmocka_run_group_tests_name("cfg", tests, setup, teardown);
}
