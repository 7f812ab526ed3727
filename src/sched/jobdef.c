#include "config.h"

#include "sched/jobdef.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sched/cron.h"
#include "sched/tz.h"

bool jobdef_name_ok(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > 128) return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
      return false;
  return true;
}

__attribute__((format(printf, 6, 7))) static int
jobdef_fail(char *field, size_t flen, const char *name, char *err,
            size_t errlen, const char *fmt, ...) {
  snprintf(field, flen, "%s", name);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

int jobdef_check(const struct jobdef *j, char *field, size_t flen, char *err,
                 size_t errlen) {
  if (!jobdef_name_ok(j->name))
    return jobdef_fail(field, flen, "name", err, errlen,
                       "use 1-128 letters, digits, '_', '.' or '-'");
  if (j->script == NULL || j->script[strspn(j->script, " \t\r\n")] == '\0')
    return jobdef_fail(field, flen, "script", err, errlen, "is empty");
  if (strlen(j->script) > JOBDEF_MAX_SCRIPT)
    return jobdef_fail(field, flen, "script", err, errlen,
                       "is larger than %u bytes", JOBDEF_MAX_SCRIPT);
  bool has_cron = j->cron != NULL && j->cron[0] != '\0';
  if (has_cron && j->nupstreams > 0)
    return jobdef_fail(field, flen, "cron", err, errlen,
                       "a job has either a cron schedule or upstream jobs, "
                       "not both");
  if (!has_cron && j->nupstreams == 0)
    return jobdef_fail(field, flen, "cron", err, errlen,
                       "give a cron schedule or upstream jobs");
  if (has_cron) {
    struct cron c;
    char msg[256];
    if (cron_parse(j->cron, &c, msg, sizeof(msg)) < 0)
      return jobdef_fail(field, flen, "cron", err, errlen, "%s", msg);
  }
  if (j->tz != NULL && j->tz[0] != '\0') {
    char msg[256];
    struct tz *z = tz_load(j->tz, msg, sizeof(msg));
    if (z == NULL) return jobdef_fail(field, flen, "tz", err, errlen, "%s", msg);
    tz_free(z);
  }
  for (int i = 0; i < j->nupstreams; i++) {
    if (!jobdef_name_ok(j->upstreams[i]))
      return jobdef_fail(field, flen, "upstreams", err, errlen,
                         "'%s' is not a job name", j->upstreams[i]);
    if (strcmp(j->upstreams[i], j->name) == 0)
      return jobdef_fail(field, flen, "upstreams", err, errlen,
                         "a job cannot depend on itself");
    for (int k = 0; k < i; k++)
      if (strcmp(j->upstreams[k], j->upstreams[i]) == 0)
        return jobdef_fail(field, flen, "upstreams", err, errlen,
                           "'%s' is listed twice", j->upstreams[i]);
  }
  if (j->host_group != NULL && !jobdef_name_ok(j->host_group))
    return jobdef_fail(field, flen, "group", err, errlen,
                       "'%s' is not a group name", j->host_group);
  if (j->owner != NULL && j->owner[0] != '\0' && !jobdef_name_ok(j->owner))
    return jobdef_fail(field, flen, "owner", err, errlen,
                       "'%s' is not a user name", j->owner);
  if (j->type != NULL && !jobdef_name_ok(j->type))
    return jobdef_fail(field, flen, "type", err, errlen, "'%s' is not a type",
                       j->type);
  if (j->misfire != NULL && strcmp(j->misfire, "run_once") != 0 &&
      strcmp(j->misfire, "skip") != 0)
    return jobdef_fail(field, flen, "misfire", err, errlen,
                       "expected run_once or skip");
  if (j->retries < 0 || j->retries > 100)
    return jobdef_fail(field, flen, "retries", err, errlen, "must be 0-100");
  if (j->retry_wait_s < 0 || j->retry_wait_s > 86400)
    return jobdef_fail(field, flen, "retry_wait_s", err, errlen,
                       "must be 0-86400");
  if (j->timeout_s < 0 || j->timeout_s > 30 * 86400)
    return jobdef_fail(field, flen, "timeout_s", err, errlen,
                       "must be 0 (none) to 2592000");
  if (j->description != NULL && strlen(j->description) > 1024)
    return jobdef_fail(field, flen, "description", err, errlen,
                       "is longer than 1024 characters");
  if (j->folder != NULL && (j->folder[0] != '/' || strlen(j->folder) > 255))
    return jobdef_fail(field, flen, "folder", err, errlen,
                       "must be a path starting with '/'");
  return 0;
}
