#include "config.h"

#include "sched/tz.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/civil.h"

/* A POSIX TZ rule date: Mm.w.d, Jn (1..365, no Feb 29) or n (0..365). */
struct tz_date {
  char kind; /* 'M', 'J', 'N' */
  int m, w, d, n;
  int32_t time; /* seconds after local midnight, may be < 0 or > 24 h */
};

struct tz_rule {
  bool valid;
  bool has_dst;
  int32_t std_off, dst_off; /* seconds east of UTC */
  struct tz_date start, end;
};

struct tz {
  char name[64];
  size_t n;            /* transitions */
  int64_t *at;         /* transition instants, ascending */
  int32_t *off_after;  /* offset in force from at[i] */
  int32_t first_off;   /* offset before the first transition */
  struct tz_rule rule; /* after the last transition */
};

const char *tz_name(const struct tz *z) { return z->name; }

void tz_free(struct tz *z) {
  if (z == NULL) return;
  free(z->at);
  free(z->off_after);
  free(z);
}

/* ---- POSIX TZ strings -------------------------------------------------- */

static const char *tz_parse_name(const char *p) {
  if (*p == '<') {
    const char *e = strchr(p, '>');
    return e ? e + 1 : NULL;
  }
  const char *s = p;
  while (isalpha((unsigned char)*p)) p++;
  return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]]; returns seconds, sign as written. */
static const char *tz_parse_hms(const char *p, int32_t *out) {
  int sign = 1;
  if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
  if (!isdigit((unsigned char)*p)) return NULL;
  long h = strtol(p, (char **)&p, 10), m = 0, s = 0;
  if (*p == ':') {
    m = strtol(p + 1, (char **)&p, 10);
    if (*p == ':') s = strtol(p + 1, (char **)&p, 10);
  }
  if (h > 167 || m > 59 || s > 59) return NULL;
  *out = (int32_t)(sign * (h * 3600 + m * 60 + s));
  return p;
}

static const char *tz_parse_date(const char *p, struct tz_date *d) {
  d->time = 7200; /* 02:00 by default */
  if (*p == 'M') {
    d->kind = 'M';
    d->m = (int)strtol(p + 1, (char **)&p, 10);
    if (*p++ != '.') return NULL;
    d->w = (int)strtol(p, (char **)&p, 10);
    if (*p++ != '.') return NULL;
    d->d = (int)strtol(p, (char **)&p, 10);
    if (d->m < 1 || d->m > 12 || d->w < 1 || d->w > 5 || d->d < 0 || d->d > 6)
      return NULL;
  } else if (*p == 'J') {
    d->kind = 'J';
    d->n = (int)strtol(p + 1, (char **)&p, 10);
    if (d->n < 1 || d->n > 365) return NULL;
  } else if (isdigit((unsigned char)*p)) {
    d->kind = 'N';
    d->n = (int)strtol(p, (char **)&p, 10);
    if (d->n > 365) return NULL;
  } else {
    return NULL;
  }
  if (*p == '/') p = tz_parse_hms(p + 1, &d->time);
  return p;
}

static int tz_parse_rule(const char *s, struct tz_rule *r) {
  memset(r, 0, sizeof(*r));
  const char *p = tz_parse_name(s);
  int32_t v;
  if (p == NULL || (p = tz_parse_hms(p, &v)) == NULL) return -1;
  r->std_off = -v; /* POSIX offsets are west of UTC */
  if (*p == '\0') {
    r->valid = true;
    return 0;
  }
  if ((p = tz_parse_name(p)) == NULL) return -1;
  r->has_dst = true;
  r->dst_off = r->std_off + 3600;
  if (*p != ',' && *p != '\0') {
    if ((p = tz_parse_hms(p, &v)) == NULL) return -1;
    r->dst_off = -v;
  }
  if (*p != ',') return -1; /* no default rules: TZif footers give them */
  if ((p = tz_parse_date(p + 1, &r->start)) == NULL || *p != ',') return -1;
  if ((p = tz_parse_date(p + 1, &r->end)) == NULL || *p != '\0') return -1;
  r->valid = true;
  return 0;
}

/* Local midnight (as civil seconds) of a rule date in year y. */
static int64_t tz_rule_day(const struct tz_date *d, int y) {
  if (d->kind == 'J') {
    int n = d->n - 1; /* Feb 29 never counted */
    if (civil_leap(y) && n >= 59) n++;
    return (civil_days(y, 1, 1) + n) * 86400;
  }
  if (d->kind == 'N') return (civil_days(y, 1, 1) + d->n) * 86400;
  int first = civil_weekday(y, d->m, 1);
  int day = 1 + (d->d - first + 7) % 7 + (d->w - 1) * 7;
  int dim = civil_days_in_month(y, d->m);
  while (day > dim) day -= 7;
  return civil_days(y, d->m, day) * 86400;
}

static int32_t tz_rule_offset(const struct tz_rule *r, int64_t utc) {
  if (!r->has_dst) return r->std_off;
  struct civil c;
  civil_from_epoch(utc + r->std_off, &c);
  int y = c.year;
  int64_t start = tz_rule_day(&r->start, y) + r->start.time - r->std_off;
  int64_t end = tz_rule_day(&r->end, y) + r->end.time - r->dst_off;
  bool dst = start < end ? (utc >= start && utc < end)
                         : !(utc >= end && utc < start);
  return dst ? r->dst_off : r->std_off;
}

/* ---- TZif files -------------------------------------------------------- */

static uint32_t tz_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t tz_be64(const uint8_t *p) {
  return (int64_t)((uint64_t)tz_be32(p) << 32 | tz_be32(p + 4));
}

static int tz_parse_tzif(struct tz *z, const uint8_t *buf, size_t len) {
  if (len < 44 || memcmp(buf, "TZif", 4) != 0) return -1;
  int version = buf[4];
  const uint8_t *h = buf;
  size_t tsize = 4;
  for (int pass = 0; pass < 2; pass++) {
    uint32_t isutcnt = tz_be32(h + 20), isstdcnt = tz_be32(h + 24),
             leapcnt = tz_be32(h + 28), timecnt = tz_be32(h + 32),
             typecnt = tz_be32(h + 36), charcnt = tz_be32(h + 40);
    size_t body = timecnt * tsize + timecnt + typecnt * 6u + charcnt +
                  leapcnt * (tsize + 4) + isstdcnt + isutcnt;
    const uint8_t *d = h + 44;
    if (typecnt == 0 || typecnt > 256 || (size_t)(d - buf) + body > len)
      return -1;
    if (pass == 0 && version >= '2') { /* skip the 32-bit data */
      h = d + body;
      tsize = 8;
      if ((size_t)(h - buf) + 44 > len || memcmp(h, "TZif", 4) != 0) return -1;
      continue;
    }
    const uint8_t *idx = d + timecnt * tsize, *types = idx + timecnt;
    z->n = timecnt;
    z->at = calloc(timecnt ? timecnt : 1, sizeof(int64_t));
    z->off_after = calloc(timecnt ? timecnt : 1, sizeof(int32_t));
    if (z->at == NULL || z->off_after == NULL) return -1;
    for (uint32_t i = 0; i < timecnt; i++) {
      z->at[i] = tsize == 8 ? tz_be64(d + i * 8)
                            : (int64_t)(int32_t)tz_be32(d + i * 4);
      if (idx[i] >= typecnt) return -1;
      z->off_after[i] = (int32_t)tz_be32(types + idx[i] * 6u);
    }
    /* Before the first transition: the first standard-time type. */
    z->first_off = (int32_t)tz_be32(types);
    for (uint32_t t = 0; t < typecnt; t++)
      if (types[t * 6 + 4] == 0) {
        z->first_off = (int32_t)tz_be32(types + t * 6);
        break;
      }
    if (tsize == 8) { /* footer: "\nTZ\n" */
      const char *f = (const char *)(d + body);
      size_t left = len - (size_t)((const uint8_t *)f - buf);
      if (left >= 2 && f[0] == '\n') {
        char rule[128];
        const char *e = memchr(f + 1, '\n', left - 1);
        size_t rl = e ? (size_t)(e - f - 1) : 0;
        if (rl > 0 && rl < sizeof(rule)) {
          memcpy(rule, f + 1, rl);
          rule[rl] = '\0';
          if (tz_parse_rule(rule, &z->rule) < 0) z->rule.valid = false;
        }
      }
    }
    return 0;
  }
  return -1;
}

static bool tz_name_ok(const char *s) {
  if (s[0] == '/' || s[0] == '.' || strlen(s) > 60) return false;
  if (strstr(s, "..") != NULL) return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("/_+-", *s)) return false;
  return true;
}

struct tz *tz_load(const char *name, char *err, size_t errlen) {
  struct tz *z = calloc(1, sizeof(*z));
  if (z == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  char path[256];
  const char *label = name;
  if (name == NULL || name[0] == '\0') {
    const char *env = getenv("TZ");
    if (env != NULL && env[0] == ':') env++;
    if (env != NULL && env[0] != '\0' && tz_name_ok(env)) {
      snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", env);
      label = env;
    } else {
      snprintf(path, sizeof(path), "/etc/localtime");
      label = "localtime";
    }
  } else if (strcmp(name, "UTC") == 0 || strcmp(name, "Z") == 0) {
    snprintf(z->name, sizeof(z->name), "UTC");
    return z;
  } else if (!tz_name_ok(name)) {
    snprintf(err, errlen, "unknown time zone '%s'", name);
    free(z);
    return NULL;
  } else {
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
  }
  snprintf(z->name, sizeof(z->name), "%s", label);
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    if (name == NULL || name[0] == '\0') { /* no zone set up: UTC */
      snprintf(z->name, sizeof(z->name), "UTC");
      return z;
    }
    snprintf(err, errlen, "unknown time zone '%s'", name);
    free(z);
    return NULL;
  }
  uint8_t *buf = malloc(1 << 20);
  size_t len = buf ? fread(buf, 1, 1 << 20, f) : 0;
  fclose(f);
  if (buf == NULL || tz_parse_tzif(z, buf, len) < 0) {
    snprintf(err, errlen, "time zone '%s': %s is not a valid TZif file",
             label, path);
    free(buf);
    tz_free(z);
    return NULL;
  }
  free(buf);
  return z;
}

int32_t tz_offset(const struct tz *z, int64_t utc) {
  if (z->n == 0) return z->rule.valid ? tz_rule_offset(&z->rule, utc) : z->first_off;
  if (utc < z->at[0]) return z->first_off;
  if (utc >= z->at[z->n - 1] && z->rule.valid)
    return tz_rule_offset(&z->rule, utc);
  size_t lo = 0, hi = z->n; /* last i with at[i] <= utc */
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (z->at[mid] <= utc) lo = mid;
    else hi = mid;
  }
  return z->off_after[lo];
}

int tz_to_utc(const struct tz *z, int64_t local, int64_t out[2]) {
  /* Offsets in force a day around: at most one change between them. */
  int32_t o1 = tz_offset(z, local - 86400), o2 = tz_offset(z, local + 86400);
  int n = 0;
  int64_t c1 = local - o1, c2 = local - o2;
  if (tz_offset(z, c1) == o1) out[n++] = c1;
  if (o2 != o1 && tz_offset(z, c2) == o2) out[n++] = c2;
  if (n == 2 && out[1] < out[0]) {
    int64_t t = out[0];
    out[0] = out[1];
    out[1] = t;
  }
  return n;
}
