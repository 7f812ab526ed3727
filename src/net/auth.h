/* auth: the challenge/response that proves the cluster token in both
 * directions without sending it.  The master sends a random nonce; the
 * worker answers with its own nonce and HMAC-SHA256(token, "heracron-hello"
 * | master_nonce | worker_nonce | name); the master answers with
 * HMAC-SHA256(token, "heracron-welcome" | worker_nonce | master_nonce |
 * name), so a worker also knows it reached a real master. */
#ifndef HERACRON_AUTH_H
#define HERACRON_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_NONCE_SIZE 32
#define AUTH_PROOF_SIZE 32

enum auth_role { AUTH_HELLO, AUTH_WELCOME };

/* Fills out with cryptographically random bytes.  Returns 0, -1. */
int auth_nonce(uint8_t *out, size_t n);

/* Computes the proof of role over the two nonces and the worker's name.
 * Returns 0, -1 on failure. */
int auth_proof(enum auth_role role, const char *token,
               const uint8_t master_nonce[AUTH_NONCE_SIZE],
               const uint8_t worker_nonce[AUTH_NONCE_SIZE], const char *name,
               uint8_t out[AUTH_PROOF_SIZE]);

/* Checks a received proof in constant time.  False on any mismatch,
 * including a wrong length. */
bool auth_check(enum auth_role role, const char *token,
                const uint8_t master_nonce[AUTH_NONCE_SIZE],
                const uint8_t worker_nonce[AUTH_NONCE_SIZE], const char *name,
                const uint8_t *proof, size_t proof_len);

#endif
