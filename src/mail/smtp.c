#include "config.h"

#include "mail/smtp.h"

#include <auth-client.h> /* before libesmtp.h: declares the AUTH calls */
#include <libesmtp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/cfg.h"

#define SMTP_TIMEOUT_S 30

struct smtp_auth {
  const char *user, *password;
};

static int smtp_interact(auth_client_request_t req, char **result, int fields,
                         void *arg) {
  struct smtp_auth *a = arg;
  for (int i = 0; i < fields; i++) {
    if (req[i].flags & AUTH_USER) result[i] = (char *)a->user;
    else if (req[i].flags & AUTH_PASS) result[i] = (char *)a->password;
    else result[i] = NULL;
  }
  return 1;
}

/* STARTTLS "opportunistic" or "required": accept the server's certificate
 * as it is (mail to an internal relay; the setting says how hard to try). */
static void smtp_event(smtp_session_t s, int ev, void *arg, ...) {
  if (ev == SMTP_EV_INVALID_PEER_CERTIFICATE || ev == SMTP_EV_NO_PEER_CERTIFICATE ||
      ev == SMTP_EV_WRONG_PEER_CERTIFICATE || ev == SMTP_EV_NO_CLIENT_CERTIFICATE) {
    va_list ap;
    va_start(ap, arg);
    if (ev == SMTP_EV_INVALID_PEER_CERTIFICATE) (void)va_arg(ap, long);
    int *ok = va_arg(ap, int *);
    if (ok) *ok = 1;
    va_end(ap);
  }
}

/* Appends to a growing buffer; the mail text is built in CRLF lines. */
struct smtp_buf {
  char *p;
  size_t len, cap;
};

static void smtp_put(struct smtp_buf *b, const char *s, size_t n) {
  if (b->p == NULL && b->cap == (size_t)-1) return;
  if (b->len + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + n + 1) nc *= 2;
    char *np = realloc(b->p, nc);
    if (np == NULL) {
      free(b->p);
      b->p = NULL;
      b->cap = (size_t)-1;
      return;
    }
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void smtp_puts(struct smtp_buf *b, const char *s) { smtp_put(b, s, strlen(s)); }

/* Text with any line ending as CRLF lines. */
static void smtp_put_crlf(struct smtp_buf *b, const char *s) {
  for (const char *l = s; *l;) {
    size_t n = strcspn(l, "\r\n");
    smtp_put(b, l, n);
    smtp_puts(b, "\r\n");
    l += n;
    if (*l == '\r') l++;
    if (*l == '\n') l++;
  }
}

static bool smtp_ascii(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80 || *s == '\r' || *s == '\n') return false;
  return true;
}

/* Subject: as it is if ASCII, else RFC 2047 base64 words. */
static void smtp_put_subject(struct smtp_buf *b, const char *s) {
  smtp_puts(b, "Subject: ");
  if (smtp_ascii(s)) {
    smtp_puts(b, s);
    smtp_puts(b, "\r\n");
    return;
  }
  static const char t[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = strlen(s);
  smtp_puts(b, "=?UTF-8?B?");
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned char)s[i] << 16;
    if (i + 1 < n) v |= (unsigned char)s[i + 1] << 8;
    if (i + 2 < n) v |= (unsigned char)s[i + 2];
    char q[4] = {t[v >> 18 & 63], t[v >> 12 & 63],
                 i + 1 < n ? t[v >> 6 & 63] : '=', i + 2 < n ? t[v & 63] : '='};
    smtp_put(b, q, 4);
  }
  smtp_puts(b, "?=\r\n");
}

int smtp_send(const struct cfg *cfg, const struct smtp_mail *m,
              struct smtp_result *r) {
  memset(r, 0, sizeof(*r));
  signal(SIGPIPE, SIG_IGN); /* a server closing on us must not kill us */
  unsigned char rnd[8];
  if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) memset(rnd, 7, sizeof(rnd));
  char host[128] = "localhost";
  gethostname(host, sizeof(host) - 1);
  snprintf(r->message_id, sizeof(r->message_id),
           "<heracron.%lld.%02x%02x%02x%02x%02x%02x%02x%02x@%s>",
           (long long)time(NULL), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
           rnd[5], rnd[6], rnd[7], host);

  /* headers (libesmtp adds Date and From; To lists the recipients) */
  struct smtp_buf b = {0};
  char line[600];
  snprintf(line, sizeof(line), "Message-ID: %s\r\nMIME-Version: 1.0\r\n",
           r->message_id);
  smtp_puts(&b, line);
  smtp_put_subject(&b, m->subject);
  const char *bound = "=_heracron_alt_7f3a9c";
  if (m->html) {
    snprintf(line, sizeof(line),
             "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
             "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
             "Content-Transfer-Encoding: 8bit\r\n\r\n", bound, bound);
    smtp_puts(&b, line);
    smtp_put_crlf(&b, m->text);
    snprintf(line, sizeof(line),
             "\r\n--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
             "Content-Transfer-Encoding: 8bit\r\n\r\n", bound);
    smtp_puts(&b, line);
    smtp_put_crlf(&b, m->html);
    snprintf(line, sizeof(line), "\r\n--%s--\r\n", bound);
    smtp_puts(&b, line);
  } else {
    smtp_puts(&b, "Content-Type: text/plain; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: 8bit\r\n\r\n");
    smtp_put_crlf(&b, m->text);
  }
  if (b.p == NULL) {
    snprintf(r->reply, sizeof(r->reply), "out of memory composing the mail");
    return -1;
  }

  smtp_session_t s = smtp_create_session();
  smtp_message_t msg = s ? smtp_add_message(s) : NULL;
  auth_context_t ac = NULL;
  struct smtp_auth auth = {cfg->smtp.user, cfg->smtp.password};
  int rc = -1;
  if (msg == NULL) {
    snprintf(r->reply, sizeof(r->reply), "cannot create an SMTP session");
    r->temporary = true;
    goto out;
  }
  char server[300];
  snprintf(server, sizeof(server), "%s:%u", cfg->smtp.host, cfg->smtp.port);
  smtp_set_server(s, server);
  smtp_set_hostname(s, host);
  smtp_set_timeout(s, Timeout_GREETING | Timeout_OVERRIDE_RFC2822_MINIMUM, SMTP_TIMEOUT_S);
  smtp_set_timeout(s, Timeout_ENVELOPE | Timeout_OVERRIDE_RFC2822_MINIMUM, SMTP_TIMEOUT_S);
  smtp_set_timeout(s, Timeout_DATA | Timeout_OVERRIDE_RFC2822_MINIMUM, SMTP_TIMEOUT_S);
  smtp_set_timeout(s, Timeout_TRANSFER | Timeout_OVERRIDE_RFC2822_MINIMUM, SMTP_TIMEOUT_S);
  smtp_set_timeout(s, Timeout_DATA2 | Timeout_OVERRIDE_RFC2822_MINIMUM, SMTP_TIMEOUT_S);
  const char *tls = cfg->smtp.starttls ? cfg->smtp.starttls : "opportunistic";
  smtp_starttls_enable(s, strcmp(tls, "required") == 0 ? Starttls_REQUIRED
                          : strcmp(tls, "off") == 0    ? Starttls_DISABLED
                                                       : Starttls_ENABLED);
  smtp_set_eventcb(s, smtp_event, NULL);
  if (auth.user && *auth.user) {
    auth_client_init();
    ac = auth_create_context();
    auth_set_mechanism_flags(ac, AUTH_PLUGIN_PLAIN, 0);
    auth_set_interact_cb(ac, smtp_interact, &auth);
    smtp_auth_set_context(s, ac);
  }
  smtp_set_reverse_path(msg, cfg->smtp.from);
  smtp_set_header(msg, "From", "heracron", cfg->smtp.from);
  smtp_set_header(msg, "To", NULL, NULL);
  smtp_set_message_str(msg, b.p);
  smtp_recipient_t rcpt[SMTP_MAX_RCPT];
  for (int i = 0; i < m->nto && i < SMTP_MAX_RCPT; i++)
    rcpt[i] = smtp_add_recipient(msg, m->to[i]);

  if (!smtp_start_session(s)) {
    char e[128];
    snprintf(r->reply, sizeof(r->reply), "cannot talk to %s: %s", server,
             smtp_strerror(smtp_errno(), e, sizeof(e)));
    r->temporary = true;
    goto out;
  }
  const smtp_status_t *from = smtp_reverse_path_status(msg);
  const smtp_status_t *st = smtp_message_transfer_status(msg);
  for (int i = 0; i < m->nto && i < SMTP_MAX_RCPT; i++) {
    const smtp_status_t *rs = rcpt[i] ? smtp_recipient_status(rcpt[i]) : NULL;
    r->code[i] = rs ? rs->code : 0;
  }
  if (st && st->code / 100 == 2) {
    r->sent = true;
    snprintf(r->reply, sizeof(r->reply), "%d %s", st->code,
             st->text ? st->text : "");
    rc = 0;
  } else {
    const smtp_status_t *why = from && from->code / 100 != 2 && from->code ? from : st;
    int code = why ? why->code : 0;
    snprintf(r->reply, sizeof(r->reply), "%d %s", code,
             why && why->text ? why->text : "no answer (TLS or AUTH refused?)");
    /* 5xx for every recipient: retrying will not help; else it may */
    bool all5 = m->nto > 0;
    for (int i = 0; i < m->nto && i < SMTP_MAX_RCPT; i++)
      if (r->code[i] / 100 != 5) all5 = false;
    r->temporary = !all5 && code / 100 != 5;
  }
  r->reply[strcspn(r->reply, "\r\n")] = '\0';
out:
  if (s) smtp_destroy_session(s);
  if (ac) auth_destroy_context(ac);
  free(b.p);
  return rc;
}
