/* heracron cron next EXPR [--from 'YYYY-MM-DD HH:MM:SS'] [--count N]
 * [--tz ZONE]: the next fire times of an expression strictly after --from
 * (default: now), as local times of ZONE (default: the node's), offline. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "sched/cron.h"
#include "sched/tz.h"

static int cron_usage(void) {
  fprintf(stderr, "usage: heracron cron next EXPR [--from 'YYYY-MM-DD "
                  "HH:MM:SS'] [--count N] [--tz ZONE]\n");
  return CLI_USAGE;
}

int cmd_cron(struct cli *cli, int argc, char **argv) {
  if (argc < 3 || strcmp(argv[1], "next") != 0) return cron_usage();
  const char *expr = argv[2], *from = NULL, *zone = NULL;
  long count = 5;
  for (int i = 3; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--from") == 0 && v) from = argv[++i];
    else if (strcmp(a, "--tz") == 0 && v) zone = argv[++i];
    else if (strcmp(a, "--count") == 0 && v) {
      char *end;
      count = strtol(argv[++i], &end, 10);
      if (*end != '\0' || count < 1 || count > 100000) {
        fprintf(stderr, "heracron: --count must be 1-100000\n");
        return CLI_USAGE;
      }
    } else {
      return cron_usage();
    }
  }
  char err[256];
  struct cron c;
  if (cron_parse(expr, &c, err, sizeof(err)) < 0) {
    fprintf(stderr, "heracron: invalid cron expression '%s': %s\n", expr, err);
    return CLI_USAGE;
  }
  struct tz *z = tz_load(zone, err, sizeof(err));
  if (z == NULL) {
    fprintf(stderr, "heracron: --tz: %s\n", err);
    return CLI_USAGE;
  }
  int64_t t;
  if (from != NULL) {
    struct civil fc;
    int64_t utc[2];
    if (civil_parse(from, &fc) < 0) {
      fprintf(stderr, "heracron: --from '%s': expected 'YYYY-MM-DD HH:MM:SS'\n",
              from);
      tz_free(z);
      return CLI_USAGE;
    }
    int n = tz_to_utc(z, civil_to_epoch(&fc), utc);
    /* in a gap, start from where the clock jumped to */
    /* strictly after --from, as Quartz's getTimeAfter; in a gap, from
     * where the clock jumped to */
    t = n > 0 ? utc[n - 1]
              : civil_to_epoch(&fc) - tz_offset(z, civil_to_epoch(&fc));
  } else {
    t = (int64_t)time(NULL);
  }
  for (long i = 0; i < count; i++) {
    if (cron_next_utc(&c, z, t, &t) < 0) break;
    struct civil lc;
    char buf[20];
    civil_from_epoch(t + tz_offset(z, t), &lc);
    civil_format(&lc, buf);
    puts(buf);
  }
  tz_free(z);
  return CLI_OK;
}
