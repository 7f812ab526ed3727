/* cron: cron expressions, parsed once, then asked for their next fire
 * time.  Pure: no I/O, no libc time zones (see tz.h for those).
 *
 * Two dialects, told apart by the number of fields:
 *  - Quartz, as hera uses it: 6 or 7 fields, "sec min hour dom month dow
 *    [year]"; `* , - /`, `?` (no value; one of dom/dow must be `?` unless
 *    the other is `*`), `L` and `L-n` (last day, n days before it), `nW`
 *    (weekday nearest day n), `LW`, dow `nL` (last such weekday of the
 *    month) and `n#k` (k-th such weekday), names JAN-DEC and SUN-SAT,
 *    day-of-week 1 = Sunday .. 7 = Saturday, years 1970-2199;
 *  - Unix: 5 fields "min hour dom month dow", dow 0-7 (0 and 7 Sunday);
 *    when both dom and dow are restricted, a day matching either fires.
 *
 * The next time is found field by field (year, month, day, hour, minute,
 * second), never by scanning seconds. */
#ifndef HERACRON_CRON_H
#define HERACRON_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/civil.h"

#define CRON_YEAR_MIN 1970
#define CRON_YEAR_MAX 2199

enum cron_dialect { CRON_QUARTZ, CRON_UNIX };

struct cron {
  enum cron_dialect dialect;
  uint64_t sec, min;   /* bit n: second/minute n */
  uint32_t hour;       /* bit n: hour n */
  uint32_t dom;        /* bit n: day n (1..31) */
  uint16_t month;      /* bit n: month n (1..12) */
  uint8_t dow;         /* bit n: weekday n, 0 = Sunday */
  uint64_t year[4];    /* bit n: year CRON_YEAR_MIN + n */
  bool dom_any;        /* day-of-month is exactly `*` */
  bool dow_any;        /* day-of-week is exactly `*` */
  bool dom_star;       /* day-of-month starts with `*` (Unix OR/AND rule) */
  bool dow_star;
  int dom_last;        /* -1, or n for `L-n` (0 for `L`) */
  bool dom_last_wd;    /* `LW` */
  int dom_near_wd;     /* 0, or n for `nW` */
  int dow_last;        /* -1, or weekday for `nL` */
  int dow_nth_day;     /* -1, or weekday for `n#k` */
  int dow_nth;         /* k of `n#k` */
};

/* Parses expr.  Returns 0, or -1 with a message naming the field in err,
 * e.g. "hour: 25 is out of range 0-23". */
int cron_parse(const char *expr, struct cron *c, char *err, size_t errlen);

/* The first civil time strictly after `after` that matches.  Returns 0,
 * or -1 if there is none up to CRON_YEAR_MAX. */
int cron_next(const struct cron *c, const struct civil *after,
              struct civil *out);

/* Whether a civil time matches (for tests and checks). */
bool cron_matches(const struct cron *c, const struct civil *t);

struct tz;

/* The first instant (seconds since the epoch) strictly after `after_utc`
 * at which c fires in zone z.  A local time that does not exist (spring
 * forward) is skipped; one that occurs twice (fall back) fires once, at
 * its first occurrence.  Returns 0 or -1 (none). */
int cron_next_utc(const struct cron *c, const struct tz *z, int64_t after_utc,
                  int64_t *out);

#endif
