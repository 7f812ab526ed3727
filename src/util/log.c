#include "config.h"

#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

int log_current_level = LOG_INFO;

static const char *log_ident = "heracron";
static const char *const log_level_names[] = {"ERROR", "WARN", "INFO",
                                              "DEBUG"};

int log_set_level_name(const char *name) {
  static const char *const lower[] = {"error", "warn", "info", "debug"};
  for (int i = 0; i < 4; i++) {
    if (strcmp(name, lower[i]) == 0) {
      log_current_level = i;
      return 0;
    }
  }
  return -1;
}

void log_set_ident(const char *ident) { log_ident = ident; }

void log_write(int level, const char *fmt, ...) {
  char line[2048];
  struct timeval tv;
  struct tm tm;
  gettimeofday(&tv, NULL);
  localtime_r(&tv.tv_sec, &tm);
  int n = snprintf(line, sizeof(line),
                   "%04d-%02d-%02d %02d:%02d:%02d.%03ld %s %s: ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                   tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000), log_ident,
                   log_level_names[level < 0 ? 0 : level > 3 ? 3 : level]);
  if (n < 0) return;
  if ((size_t)n >= sizeof(line)) n = sizeof(line) - 1;
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
  va_end(ap);
  if (m < 0) return;
  size_t len = (size_t)n + (size_t)m;
  if (len > sizeof(line) - 2) len = sizeof(line) - 2;
  line[len++] = '\n';
  /* One write per line keeps lines whole across threads. */
  fwrite(line, 1, len, stderr);
  fflush(stderr);
}
