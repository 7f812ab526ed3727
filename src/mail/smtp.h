/* smtp: sending one mail with libesmtp.  Blocking (the whole SMTP
 * dialogue): call it from the mailer thread or the CLI, never from the
 * event loop.  Settings come from [smtp] of the configuration. */
#ifndef HERACRON_SMTP_H
#define HERACRON_SMTP_H

#include <stdbool.h>
#include <stddef.h>

struct cfg;

#define SMTP_MAX_RCPT 64

struct smtp_mail {
  const char *to[SMTP_MAX_RCPT];
  int nto;
  const char *subject; /* UTF-8; encoded as RFC 2047 if not ASCII */
  const char *text;    /* plain-text part */
  const char *html;    /* HTML part, or NULL */
};

/* What happened: overall, and per recipient (in the order of to[]). */
struct smtp_result {
  bool sent;             /* accepted for at least one recipient */
  bool temporary;        /* a failure worth retrying (no connection, 4xx) */
  int code[SMTP_MAX_RCPT]; /* recipient's reply code; 0 if not reached */
  char reply[256];       /* the server's reply to the message, or why not */
  char message_id[128];
};

/* Sends m.  Returns 0 if the server accepted it for at least one
 * recipient (see r->code for each), -1 otherwise (r->reply says why,
 * r->temporary whether to try again later). */
int smtp_send(const struct cfg *cfg, const struct smtp_mail *m,
              struct smtp_result *r);

#endif
