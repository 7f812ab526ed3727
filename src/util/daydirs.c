#include "config.h"

#include "util/daydirs.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t daydirs_expired(const char *dir, unsigned keep_days, time_t now,
                       char **out, size_t max) {
  if (keep_days == 0) return 0;
  struct tm tm;
  localtime_r(&now, &tm);
  tm.tm_mday -= (int)keep_days;
  tm.tm_hour = 12; /* no DST edge */
  tm.tm_isdst = -1;
  time_t t = mktime(&tm);
  localtime_r(&t, &tm);
  char cutoff[16];
  snprintf(cutoff, sizeof(cutoff), "%04d-%02d-%02d", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday);
  DIR *d = opendir(dir);
  if (d == NULL) return 0;
  size_t n = 0;
  struct dirent *e;
  while (n < max && (e = readdir(d)) != NULL) {
    const char *s = e->d_name;
    bool day = strlen(s) == 10 && s[4] == '-' && s[7] == '-';
    for (int i = 0; day && i < 10; i++)
      if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) day = false;
    if (!day || strcmp(s, cutoff) >= 0) continue;
    size_t len = strlen(dir) + strlen(s) + 2;
    if ((out[n] = malloc(len)) == NULL) break;
    snprintf(out[n], len, "%s/%s", dir, s);
    n++;
  }
  closedir(d);
  return n;
}
