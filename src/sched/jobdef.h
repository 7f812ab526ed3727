/* jobdef: validation of a job definition, with no I/O besides reading a
 * time zone file.  Errors name the field, e.g. field "cron", message
 * "hour: 25 is out of range 0-23". */
#ifndef HERACRON_JOBDEF_H
#define HERACRON_JOBDEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOBDEF_MAX_UPSTREAMS 64
#define JOBDEF_MAX_SCRIPT (16u << 20)

/* Strings are borrowed; NULL means "not given". */
struct jobdef {
  const char *name, *owner, *description, *folder, *host_group, *type;
  const char *script, *cron, *tz, *misfire;
  const char *upstreams[JOBDEF_MAX_UPSTREAMS];
  int nupstreams;
  int64_t retries, retry_wait_s, timeout_s;
};

/* Checks a complete definition.  Returns 0, or -1 with the field's name in
 * field and the reason in err. */
int jobdef_check(const struct jobdef *j, char *field, size_t flen, char *err,
                 size_t errlen);

/* Whether s is a valid job, group or user name: 1-128 of [A-Za-z0-9_.-]. */
bool jobdef_name_ok(const char *s);

#endif
