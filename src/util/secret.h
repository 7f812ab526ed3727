/* secret: passwords and API tokens.  Passwords are kept as crypt(3)
 * hashes (yescrypt, "$y$..."); tokens are 32 random bytes shown to their
 * owner once, as hex, and kept as their SHA-256 only. */
#ifndef HERACRON_SECRET_H
#define HERACRON_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define SECRET_TOKEN_HEX 65 /* 64 hex digits and the NUL */
#define SECRET_HASH_MAX 256

/* Hashes password with a fresh random salt into out.  0, or -1 (err). */
int secret_hash_password(const char *password, char *out, size_t len);

/* Whether password matches a stored crypt(3) hash (constant time). */
bool secret_check_password(const char *password, const char *hash);

/* A new random token (hex).  0, or -1 if no randomness. */
int secret_new_token(char out[SECRET_TOKEN_HEX]);

/* SHA-256 of token, as hex: what is stored and looked up. */
void secret_token_hash(const char *token, char out[SECRET_TOKEN_HEX]);

/* The token a map job's part uses to add sub-tasks to its own instance:
 * HMAC-SHA256(cluster token, "heracron-map:" instance), hex.  Workers
 * give it to the part; the API recomputes it. */
void secret_map_token(const char *cluster_token, unsigned long long instance,
                      char out[SECRET_TOKEN_HEX]);

/* Constant-time equality of two strings (lengths may differ). */
bool secret_equal(const char *a, const char *b);

#endif
