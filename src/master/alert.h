/* alert: queuing alert mails in the outbox (table outbox), on the store
 * thread and inside the transaction that writes an instance's end, so an
 * alert exists if and only if that end was written.  The mailer
 * (master/mailer.c) sends them. */
#ifndef HERACRON_ALERT_H
#define HERACRON_ALERT_H

#include <stdint.h>

struct db_conn;

/* The instance ended for good unsuccessfully (no retry left): one outbox
 * row per recipient (the job's owner and monitors, by e-mail; a name that
 * holds '@' is an address), unless the job's alerts are off.  0 or -1. */
int alert_failure_work(struct db_conn *db, uint64_t instance_id);

/* The instance succeeded: if its job had alerted, a "recovered" mail. */
int alert_success_work(struct db_conn *db, uint64_t instance_id);

/* Looks for instances running longer than their job's expected_s and for
 * jobs whose deadline passed today without a successful version; queues
 * one "overdue" or "deadline" alert for each (once).  A master write. */
int alert_watch_work(struct db_conn *db);

#endif
