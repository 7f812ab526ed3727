#include "config.h"

#include "net/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

int auth_nonce(uint8_t *out, size_t n) {
  return RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

int auth_proof(enum auth_role role, const char *token,
               const uint8_t master_nonce[AUTH_NONCE_SIZE],
               const uint8_t worker_nonce[AUTH_NONCE_SIZE], const char *name,
               uint8_t out[AUTH_PROOF_SIZE]) {
  static const char hello[] = "heracron-hello";
  static const char welcome[] = "heracron-welcome";
  const char *label = role == AUTH_HELLO ? hello : welcome;
  size_t llen = strlen(label), nlen = strlen(name);
  uint8_t msg[sizeof(welcome) + 2 * AUTH_NONCE_SIZE + 256];
  if (nlen > 255 || token == NULL) return -1;
  size_t off = 0;
  memcpy(msg, label, llen);
  off += llen;
  const uint8_t *first = role == AUTH_HELLO ? master_nonce : worker_nonce;
  const uint8_t *second = role == AUTH_HELLO ? worker_nonce : master_nonce;
  memcpy(msg + off, first, AUTH_NONCE_SIZE);
  off += AUTH_NONCE_SIZE;
  memcpy(msg + off, second, AUTH_NONCE_SIZE);
  off += AUTH_NONCE_SIZE;
  memcpy(msg + off, name, nlen);
  off += nlen;
  unsigned int olen = 0;
  if (HMAC(EVP_sha256(), token, (int)strlen(token), msg, off, out, &olen) ==
          NULL ||
      olen != AUTH_PROOF_SIZE)
    return -1;
  return 0;
}

bool auth_check(enum auth_role role, const char *token,
                const uint8_t master_nonce[AUTH_NONCE_SIZE],
                const uint8_t worker_nonce[AUTH_NONCE_SIZE], const char *name,
                const uint8_t *proof, size_t proof_len) {
  uint8_t want[AUTH_PROOF_SIZE];
  if (proof_len != AUTH_PROOF_SIZE) return false;
  if (auth_proof(role, token, master_nonce, worker_nonce, name, want) < 0)
    return false;
  return CRYPTO_memcmp(want, proof, AUTH_PROOF_SIZE) == 0;
}
