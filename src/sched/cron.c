#include "config.h"

#include "sched/cron.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/tz.h"

enum cron_field { F_SEC, F_MIN, F_HOUR, F_DOM, F_MONTH, F_DOW, F_YEAR };

struct cron_spec {
  enum cron_field field;
  const char *name;
  int min, max;
};

static const char *const cron_months[] = {"JAN", "FEB", "MAR", "APR",
                                          "MAY", "JUN", "JUL", "AUG",
                                          "SEP", "OCT", "NOV", "DEC"};
static const char *const cron_days[] = {"SUN", "MON", "TUE", "WED",
                                        "THU", "FRI", "SAT"};

/* Bounded set of the values a field allows, value - spec->min indexed. */
#define CRON_MAXV 256

struct cron_ctx {
  enum cron_dialect dialect;
  const struct cron_spec *spec;
  char *err;
  size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int
cron_fail(const struct cron_ctx *x, const char *fmt, ...) {
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  snprintf(x->err, x->errlen, "%s: %s", x->spec->name, msg);
  return -1;
}

/* A number or, for month and day-of-week, a name.  Returns the end. */
static const char *cron_value(const struct cron_ctx *x, const char *p,
                              int *out) {
  if (isdigit((unsigned char)*p)) {
    long v = 0;
    while (isdigit((unsigned char)*p)) {
      v = v * 10 + (*p++ - '0');
      if (v > 100000) break;
    }
    *out = (int)v;
    return p;
  }
  if (isalpha((unsigned char)p[0]) && isalpha((unsigned char)p[1]) &&
      isalpha((unsigned char)p[2])) {
    char n[4] = {(char)toupper((unsigned char)p[0]),
                 (char)toupper((unsigned char)p[1]),
                 (char)toupper((unsigned char)p[2]), 0};
    if (x->spec->field == F_MONTH)
      for (int i = 0; i < 12; i++)
        if (strcmp(n, cron_months[i]) == 0) {
          *out = i + 1;
          return p + 3;
        }
    if (x->spec->field == F_DOW)
      for (int i = 0; i < 7; i++)
        if (strcmp(n, cron_days[i]) == 0) {
          *out = x->dialect == CRON_QUARTZ ? i + 1 : i;
          return p + 3;
        }
  }
  return NULL;
}

static int cron_check_range(const struct cron_ctx *x, int v) {
  if (v < x->spec->min || v > x->spec->max)
    return cron_fail(x, "%d is out of range %d-%d", v, x->spec->min,
                     x->spec->max);
  return 0;
}

/* One list item: `*`, `a`, `a-b`, each optionally `/step`. */
static int cron_item(const struct cron_ctx *x, const char *item, bool *set) {
  int lo, hi, step = 1;
  const char *p = item;
  bool star = false;
  if (*p == '*') {
    lo = x->spec->min;
    hi = x->spec->max;
    star = true;
    p++;
  } else {
    p = cron_value(x, p, &lo);
    if (p == NULL) return cron_fail(x, "'%s' is not a value", item);
    if (cron_check_range(x, lo) < 0) return -1;
    hi = lo;
    if (*p == '-') {
      p = cron_value(x, p + 1, &hi);
      if (p == NULL) return cron_fail(x, "'%s' is not a range", item);
      if (cron_check_range(x, hi) < 0) return -1;
    }
  }
  if (*p == '/') {
    const char *s = p + 1;
    if (!isdigit((unsigned char)*s))
      return cron_fail(x, "'%s': step must be a number", item);
    long v = strtol(s, (char **)&p, 10);
    int span = x->spec->max - x->spec->min + 1;
    if (v < 1 || v > span)
      return cron_fail(x, "'%s': step must be 1-%d", item, span);
    step = (int)v;
    if (!star && hi == lo && p[-1] != '-') hi = x->spec->max; /* a/n */
  }
  if (*p != '\0') return cron_fail(x, "'%s' is not valid here", item);
  int span = x->spec->max - x->spec->min + 1;
  int count = hi >= lo ? hi - lo : hi - lo + span; /* ranges may wrap */
  for (int k = 0; k <= count; k += step) {
    int v = lo + k;
    if (v > x->spec->max) v -= span;
    set[v - x->spec->min] = true;
  }
  return 0;
}

/* Quartz day-of-month specials.  Returns 1 if item was one, 0 if not, -1
 * on error. */
static int cron_dom_special(const struct cron_ctx *x, const char *item,
                            struct cron *c) {
  if (strcmp(item, "L") == 0) {
    c->dom_last = 0;
    return 1;
  }
  if (strcmp(item, "LW") == 0) {
    c->dom_last_wd = true;
    return 1;
  }
  if (strncmp(item, "L-", 2) == 0) {
    char *end;
    long n = strtol(item + 2, &end, 10);
    if (end == item + 2 || *end != '\0' || n < 1 || n > 30)
      return cron_fail(x, "'%s': L-n needs n in 1-30", item);
    c->dom_last = (int)n;
    return 1;
  }
  size_t len = strlen(item);
  if (len >= 2 && item[len - 1] == 'W') {
    char *end;
    long n = strtol(item, &end, 10);
    if (end == item || *end != 'W' || n < 1 || n > 31)
      return cron_fail(x, "'%s': nW needs a day 1-31", item);
    c->dom_near_wd = (int)n;
    return 1;
  }
  return 0;
}

static int cron_dow_special(const struct cron_ctx *x, const char *item,
                            struct cron *c) {
  if (strcmp(item, "L") == 0) { /* alone: Saturday */
    return 0;
  }
  size_t len = strlen(item);
  const char *hash = strchr(item, '#');
  if (hash == NULL && !(len >= 2 && item[len - 1] == 'L')) return 0;
  int d;
  const char *p = cron_value(x, item, &d);
  if (p == NULL || cron_check_range(x, d) < 0)
    return p == NULL ? cron_fail(x, "'%s' is not a weekday", item) : -1;
  if (hash != NULL) {
    char *end;
    long k = strtol(hash + 1, &end, 10);
    if (p != hash || end == hash + 1 || *end != '\0' || k < 1 || k > 5)
      return cron_fail(x, "'%s': n#k needs k in 1-5", item);
    c->dow_nth_day = d - 1;
    c->dow_nth = (int)k;
    return 1;
  }
  if (p != item + len - 1) return cron_fail(x, "'%s' is not valid", item);
  c->dow_last = d - 1;
  return 1;
}

/* Parses one field into set[]; handles `?` and the specials. */
static int cron_field(struct cron_ctx *x, char *text, bool *set,
                      struct cron *c, bool *any, bool *question, bool *star) {
  *any = false;
  *question = false;
  *star = text[0] == '*';
  if (text[0] == '\0') return cron_fail(x, "empty");
  if (strcmp(text, "?") == 0) {
    if (x->dialect != CRON_QUARTZ ||
        (x->spec->field != F_DOM && x->spec->field != F_DOW))
      return cron_fail(x, "'?' is only allowed in day-of-month or "
                          "day-of-week of Quartz expressions");
    *any = *question = true;
    return 0;
  }
  *any = strcmp(text, "*") == 0;
  bool has_list = strchr(text, ',') != NULL;
  if (x->dialect == CRON_QUARTZ && !has_list) {
    int r = 0;
    if (x->spec->field == F_DOM) r = cron_dom_special(x, text, c);
    if (x->spec->field == F_DOW) r = cron_dow_special(x, text, c);
    if (r != 0) return r < 0 ? -1 : 0;
  }
  if (x->dialect == CRON_QUARTZ && x->spec->field == F_DOW &&
      strcmp(text, "L") == 0) {
    set[7 - x->spec->min] = true;
    return 0;
  }
  if (text[0] == ',' || text[strlen(text) - 1] == ',' ||
      strstr(text, ",,") != NULL)
    return cron_fail(x, "'%s' has an empty list item", text);
  char *save = NULL;
  for (char *item = strtok_r(text, ",", &save); item != NULL;
       item = strtok_r(NULL, ",", &save)) {
    if (strpbrk(item, "LW#?") != NULL && x->spec->field != F_MONTH &&
        x->spec->field != F_DOW)
      return cron_fail(x, "'%s' cannot be part of a list", item);
    if (cron_item(x, item, set) < 0) return -1;
  }
  return 0;
}

int cron_parse(const char *expr, struct cron *c, char *err, size_t errlen) {
  static const struct cron_spec quartz[] = {
      {F_SEC, "second", 0, 59},       {F_MIN, "minute", 0, 59},
      {F_HOUR, "hour", 0, 23},        {F_DOM, "day-of-month", 1, 31},
      {F_MONTH, "month", 1, 12},      {F_DOW, "day-of-week", 1, 7},
      {F_YEAR, "year", CRON_YEAR_MIN, CRON_YEAR_MAX}};
  static const struct cron_spec unix_[] = {
      {F_MIN, "minute", 0, 59},  {F_HOUR, "hour", 0, 23},
      {F_DOM, "day-of-month", 1, 31}, {F_MONTH, "month", 1, 12},
      {F_DOW, "day-of-week", 0, 7}};
  char buf[512];
  char *fields[8];
  int n = 0;
  memset(c, 0, sizeof(*c));
  c->dom_last = c->dow_last = c->dow_nth_day = -1;
  if (expr == NULL || strlen(expr) >= sizeof(buf)) {
    snprintf(err, errlen, "expression: empty or longer than %zu characters",
             sizeof(buf) - 1);
    return -1;
  }
  snprintf(buf, sizeof(buf), "%s", expr);
  char *save = NULL;
  for (char *f = strtok_r(buf, " \t", &save); f != NULL;
       f = strtok_r(NULL, " \t", &save)) {
    if (n == 8) break;
    fields[n++] = f;
  }
  if (n != 5 && n != 6 && n != 7) {
    snprintf(err, errlen,
             "expression: %d fields; expected 5 (Unix: minute hour "
             "day-of-month month day-of-week) or 6-7 (Quartz: second minute "
             "hour day-of-month month day-of-week [year])",
             n);
    return -1;
  }
  c->dialect = n == 5 ? CRON_UNIX : CRON_QUARTZ;
  const struct cron_spec *specs = n == 5 ? unix_ : quartz;
  bool dom_q = false, dow_q = false;
  if (n == 5) c->sec = 1; /* Unix: at second 0 */
  if (n != 7)
    for (int i = 0; i < 4; i++) c->year[i] = ~0ull;
  for (int i = 0; i < n; i++) {
    bool set[CRON_MAXV] = {false};
    bool any, q, star;
    struct cron_ctx x = {c->dialect, &specs[i], err, errlen};
    if (cron_field(&x, fields[i], set, c, &any, &q, &star) < 0) return -1;
    const struct cron_spec *s = &specs[i];
    for (int v = s->min; v <= s->max; v++) {
      if (!set[v - s->min]) continue;
      switch (s->field) {
      case F_SEC: c->sec |= 1ull << v; break;
      case F_MIN: c->min |= 1ull << v; break;
      case F_HOUR: c->hour |= 1u << v; break;
      case F_DOM: c->dom |= 1u << v; break;
      case F_MONTH: c->month |= (uint16_t)(1u << v); break;
      case F_DOW:
        c->dow |= (uint8_t)(1u << (c->dialect == CRON_QUARTZ ? v - 1 : v % 7));
        break;
      case F_YEAR: {
        int b = v - CRON_YEAR_MIN;
        c->year[b / 64] |= 1ull << (b % 64);
        break;
      }
      }
    }
    if (s->field == F_DOM) {
      c->dom_any = any;
      c->dom_star = star;
      dom_q = q;
    }
    if (s->field == F_DOW) {
      c->dow_any = any;
      c->dow_star = star;
      dow_q = q;
    }
  }
  bool dom_special = c->dom_last >= 0 || c->dom_last_wd || c->dom_near_wd;
  bool dow_special = c->dow_last >= 0 || c->dow_nth_day >= 0;
  if (c->dialect == CRON_QUARTZ) {
    if (dom_q && dow_q) {
      snprintf(err, errlen, "day-of-week: '?' in both day-of-month and "
                            "day-of-week leaves no day");
      return -1;
    }
    bool dom_restricts = !dom_q && (!c->dom_any || dom_special);
    bool dow_restricts = !dow_q && (!c->dow_any || dow_special);
    if (dom_restricts && dow_restricts) {
      snprintf(err, errlen, "day-of-week: use '?' in day-of-month or in "
                            "day-of-week (both are restricted)");
      return -1;
    }
    /* Exactly one field decides; the other allows every day.  A `*`
     * beside a restricted field is read as `?`. */
    if (!dom_restricts) {
      c->dom = 0xfffffffeu;
      c->dom_last = -1, c->dom_last_wd = false, c->dom_near_wd = 0;
    }
    if (!dow_restricts) {
      c->dow = 0x7f;
      c->dow_last = c->dow_nth_day = -1;
    }
  }
  return 0;
}

/* ---- matching ---------------------------------------------------------- */

/* Nearest weekday (Mon-Fri) to day d of the month, not leaving it. */
static int cron_nearest_weekday(int y, int m, int d) {
  int dim = civil_days_in_month(y, m);
  if (d > dim) d = dim;
  int wd = civil_weekday(y, m, d);
  if (wd == 6) return d == 1 ? d + 2 : d - 1; /* Saturday */
  if (wd == 0) return d == dim ? d - 2 : d + 1; /* Sunday */
  return d;
}

/* Bit d set: day d of this month fires. */
static uint32_t cron_day_mask(const struct cron *c, int y, int m) {
  int dim = civil_days_in_month(y, m);
  uint32_t valid = (dim == 31 ? 0xffffffffu : ((1u << (dim + 1)) - 1)) & ~1u;
  uint32_t dom = 0, dow = 0;
  if (c->dom_last >= 0) {
    if (dim - c->dom_last >= 1) dom |= 1u << (dim - c->dom_last);
  } else if (c->dom_last_wd) {
    dom |= 1u << cron_nearest_weekday(y, m, dim);
  } else if (c->dom_near_wd) {
    if (c->dom_near_wd <= dim)
      dom |= 1u << cron_nearest_weekday(y, m, c->dom_near_wd);
  } else {
    dom = c->dom & valid;
  }
  int first = civil_weekday(y, m, 1);
  if (c->dow_last >= 0) {
    int last = dim - (civil_weekday(y, m, dim) - c->dow_last + 7) % 7;
    dow |= 1u << last;
  } else if (c->dow_nth_day >= 0) {
    int d = 1 + (c->dow_nth_day - first + 7) % 7 + (c->dow_nth - 1) * 7;
    if (d <= dim) dow |= 1u << d;
  } else {
    /* day d has weekday (first + d - 1) % 7: each weekday w in the set
     * marks every 7th day from its first date on */
    const uint64_t weekly = 0x10204081ull; /* bits 0, 7, 14, 21, 28 */
    for (int w = 0; w < 7; w++)
      if (c->dow & (1u << w)) dow |= (uint32_t)(weekly << (1 + (w - first + 7) % 7));
  }
  /* Unix (as Vixie cron): a field starting with `*` makes the two
   * combine with AND, else either one fires.  Quartz: the field that does
   * not decide allows every day, so AND. */
  if (c->dialect == CRON_UNIX && !c->dom_star && !c->dow_star)
    return (dom | dow) & valid;
  return dom & dow & valid;
}

static bool cron_year_ok(const struct cron *c, int y) {
  if (y < CRON_YEAR_MIN || y > CRON_YEAR_MAX) return false;
  int b = y - CRON_YEAR_MIN;
  return (c->year[b / 64] >> (b % 64)) & 1u;
}

/* Smallest set bit >= from in mask (bits up to hi), or -1. */
static int cron_next_bit(uint64_t mask, int from, int hi) {
  for (int v = from; v <= hi; v++)
    if ((mask >> v) & 1u) return v;
  return -1;
}

bool cron_matches(const struct cron *c, const struct civil *t) {
  return cron_year_ok(c, t->year) && ((c->month >> t->month) & 1u) &&
         ((cron_day_mask(c, t->year, t->month) >> t->day) & 1u) &&
         ((c->hour >> t->hour) & 1u) && ((c->min >> t->min) & 1u) &&
         ((c->sec >> t->sec) & 1u);
}

static void cron_set(struct civil *t, int y, int mo, int d, int h, int mi,
                     int s) {
  t->year = y;
  t->month = mo;
  t->day = d;
  t->hour = h;
  t->min = mi;
  t->sec = s;
}

int cron_next(const struct cron *c, const struct civil *after,
              struct civil *out) {
  struct civil t;
  civil_from_epoch(civil_to_epoch(after) + 1, &t);
  for (int guard = 0; guard < 100000; guard++) {
    if (t.year > CRON_YEAR_MAX) return -1;
    if (!cron_year_ok(c, t.year)) {
      int y = t.year + 1;
      while (y <= CRON_YEAR_MAX && !cron_year_ok(c, y)) y++;
      if (y > CRON_YEAR_MAX || t.year < CRON_YEAR_MIN - 1) {
        if (t.year < CRON_YEAR_MIN) {
          y = CRON_YEAR_MIN;
          while (y <= CRON_YEAR_MAX && !cron_year_ok(c, y)) y++;
          if (y > CRON_YEAR_MAX) return -1;
        } else {
          return -1;
        }
      }
      cron_set(&t, y, 1, 1, 0, 0, 0);
      continue;
    }
    int mo = cron_next_bit(c->month, t.month, 12);
    if (mo < 0) {
      cron_set(&t, t.year + 1, 1, 1, 0, 0, 0);
      continue;
    }
    if (mo != t.month) {
      cron_set(&t, t.year, mo, 1, 0, 0, 0);
      continue;
    }
    int d = cron_next_bit(cron_day_mask(c, t.year, t.month), t.day, 31);
    if (d < 0) {
      if (t.month == 12) cron_set(&t, t.year + 1, 1, 1, 0, 0, 0);
      else cron_set(&t, t.year, t.month + 1, 1, 0, 0, 0);
      continue;
    }
    if (d != t.day) cron_set(&t, t.year, t.month, d, 0, 0, 0);
    int h = cron_next_bit(c->hour, t.hour, 23);
    if (h < 0) {
      civil_from_epoch(civil_days(t.year, t.month, t.day) * 86400 + 86400, &t);
      continue;
    }
    if (h != t.hour) cron_set(&t, t.year, t.month, t.day, h, 0, 0);
    int mi = cron_next_bit(c->min, t.min, 59);
    if (mi < 0) {
      civil_from_epoch(civil_to_epoch(&t) - t.min * 60 - t.sec + 3600, &t);
      continue;
    }
    if (mi != t.min) cron_set(&t, t.year, t.month, t.day, t.hour, mi, 0);
    int s = cron_next_bit(c->sec, t.sec, 59);
    if (s < 0) {
      civil_from_epoch(civil_to_epoch(&t) - t.sec + 60, &t);
      continue;
    }
    t.sec = s;
    *out = t;
    return 0;
  }
  return -1;
}

int cron_next_utc(const struct cron *c, const struct tz *z, int64_t after_utc,
                  int64_t *out) {
  /* Walk local candidates from the local time of `after`; two hours back
   * when the offset changed lately, so that a candidate in an overlap is
   * not missed (otherwise, starting there would cost an every-minute
   * cron 120 steps a call). */
  struct civil from, t;
  int64_t off = tz_offset(z, after_utc);
  int64_t back = tz_offset(z, after_utc - 7200) == off ? 0 : 7200;
  civil_from_epoch(after_utc + off - back, &from);
  for (int guard = 0; guard < 10000; guard++) {
    if (cron_next(c, &from, &t) < 0) return -1;
    int64_t local = civil_to_epoch(&t);
    int64_t utc[2];
    int n = tz_to_utc(z, local, utc);
    /* n == 0: does not exist today (spring forward): skipped.  n == 2:
     * fires at its first occurrence only. */
    if (n > 0 && utc[0] > after_utc) {
      *out = utc[0];
      return 0;
    }
    from = t;
  }
  return -1;
}
