#include "config.h"

#include "sched/macro.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Numbers in macros have at most this many digits, so every product below
 * (weeks in seconds, years in months) stays far inside int64_t and every
 * year handed to civil_days() fits an int. */
#define MACRO_MAX_DIGITS 9
#define MACRO_MAX_ARGS 2
/* Longest run of one pattern letter: Java pads to the run's length, and a
 * bound keeps the padding in a small local buffer. */
#define MACRO_MAX_RUN 32
#define MACRO_YEAR_MIN 1
#define MACRO_YEAR_MAX 9999

static const char macro_default_pattern[] = "yyyy-MM-dd HH:mm:ss";

/* java.util.Calendar field numbers, as hera scripts write them. */
enum {
  F_YEAR = 1,
  F_MONTH = 2,
  F_WEEK_OF_YEAR = 3,
  F_WEEK_OF_MONTH = 4,
  F_DAY_OF_MONTH = 5,
  F_DAY_OF_YEAR = 6,
  F_DAY_OF_WEEK = 7,
  F_DAY_OF_WEEK_IN_MONTH = 8,
  F_HOUR = 10,
  F_HOUR_OF_DAY = 11,
  F_MINUTE = 12,
  F_SECOND = 13,
};

struct macro_buf {
  char *p;
  size_t len, cap; /* cap > len once p is allocated: room for the NUL */
};

struct macro_ctx {
  const struct civil *anchor;
  const struct macro_var *vars;
  size_t nvars;
  char *err;
  size_t errlen;
  struct macro_buf *out;
  size_t offset;   /* of the script token's '$' */
  const char *tok; /* the script token, "${...}"; NULL outside tokens */
  size_t toklen;
  const char *cur; /* what is being evaluated, inside "${" "}" */
  size_t curlen;
};

/* A cursor over the text of one ${zdt...}. */
struct zdt_cur {
  const char *p, *end;
};

struct zdt_arg {
  bool str;
  int64_t num;
  const char *s; /* a string's text, without its quotes */
  size_t len;
};

enum zdt_op { OP_ADD, OP_SET, OP_FORMAT, OP_TIME, OP_MILLIS };

struct zdt_method {
  const char *name;
  enum zdt_op op;
  int field; /* for the addX() shorthands; 0: the first argument */
  int nargs;
};

static const struct zdt_method zdt_methods[] = {
    {"addYear", OP_ADD, F_YEAR, 1},
    {"addMonth", OP_ADD, F_MONTH, 1},
    {"addDay", OP_ADD, F_DAY_OF_MONTH, 1},
    {"addHour", OP_ADD, F_HOUR_OF_DAY, 1},
    {"addMinute", OP_ADD, F_MINUTE, 1},
    {"addSecond", OP_ADD, F_SECOND, 1},
    {"add", OP_ADD, 0, 2},
    {"set", OP_SET, 0, 2},
    {"format", OP_FORMAT, 0, 1},
    {"getTime", OP_TIME, 0, 0},
    {"getMillis", OP_MILLIS, 0, 0},
};

static const char *const zdt_month_names[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
static const char *const zdt_day_names[] = {"Sunday",   "Monday", "Tuesday",
                                            "Wednesday", "Thursday", "Friday",
                                            "Saturday"};

/* Long tokens are cut in messages: the offset already locates them. */
static int macro_clip(size_t n) { return n > 200 ? 200 : (int)n; }

__attribute__((format(printf, 2, 3))) static int
macro_fail(const struct macro_ctx *x, const char *fmt, ...) {
  if (x->err == NULL || x->errlen == 0) return -1;
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (x->tok == NULL)
    snprintf(x->err, x->errlen, "%s", msg);
  else if (x->cur == x->tok + 2) /* the script's own token */
    snprintf(x->err, x->errlen, "bad macro at offset %zu: %s in %.*s",
             x->offset, msg, macro_clip(x->toklen), x->tok);
  else /* reached through variables: name both */
    snprintf(x->err, x->errlen,
             "bad macro at offset %zu: %s in ${%.*s} (from %.*s)", x->offset,
             msg, macro_clip(x->curlen), x->cur, macro_clip(x->toklen),
             x->tok);
  return -1;
}

static int macro_reserve(struct macro_buf *b, size_t more) {
  size_t need = b->len + more + 1;
  if (need <= b->len) return -1; /* overflow */
  if (need <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *p = realloc(b->p, cap);
  if (p == NULL) return -1;
  b->p = p;
  b->cap = cap;
  return 0;
}

static int macro_put(const struct macro_ctx *x, const char *s, size_t n) {
  struct macro_buf *b = x->out;
  if (macro_reserve(b, n) < 0) return macro_fail(x, "out of memory");
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

static int macro_puts(const struct macro_ctx *x, const char *s) {
  return macro_put(x, s, strlen(s));
}

/* ---- dates ------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b) {
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int zdt_check(const struct macro_ctx *x, int64_t year) {
  if (year < MACRO_YEAR_MIN || year > MACRO_YEAR_MAX)
    return macro_fail(x, "date out of range (years %d-%d)", MACRO_YEAR_MIN,
                      MACRO_YEAR_MAX);
  return 0;
}

/* The anchor, checked: the civil functions index tables by month. */
static int zdt_start(const struct macro_ctx *x, struct civil *d) {
  const struct civil *a = x->anchor;
  if (a == NULL) return macro_fail(x, "no anchor time for a date macro");
  if (a->year < MACRO_YEAR_MIN || a->year > MACRO_YEAR_MAX || a->month < 1 ||
      a->month > 12 || a->day < 1 ||
      a->day > civil_days_in_month(a->year, a->month) || a->hour < 0 ||
      a->hour > 23 || a->min < 0 || a->min > 59 || a->sec < 0 || a->sec > 59)
    return macro_fail(x, "invalid anchor time");
  *d = *a;
  return 0;
}

/* Exact elapsed-time arithmetic: civil time has no DST to skip. */
static int zdt_shift(const struct macro_ctx *x, struct civil *d,
                     int64_t secs) {
  civil_from_epoch(civil_to_epoch(d) + secs, d);
  return zdt_check(x, d->year);
}

/* Java's add(MONTH): the day is kept but pinned to the new month's end. */
static int zdt_add_months(const struct macro_ctx *x, struct civil *d,
                          int64_t n) {
  int64_t m = (int64_t)d->year * 12 + (d->month - 1) + n;
  int64_t y = floor_div(m, 12);
  if (zdt_check(x, y) < 0) return -1;
  d->year = (int)y;
  d->month = (int)(m - y * 12) + 1;
  int dim = civil_days_in_month(d->year, d->month);
  if (d->day > dim) d->day = dim;
  return 0;
}

/* Java's lenient calendar: any field may overflow into the next one. */
static int zdt_lenient(const struct macro_ctx *x, struct civil *d, int64_t y,
                       int64_t mo, int64_t day, int64_t h, int64_t mi,
                       int64_t s) {
  int64_t m0 = mo - 1;
  y += floor_div(m0, 12);
  m0 -= floor_div(m0, 12) * 12;
  if (zdt_check(x, y) < 0) return -1;
  int64_t t = civil_days((int)y, (int)m0 + 1, 1) * 86400 +
              (day - 1) * 86400 + h * 3600 + mi * 60 + s;
  civil_from_epoch(t, d);
  return zdt_check(x, d->year);
}

static int zdt_add(const struct macro_ctx *x, struct civil *d, int64_t field,
                   int64_t n) {
  switch (field) {
  case F_YEAR:
    return zdt_add_months(x, d, n * 12);
  case F_MONTH:
    return zdt_add_months(x, d, n);
  case F_WEEK_OF_YEAR:
  case F_WEEK_OF_MONTH:
  case F_DAY_OF_WEEK_IN_MONTH:
    return zdt_shift(x, d, n * 7 * 86400);
  case F_DAY_OF_MONTH:
  case F_DAY_OF_YEAR:
  case F_DAY_OF_WEEK:
    return zdt_shift(x, d, n * 86400);
  case F_HOUR:
  case F_HOUR_OF_DAY:
    return zdt_shift(x, d, n * 3600);
  case F_MINUTE:
    return zdt_shift(x, d, n * 60);
  case F_SECOND:
    return zdt_shift(x, d, n);
  }
  return macro_fail(x, "unsupported Calendar field %lld in add()",
                    (long long)field);
}

static int zdt_set(const struct macro_ctx *x, struct civil *d, int64_t field,
                   int64_t v) {
  int64_t y = d->year, mo = d->month, day = d->day, h = d->hour, mi = d->min,
          s = d->sec;
  switch (field) {
  case F_YEAR: y = v; break;
  case F_MONTH: mo = v + 1; break; /* Java months count from 0 */
  case F_DAY_OF_MONTH: day = v; break;
  case F_DAY_OF_YEAR: mo = 1; day = v; break;
  case F_HOUR: h = (d->hour >= 12 ? 12 : 0) + v; break; /* keeps AM/PM */
  case F_HOUR_OF_DAY: h = v; break;
  case F_MINUTE: mi = v; break;
  case F_SECOND: s = v; break;
  default:
    return macro_fail(x, "unsupported Calendar field %lld in set()",
                      (long long)field);
  }
  return zdt_lenient(x, d, y, mo, day, h, mi, s);
}

/* ---- SimpleDateFormat --------------------------------------------------- */

static int zdt_num(const struct macro_ctx *x, int64_t v, size_t width) {
  char s[MACRO_MAX_RUN + 24];
  int n = snprintf(s, sizeof(s), "%0*lld", (int)width, (long long)v);
  return macro_put(x, s, (size_t)n);
}

/* Text fields: 4 letters or more give the full name, fewer its first 3. */
static int zdt_name(const struct macro_ctx *x, const char *name, size_t run) {
  return macro_put(x, name, run >= 4 ? strlen(name) : 3);
}

static int zdt_letter(const struct macro_ctx *x, const struct civil *d,
                      char ch, size_t run) {
  if (run > MACRO_MAX_RUN)
    return macro_fail(x, "more than %d '%c' in a row in the pattern",
                      MACRO_MAX_RUN, ch);
  int h12 = d->hour % 12;
  switch (ch) {
  case 'y': /* "yy" alone is the 2-digit year */
    return run == 2 ? zdt_num(x, d->year % 100, 2) : zdt_num(x, d->year, run);
  case 'M':
    return run >= 3 ? zdt_name(x, zdt_month_names[d->month - 1], run)
                    : zdt_num(x, d->month, run);
  case 'd': return zdt_num(x, d->day, run);
  case 'H': return zdt_num(x, d->hour, run);
  case 'h': return zdt_num(x, h12 ? h12 : 12, run);
  case 'k': return zdt_num(x, d->hour ? d->hour : 24, run);
  case 'K': return zdt_num(x, h12, run);
  case 'm': return zdt_num(x, d->min, run);
  case 's': return zdt_num(x, d->sec, run);
  case 'S': return zdt_num(x, 0, run); /* civil time has no milliseconds */
  case 'a': return macro_puts(x, d->hour < 12 ? "AM" : "PM");
  case 'D':
    return zdt_num(x, civil_days(d->year, d->month, d->day) -
                          civil_days(d->year, 1, 1) + 1, run);
  case 'E':
    return zdt_name(x, zdt_day_names[civil_weekday(d->year, d->month, d->day)],
                    run);
  }
  return macro_fail(x, "unsupported pattern letter '%c'", ch);
}

/* Quoted text from just after an opening quote; '' inside is one quote.
 * Returns the index after the closing quote, 0 on error. */
static size_t zdt_quoted(const struct macro_ctx *x, const char *pat,
                         size_t len, size_t i) {
  for (; i < len; i++) {
    if (pat[i] != '\'') {
      if (macro_put(x, pat + i, 1) < 0) return 0;
      continue;
    }
    if (i + 1 < len && pat[i + 1] == '\'') {
      if (macro_put(x, "'", 1) < 0) return 0;
      i++;
      continue;
    }
    return i + 1;
  }
  macro_fail(x, "unterminated quote in the pattern");
  return 0;
}

static int zdt_format(const struct macro_ctx *x, const struct civil *d,
                      const char *pat, size_t len) {
  size_t i = 0;
  while (i < len) {
    char ch = pat[i];
    if (ch == '\'' && i + 1 < len && pat[i + 1] == '\'') { /* '' is ' */
      if (macro_put(x, "'", 1) < 0) return -1;
      i += 2;
    } else if (ch == '\'') {
      i = zdt_quoted(x, pat, len, i + 1);
      if (i == 0) return -1;
    } else if (isalpha((unsigned char)ch)) {
      size_t run = 1;
      while (i + run < len && pat[i + run] == ch) run++;
      if (zdt_letter(x, d, ch, run) < 0) return -1;
      i += run;
    } else {
      if (macro_put(x, &pat[i], 1) < 0) return -1;
      i++;
    }
  }
  return 0;
}

/* ---- the ${zdt...} parser ---------------------------------------------- */

static void zdt_blanks(struct zdt_cur *c) {
  while (c->p < c->end && isspace((unsigned char)*c->p)) c->p++;
}

static bool zdt_at(const struct zdt_cur *c, char ch) {
  return c->p < c->end && *c->p == ch;
}

static int zdt_number(const struct macro_ctx *x, struct zdt_cur *c,
                      int64_t *out) {
  bool neg = zdt_at(c, '-');
  if (neg) c->p++;
  const char *start = c->p;
  int64_t v = 0;
  while (c->p < c->end && isdigit((unsigned char)*c->p)) {
    if (c->p - start >= MACRO_MAX_DIGITS)
      return macro_fail(x, "number with more than %d digits",
                        MACRO_MAX_DIGITS);
    v = v * 10 + (*c->p++ - '0');
  }
  if (c->p == start) return macro_fail(x, "'-' without a number");
  *out = neg ? -v : v;
  return 0;
}

static int zdt_arg(const struct macro_ctx *x, struct zdt_cur *c,
                   const struct zdt_method *m, int i, struct zdt_arg *a) {
  if (zdt_at(c, '"')) {
    const char *s = ++c->p;
    while (c->p < c->end && *c->p != '"') c->p++;
    if (c->p == c->end)
      return macro_fail(x, "unterminated string in %s()", m->name);
    *a = (struct zdt_arg){.str = true, .s = s, .len = (size_t)(c->p - s)};
    c->p++;
    return 0;
  }
  if (zdt_at(c, '-') || (c->p < c->end && isdigit((unsigned char)*c->p))) {
    *a = (struct zdt_arg){.str = false};
    return zdt_number(x, c, &a->num);
  }
  return macro_fail(x,
                    "bad argument %d of %s(): expected a number or a "
                    "\"double-quoted\" string",
                    i + 1, m->name);
}

/* The arguments, from just after '(' to just after ')'. */
static int zdt_args(const struct macro_ctx *x, struct zdt_cur *c,
                    const struct zdt_method *m, struct zdt_arg *args,
                    int *nargs) {
  *nargs = 0;
  zdt_blanks(c);
  if (zdt_at(c, ')')) {
    c->p++;
    return 0;
  }
  for (;;) {
    if (*nargs == MACRO_MAX_ARGS)
      return macro_fail(x, "too many arguments to %s()", m->name);
    if (zdt_arg(x, c, m, *nargs, &args[*nargs]) < 0) return -1;
    ++*nargs;
    zdt_blanks(c);
    if (zdt_at(c, ')')) {
      c->p++;
      return 0;
    }
    if (!zdt_at(c, ','))
      return macro_fail(x, "missing ')' after the arguments of %s()",
                        m->name);
    c->p++;
    zdt_blanks(c);
  }
}

/* Arity and types: format() takes a string, every other method numbers. */
static int zdt_check_args(const struct macro_ctx *x,
                          const struct zdt_method *m,
                          const struct zdt_arg *args, int nargs) {
  if (nargs != m->nargs)
    return macro_fail(x, "%s() takes %d argument%s, not %d", m->name,
                      m->nargs, m->nargs == 1 ? "" : "s", nargs);
  bool want_str = m->op == OP_FORMAT;
  for (int i = 0; i < nargs; i++)
    if (args[i].str != want_str)
      return macro_fail(x, "argument %d of %s() must be a %s", i + 1,
                        m->name, want_str ? "string" : "number");
  return 0;
}

/* One ".name(args)", from just after the '.'. */
static int zdt_call(const struct macro_ctx *x, struct zdt_cur *c,
                    const struct zdt_method **mp, struct zdt_arg *args) {
  const char *name = c->p;
  while (c->p < c->end && (isalnum((unsigned char)*c->p) || *c->p == '_'))
    c->p++;
  size_t len = (size_t)(c->p - name);
  if (len == 0) return macro_fail(x, "expected a method name after '.'");
  const struct zdt_method *m = NULL;
  for (size_t i = 0; i < sizeof(zdt_methods) / sizeof(zdt_methods[0]); i++)
    if (strlen(zdt_methods[i].name) == len &&
        memcmp(zdt_methods[i].name, name, len) == 0)
      m = &zdt_methods[i];
  if (m == NULL)
    return macro_fail(x, "unknown method '%.*s'", macro_clip(len), name);
  if (!zdt_at(c, '(')) return macro_fail(x, "missing '(' after %s", m->name);
  c->p++;
  int nargs;
  if (zdt_args(x, c, m, args, &nargs) < 0 ||
      zdt_check_args(x, m, args, nargs) < 0)
    return -1;
  *mp = m;
  return 0;
}

static int zdt_terminal(const struct macro_ctx *x, const struct civil *d,
                        const struct zdt_method *m,
                        const struct zdt_arg *args) {
  char s[32];
  switch (m->op) {
  case OP_FORMAT:
    return zdt_format(x, d, args[0].s, args[0].len);
  case OP_TIME:
  case OP_MILLIS:
    snprintf(s, sizeof(s), "%lld",
             (long long)(civil_to_epoch(d) * (m->op == OP_MILLIS ? 1000 : 1)));
    return macro_puts(x, s);
  default:
    return -1; /* not a terminal */
  }
}

/* Evaluates the text of a ${zdt...} (s starts with "zdt") into the
 * output. */
static int zdt_eval(const struct macro_ctx *x, const char *s, size_t len) {
  struct civil d;
  if (zdt_start(x, &d) < 0) return -1;
  struct zdt_cur c = {s + 3, s + len};
  while (c.p < c.end) {
    if (*c.p != '.')
      return macro_fail(x, "unexpected '%c' where '.' or the end belongs",
                        *c.p);
    c.p++;
    const struct zdt_method *m = NULL;
    struct zdt_arg args[MACRO_MAX_ARGS];
    if (zdt_call(x, &c, &m, args) < 0) return -1;
    if (m->op == OP_ADD || m->op == OP_SET) {
      int64_t field = m->field ? m->field : args[0].num;
      int64_t v = args[m->field ? 0 : 1].num;
      int rc = m->op == OP_ADD ? zdt_add(x, &d, field, v)
                               : zdt_set(x, &d, field, v);
      if (rc < 0) return -1;
      continue;
    }
    if (c.p != c.end)
      return macro_fail(x, "nothing may follow %s()", m->name);
    return zdt_terminal(x, &d, m, args);
  }
  return zdt_format(x, &d, macro_default_pattern,
                    sizeof(macro_default_pattern) - 1);
}

/* ---- tokens and variables ------------------------------------------------ */

static bool macro_is_zdt(const char *s, size_t len) {
  return len >= 3 && memcmp(s, "zdt", 3) == 0 && (len == 3 || s[3] == '.');
}

/* The '}' closing the token whose text starts at s, or NULL.  A date
 * macro's string may hold a '}', so for one the '}' must be outside
 * quotes; if that finds none (an unterminated string), the first '}' is
 * taken so that the parser reports the string. */
static const char *macro_close(const char *s) {
  if (strncmp(s, "zdt", 3) == 0 && (s[3] == '.' || s[3] == '}')) {
    bool quoted = false;
    for (const char *p = s; *p; p++) {
      if (*p == '"') quoted = !quoted;
      else if (*p == '}' && !quoted) return p;
    }
  }
  return strchr(s, '}');
}

static const struct macro_var *macro_lookup(const struct macro_ctx *x,
                                            const char *key, size_t len) {
  for (size_t i = 0; i < x->nvars; i++) {
    const char *k = x->vars[i].key;
    if (k != NULL && strncmp(k, key, len) == 0 && k[len] == '\0')
      return &x->vars[i];
  }
  return NULL;
}

static int macro_yesterday(const struct macro_ctx *x) {
  struct civil d;
  if (zdt_start(x, &d) < 0 || zdt_shift(x, &d, -86400) < 0) return -1;
  return zdt_format(x, &d, "yyyyMMdd", 8);
}

/* Expands the text s of a token (between "${" and "}").  Returns 0 once
 * written, 1 if unknown (nothing written), -1 on error. */
static int macro_resolve(struct macro_ctx *x, const char *s, size_t len,
                         int depth) {
  x->cur = s;
  x->curlen = len;
  const struct macro_var *v = macro_lookup(x, s, len);
  if (v != NULL) {
    const char *val = v->value ? v->value : "";
    size_t vlen = strlen(val);
    if (vlen < 3 || val[0] != '$' || val[1] != '{' ||
        macro_close(val + 2) != val + vlen - 1)
      return macro_put(x, val, vlen);
    if (depth >= MACRO_MAX_DEPTH) return macro_fail(x, "variable loop");
    int rc = macro_resolve(x, val + 2, vlen - 3, depth + 1);
    return rc == 1 ? macro_put(x, val, vlen) : rc; /* unknown: as it is */
  }
  if (len == 9 && memcmp(s, "yesterday", 9) == 0) return macro_yesterday(x);
  if (macro_is_zdt(s, len)) return zdt_eval(x, s, len);
  return 1;
}

/* Expands the text at s[0] == '$'.  Returns the bytes of script consumed
 * (left-as-is text consumes only its '$', so that what follows is still
 * scanned), or -1 on error. */
static int64_t macro_token(struct macro_ctx *x, const char *script,
                           const char *s) {
  const char *close = s[1] == '{' ? macro_close(s + 2) : NULL;
  if (close == NULL) return macro_put(x, "$", 1) < 0 ? -1 : 1;
  x->offset = (size_t)(s - script);
  x->tok = s;
  x->toklen = (size_t)(close - s) + 1;
  int rc = macro_resolve(x, s + 2, (size_t)(close - s) - 2, 0);
  x->tok = NULL;
  if (rc < 0) return -1;
  if (rc == 1) return macro_put(x, "$", 1) < 0 ? -1 : 1;
  return (int64_t)x->toklen;
}

char *macro_expand(const char *script, const struct civil *anchor,
                   const struct macro_var *vars, size_t n, char *err,
                   size_t errlen) {
  struct macro_buf b = {NULL, 0, 0};
  struct macro_ctx x = {.anchor = anchor, .vars = vars, .nvars = vars ? n : 0,
                        .err = err, .errlen = errlen, .out = &b};
  if (err != NULL && errlen > 0) err[0] = '\0';
  if (script == NULL) {
    macro_fail(&x, "no script");
    return NULL;
  }
  /* Most scripts have few macros: size for the text once. */
  if (macro_reserve(&b, strlen(script)) < 0) {
    macro_fail(&x, "out of memory");
    return NULL;
  }
  b.p[0] = '\0';
  const char *p = script;
  for (;;) {
    const char *dollar = strchr(p, '$');
    size_t plain = dollar ? (size_t)(dollar - p) : strlen(p);
    if (macro_put(&x, p, plain) < 0) break;
    if (dollar == NULL) return b.p;
    int64_t used = macro_token(&x, script, dollar);
    if (used < 0) break;
    p = dollar + used;
  }
  free(b.p);
  return NULL;
}
