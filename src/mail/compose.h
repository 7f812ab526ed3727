/* compose: the text of alert mails (pure).  One mail lists one or more
 * alerts for one recipient: a storm of failures becomes one mail. */
#ifndef HERACRON_COMPOSE_H
#define HERACRON_COMPOSE_H

#include <stddef.h>

/* One alert, as read from the outbox and the instance it is about.
 * Strings are borrowed; NULL reads as "". */
struct compose_alert {
  const char *kind; /* "failure", "recovered", "overdue", "deadline" */
  long long job_id, instance_id, action_id;
  const char *job, *owner, *description, *status, *trigger, *worker;
  const char *started, *ended, *reason;
  int exit_code, signal; /* signal 0: exited */
  const char *log_tail;  /* the last lines of its output */
};

/* The mail for alerts a[0..n) (n >= 1): malloc'd subject, text and html
 * the caller frees.  console_url is the console's base URL.  0, or -1 if
 * out of memory (nothing to free then). */
int compose_mail(const struct compose_alert *a, size_t n,
                 const char *console_url, char **subject, char **text,
                 char **html);

/* The last max_lines lines of log, at most max_bytes of them, as a new
 * string (the caller frees). */
char *compose_tail(const char *log, size_t max_lines, size_t max_bytes);

#endif
