/* tz: time zones from the system's TZif files (/usr/share/zoneinfo),
 * read once and then used with no libc time-zone state, so that jobs in
 * different zones can be computed side by side, from any thread.  Dates
 * past the file's last transition follow its POSIX TZ footer rule. */
#ifndef HERACRON_TZ_H
#define HERACRON_TZ_H

#include <stddef.h>
#include <stdint.h>

struct tz;

/* Loads a zone by IANA name ("Europe/Paris"), "UTC", or NULL/"" for the
 * node's own zone ($TZ, else /etc/localtime, else UTC).  Returns NULL with
 * a message in err for an unknown or malformed zone.  Free with tz_free. */
struct tz *tz_load(const char *name, char *err, size_t errlen);
void tz_free(struct tz *z);

/* The zone's name as given ("UTC" or "localtime" for the defaults). */
const char *tz_name(const struct tz *z);

/* Offset of local time from UTC at instant utc, seconds east. */
int32_t tz_offset(const struct tz *z, int64_t utc);

/* Instants at which the local wall-clock time `local` (seconds since the
 * epoch, read as a civil time) occurs: 0 in a gap (spring forward), 1
 * usually, 2 in an overlap (fall back), earliest first in out[]. */
int tz_to_utc(const struct tz *z, int64_t local, int64_t out[2]);

#endif
