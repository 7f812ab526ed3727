/* mailer: the thread that sends the outbox (table outbox) while this node
 * is master: per recipient, the alerts pending for at least smtp.group_s
 * seconds go out as one mail (a storm of failures is one mail), through
 * libesmtp, and the outcome is recorded per row: sent (with the server's
 * reply and the Message-ID), failed (a 5xx for that recipient), or tried
 * again later with backoff (server down, 4xx).  Rows are claimed under
 * the master's epoch; a claim lapses after SMTP's timeouts, so a master
 * that dies while sending has its rows sent by its successor. */
#ifndef HERACRON_MAILER_H
#define HERACRON_MAILER_H

#include <stdint.h>

struct cfg;

/* Starts the thread (idle until mailer_set_epoch).  0, or -1. */
int mailer_start(const struct cfg *cfg);
/* This node became master of epoch (0: it is not master any more). */
void mailer_set_epoch(uint64_t epoch);
/* Stops and joins the thread (at shutdown). */
void mailer_stop(void);

#endif
