#include "config.h"

#include "util/text.h"

#include <string.h>

size_t text_last_line(const char *buf, size_t len, char *out, size_t cap) {
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) len--;
  size_t start = len;
  while (start > 0 && buf[start - 1] != '\n') start--;
  size_t n = len - start < cap - 1 ? len - start : cap - 1;
  memcpy(out, buf + start, n);
  out[n] = '\0';
  n = strlen(out); /* a NUL in the output ends it */
  return n;
}
