/* civil: calendar arithmetic on proleptic Gregorian civil times, with no
 * time zone and no libc (pure, thread-safe, any year 1..9999). */
#ifndef HERACRON_CIVIL_H
#define HERACRON_CIVIL_H

#include <stdbool.h>
#include <stdint.h>

struct civil {
  int year;  /* e.g. 2026 */
  int month; /* 1..12 */
  int day;   /* 1..31 */
  int hour, min, sec;
};

bool civil_leap(int year);
int civil_days_in_month(int year, int month);
/* Days since 1970-01-01 of a date (negative before). */
int64_t civil_days(int year, int month, int day);
/* 0 = Sunday .. 6 = Saturday */
int civil_weekday(int year, int month, int day);
/* Seconds since the epoch of c read as UTC, and back. */
int64_t civil_to_epoch(const struct civil *c);
void civil_from_epoch(int64_t t, struct civil *c);
/* Parses "YYYY-MM-DD HH:MM:SS" (also "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS").
 * Returns 0, -1 if malformed or out of range. */
int civil_parse(const char *s, struct civil *c);
/* Writes "YYYY-MM-DD HH:MM:SS" (20 bytes with the NUL). */
void civil_format(const struct civil *c, char out[20]);

#endif
