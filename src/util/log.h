/* log: leveled, thread-safe logging to stderr, one line per call.
 * A message below the current level costs one comparison. */
#ifndef HERACRON_LOG_H
#define HERACRON_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern int log_current_level;

/* Sets the level from a name (error, warn, info, debug); -1 if unknown. */
int log_set_level_name(const char *name);
/* Sets the program name shown on every line (not copied: keep it alive). */
void log_set_ident(const char *ident);

void log_write(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_at(lvl, ...)                                                   \
  do {                                                                     \
    if ((lvl) <= log_current_level) log_write((lvl), __VA_ARGS__);         \
  } while (0)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)

#endif
