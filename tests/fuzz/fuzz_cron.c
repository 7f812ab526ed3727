/* libFuzzer target: the cron parser and, for expressions it accepts, a
 * few next-time computations, which must match and must advance. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char expr[600];
  if (size >= sizeof(expr)) return 0;
  memcpy(expr, data, size);
  expr[size] = '\0';
  struct cron c;
  char err[256];
  if (cron_parse(expr, &c, err, sizeof(err)) != 0) {
    if (strchr(err, ':') == NULL) abort(); /* messages name the field */
    return 0;
  }
  struct civil t = {2026, 11, 23, 10, 0, 0}, n;
  for (int i = 0; i < 5; i++) {
    if (cron_next(&c, &t, &n) != 0) break;
    if (civil_to_epoch(&n) <= civil_to_epoch(&t) || !cron_matches(&c, &n))
      abort();
    t = n;
  }
  return 0;
}
