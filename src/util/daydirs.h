/* daydirs: directories named by day (YYYY-MM-DD), as a worker keeps its
 * instances' work directories. */
#ifndef HERACRON_DAYDIRS_H
#define HERACRON_DAYDIRS_H

#include <stddef.h>
#include <time.h>

/* The day directories in dir older than keep_days before now (local
 * time), as full paths; returns how many were put in out (at most max),
 * each owned by the caller.  None when keep_days is 0. */
size_t daydirs_expired(const char *dir, unsigned keep_days, time_t now,
                       char **out, size_t max);

#endif
