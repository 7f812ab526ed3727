/* users: operators' accounts in MariaDB (table users). */
#ifndef HERACRON_USERS_H
#define HERACRON_USERS_H

#include <stddef.h>

#include "store/db.h"

/* Validates and inserts a user with a crypt(3) hash of password (used by
 * the API and by `heracron db init --admin-user`).  0; -1 a bad field
 * (its name in field, why in err); -2 the name exists; -3 database error
 * (in err). */
int users_create(struct db_conn *c, const char *name, const char *email,
                 const char *password, const char *role, char *err,
                 size_t errlen, char *field, size_t flen);

#endif
