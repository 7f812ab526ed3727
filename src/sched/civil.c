#include "config.h"

#include "sched/civil.h"

#include <stdio.h>

bool civil_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int civil_days_in_month(int y, int m) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && civil_leap(y) ? 29 : d[m - 1];
}

/* Howard Hinnant's days_from_civil. */
int64_t civil_days(int y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int civil_weekday(int y, int m, int d) {
  int64_t z = civil_days(y, m, d);
  return (int)(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

int64_t civil_to_epoch(const struct civil *c) {
  return civil_days(c->year, c->month, c->day) * 86400 + c->hour * 3600 +
         c->min * 60 + c->sec;
}

void civil_from_epoch(int64_t t, struct civil *c) {
  int64_t z = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  int64_t secs = t - z * 86400;
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp + (mp < 10 ? 3 : -9);
  c->year = (int)(y + (m <= 2));
  c->month = (int)m;
  c->day = (int)d;
  c->hour = (int)(secs / 3600);
  c->min = (int)(secs / 60 % 60);
  c->sec = (int)(secs % 60);
}

int civil_parse(const char *s, struct civil *c) {
  int n = 0;
  char sep = ' ';
  c->hour = c->min = c->sec = 0;
  if (sscanf(s, "%4d-%2d-%2d%n", &c->year, &c->month, &c->day, &n) != 3)
    return -1;
  if (s[n] != '\0') {
    int m = 0;
    if (sscanf(s + n, "%c%2d:%2d:%2d%n", &sep, &c->hour, &c->min, &c->sec,
               &m) != 4 ||
        (sep != ' ' && sep != 'T') || s[n + m] != '\0')
      return -1;
  }
  if (c->year < 1970 || c->year > 9999 || c->month < 1 || c->month > 12 ||
      c->day < 1 || c->day > civil_days_in_month(c->year, c->month) ||
      c->hour < 0 || c->hour > 23 || c->min < 0 || c->min > 59 ||
      c->sec < 0 || c->sec > 59)
    return -1;
  return 0;
}

void civil_format(const struct civil *c, char out[20]) {
  snprintf(out, 20, "%04d-%02d-%02d %02d:%02d:%02d", c->year % 10000,
           c->month % 100, c->day % 100, c->hour % 100, c->min % 100,
           c->sec % 100);
}
