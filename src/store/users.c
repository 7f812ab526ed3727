#include "config.h"

#include "store/users.h"

#include <mysqld_error.h>
#include <stdio.h>
#include <string.h>

#include "sched/jobdef.h"
#include "util/secret.h"

static const char users_sql_add[] =
    "INSERT INTO users (name, email, password_hash, role) VALUES (?, ?, ?, ?)";

int users_create(struct db_conn *c, const char *name, const char *email,
                    const char *password, const char *role, char *err,
                    size_t errlen, char *field, size_t flen) {
  const char *bad = NULL, *why = NULL;
  if (name == NULL || !jobdef_name_ok(name))
    bad = "name", why = "must be 1-128 of letters, digits, '_', '.', '-'";
  else if (email != NULL && (strlen(email) > 255 || strchr(email, ' ')))
    bad = "email", why = "is not an e-mail address";
  else if (password == NULL || strlen(password) < 8)
    bad = "password", why = "must have at least 8 characters";
  else if (role == NULL || (strcmp(role, "admin") && strcmp(role, "user")))
    bad = "role", why = "must be admin or user";
  if (bad != NULL) {
    snprintf(field, flen, "%s", bad);
    snprintf(err, errlen, "%s", why);
    return -1;
  }
  char hash[SECRET_HASH_MAX];
  if (secret_hash_password(password, hash, sizeof(hash)) < 0) {
    snprintf(field, flen, "password");
    snprintf(err, errlen, "cannot hash the password");
    return -1;
  }
  struct db_param p[] = {DB_STR(name), DB_STR(email ? email : ""),
                         DB_STR(hash), DB_STR(role)};
  if (db_exec(c, users_sql_add, p, 4) < 0) {
    field[0] = '\0';
    snprintf(err, errlen, "%s", c->err);
    return c->last_errno == ER_DUP_ENTRY ? -2 : -3;
  }
  return 0;
}
