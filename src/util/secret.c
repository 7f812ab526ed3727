#include "config.h"

#include "util/secret.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int secret_hash_password(const char *password, char *out, size_t len) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL)
    return -1;
  struct crypt_data cd;
  memset(&cd, 0, sizeof(cd));
  const char *h = crypt_r(password, salt, &cd);
  if (h == NULL || h[0] == '*' || strlen(h) >= len) return -1;
  snprintf(out, len, "%s", h);
  return 0;
}

bool secret_check_password(const char *password, const char *hash) {
  if (hash == NULL || hash[0] != '$') return false;
  struct crypt_data cd;
  memset(&cd, 0, sizeof(cd));
  const char *h = crypt_r(password, hash, &cd);
  return h != NULL && h[0] != '*' && secret_equal(h, hash);
}

static void secret_hex(const unsigned char *b, size_t n, char *out) {
  static const char d[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = d[b[i] >> 4];
    out[2 * i + 1] = d[b[i] & 15];
  }
  out[2 * n] = '\0';
}

int secret_new_token(char out[SECRET_TOKEN_HEX]) {
  unsigned char b[32];
  if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) return -1;
  secret_hex(b, sizeof(b), out);
  return 0;
}

void secret_token_hash(const char *token, char out[SECRET_TOKEN_HEX]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL);
  secret_hex(md, n > 32 ? 32 : n, out);
}

bool secret_equal(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la != lb) return false;
  return CRYPTO_memcmp(a, b, la) == 0;
}

void secret_map_token(const char *cluster_token, unsigned long long instance,
                      char out[SECRET_TOKEN_HEX]) {
  char msg[64];
  int n = snprintf(msg, sizeof(msg), "heracron-map:%llu", instance);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), cluster_token, (int)strlen(cluster_token),
       (const unsigned char *)msg, (size_t)n, md, &len);
  secret_hex(md, len > 32 ? 32 : len, out);
}
