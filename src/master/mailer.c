#include "config.h"

#include "master/mailer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mail/compose.h"
#include "mail/smtp.h"
#include "store/db.h"
#include "util/cfg.h"
#include "util/log.h"

#define MAILER_TICK_S 1
#define MAILER_CLAIM_S 120   /* a claim lapses after this (SMTP timeouts) */
#define MAILER_BATCH 100     /* alerts in one mail at most */
#define MAILER_MAX_TRIES 20
#define MAILER_TAIL_LINES 20
#define MAILER_TAIL_BYTES 4096

static struct {
  const struct cfg *cfg;
  pthread_t thread;
  bool started;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool stopping;
  atomic_ullong epoch;
  struct db_conn db;
} ml = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static const char mailer_sql_lapsed[] =
    "UPDATE outbox SET status = 'pending' WHERE status = 'sending'"
    " AND next_try_at < NOW(6)";
static const char mailer_sql_due[] =
    "SELECT recipient FROM outbox WHERE status = 'pending'"
    " AND next_try_at <= NOW(6) GROUP BY recipient"
    " HAVING MIN(created_at) <= NOW(6) - INTERVAL ? SECOND LIMIT 50";
static const char mailer_sql_fence[] =
    "SELECT epoch FROM lease WHERE name = 'master' AND holder = ? AND epoch = ?"
    " AND expires > NOW(6) LOCK IN SHARE MODE";
static const char mailer_sql_claim[] =
    "UPDATE outbox SET status = 'sending', epoch = ?,"
    " next_try_at = NOW(6) + INTERVAL ? SECOND "
    "WHERE recipient = ? AND status = 'pending' AND next_try_at <= NOW(6) "
    "ORDER BY id LIMIT ?";
static const char mailer_sql_claimed[] =
    "SELECT o.id, o.kind, COALESCE(i.id, 0), j.id, COALESCE(i.action_id, 0),"
    " j.name, j.owner, j.description, COALESCE(i.status, 'NOT DONE'),"
    " COALESCE(i.trigger_kind, ''), COALESCE(i.worker, ''),"
    " COALESCE(i.started_at, ''), COALESCE(i.ended_at, ''),"
    " COALESCE(i.reason, CONCAT('deadline ', j.deadline)),"
    " COALESCE(i.exit_code, 0), COALESCE(i.exit_signal, 0), o.attempts "
    "FROM outbox o LEFT JOIN instances i ON i.id = o.instance_id"
    " JOIN jobs j ON j.id = o.job_id "
    "WHERE o.status = 'sending' AND o.epoch = ? AND o.recipient = ? ORDER BY o.id";
static const char mailer_sql_tail[] =
    "SELECT data FROM instance_logs WHERE instance_id = ? ORDER BY seq DESC "
    "LIMIT 8";
static const char mailer_sql_sent[] =
    "UPDATE outbox SET status = 'sent', attempts = attempts + 1,"
    " sent_at = NOW(6), smtp_reply = ?, message_id = ?, last_error = '' "
    "WHERE status = 'sending' AND epoch = ? AND recipient = ?";
static const char mailer_sql_failed[] =
    "UPDATE outbox SET status = 'failed', attempts = attempts + 1,"
    " last_error = ?, smtp_reply = ? "
    "WHERE status = 'sending' AND epoch = ? AND recipient = ?";
static const char mailer_sql_later[] =
    "UPDATE outbox SET status = IF(attempts + 1 >= ?, 'failed', 'pending'),"
    " attempts = attempts + 1, last_error = ?,"
    " next_try_at = NOW(6) + INTERVAL LEAST(600, 5 * POW(2, attempts)) SECOND "
    "WHERE status = 'sending' AND epoch = ? AND recipient = ?";

/* The last lines of instance id's output (a new string, or NULL). */
static char *mailer_tail(uint64_t id) {
  struct db_param p[] = {DB_U64(id)};
  struct db_rows r;
  if (db_query(&ml.db, mailer_sql_tail, p, 1, &r) < 0) return NULL;
  size_t total = 1;
  for (int i = 0; i < r.nrows; i++) total += strlen(db_cell(&r, i, 0));
  char *all = malloc(total);
  if (all != NULL) {
    all[0] = '\0';
    for (int i = r.nrows - 1; i >= 0; i--) strcat(all, db_cell(&r, i, 0));
  }
  db_rows_free(&r);
  char *tail = all ? compose_tail(all, MAILER_TAIL_LINES, MAILER_TAIL_BYTES) : NULL;
  free(all);
  return tail;
}

/* Claims the recipient's due alerts under our epoch; false if we are not
 * master any more (or MariaDB failed). */
static bool mailer_claim(const char *rcpt, uint64_t epoch) {
  struct db_param f[] = {DB_STR(ml.cfg->node.name), DB_U64(epoch)};
  struct db_param c[] = {DB_U64(epoch), DB_I64(MAILER_CLAIM_S), DB_STR(rcpt),
                         DB_I64(MAILER_BATCH)};
  struct db_rows r;
  if (db_begin(&ml.db) < 0) return false;
  int n = db_query(&ml.db, mailer_sql_fence, f, 2, &r);
  if (n > 0) db_rows_free(&r);
  if (n <= 0 || db_exec(&ml.db, mailer_sql_claim, c, 4) < 0 ||
      db_commit(&ml.db) < 0) {
    db_rollback(&ml.db);
    return false;
  }
  return true;
}

static void mailer_send_to(const char *rcpt, uint64_t epoch) {
  if (!mailer_claim(rcpt, epoch)) return;
  struct db_param q[] = {DB_U64(epoch), DB_STR(rcpt)};
  struct db_rows r;
  if (db_query(&ml.db, mailer_sql_claimed, q, 2, &r) <= 0) return;
  struct compose_alert *a = calloc((size_t)r.nrows, sizeof(*a));
  char **tails = calloc((size_t)r.nrows, sizeof(*tails));
  char *subject = NULL, *text = NULL, *html = NULL;
  if (a == NULL || tails == NULL) goto out;
  for (int i = 0; i < r.nrows; i++) {
    a[i] = (struct compose_alert){
        .kind = db_cell(&r, i, 1),
        .instance_id = strtoll(db_cell(&r, i, 2), NULL, 10),
        .job_id = strtoll(db_cell(&r, i, 3), NULL, 10),
        .action_id = strtoll(db_cell(&r, i, 4), NULL, 10),
        .job = db_cell(&r, i, 5), .owner = db_cell(&r, i, 6),
        .description = db_cell(&r, i, 7), .status = db_cell(&r, i, 8),
        .trigger = db_cell(&r, i, 9), .worker = db_cell(&r, i, 10),
        .started = db_cell(&r, i, 11), .ended = db_cell(&r, i, 12),
        .reason = db_cell(&r, i, 13),
        .exit_code = atoi(db_cell(&r, i, 14)), .signal = atoi(db_cell(&r, i, 15))};
    if (strcmp(a[i].kind, "failure") == 0)
      a[i].log_tail = tails[i] = mailer_tail((uint64_t)a[i].instance_id);
  }
  if (compose_mail(a, (size_t)r.nrows, ml.cfg->console.url, &subject, &text,
                   &html) < 0)
    goto out;
  struct smtp_mail m = {.to = {rcpt}, .nto = 1, .subject = subject,
                        .text = text, .html = html};
  struct smtp_result res;
  int rc = smtp_send(ml.cfg, &m, &res); /* blocking: this thread's own time */
  struct db_param w[] = {DB_STR(res.reply), DB_STR(res.message_id),
                         DB_U64(epoch), DB_STR(rcpt)};
  if (rc == 0 && res.code[0] / 100 == 2) {
    db_exec(&ml.db, mailer_sql_sent, w, 4);
    log_info("mailer: %d alert(s) sent to %s in one mail (%s)", r.nrows, rcpt,
             res.reply);
  } else if (!res.temporary || res.code[0] / 100 == 5) {
    struct db_param x[] = {DB_STR(res.reply), DB_STR(res.reply), DB_U64(epoch),
                           DB_STR(rcpt)};
    db_exec(&ml.db, mailer_sql_failed, x, 4);
    log_warn("mailer: %s refused %d alert(s): %s", rcpt, r.nrows, res.reply);
  } else {
    struct db_param x[] = {DB_I64(MAILER_MAX_TRIES), DB_STR(res.reply),
                           DB_U64(epoch), DB_STR(rcpt)};
    db_exec(&ml.db, mailer_sql_later, x, 4);
    log_warn("mailer: %d alert(s) for %s not sent, trying again later: %s",
             r.nrows, rcpt, res.reply);
  }
out:
  for (int i = 0; tails && i < r.nrows; i++) free(tails[i]);
  free(tails);
  free(a);
  free(subject);
  free(text);
  free(html);
  db_rows_free(&r);
}

static void mailer_pass(uint64_t epoch) {
  if (ml.db.m == NULL && db_connect(&ml.db, ml.cfg, true) < 0) return;
  db_exec(&ml.db, mailer_sql_lapsed, NULL, 0);
  struct db_param p[] = {DB_I64(ml.cfg->smtp.group_s)};
  struct db_rows r;
  if (db_query(&ml.db, mailer_sql_due, p, 1, &r) <= 0) return;
  for (int i = 0; i < r.nrows && atomic_load(&ml.epoch) == epoch; i++)
    mailer_send_to(db_cell(&r, i, 0), epoch);
  db_rows_free(&r);
}

static void *mailer_main(void *arg) {
  pthread_mutex_lock(&ml.lock);
  while (!ml.stopping) {
    pthread_mutex_unlock(&ml.lock);
    uint64_t epoch = atomic_load(&ml.epoch);
    if (epoch != 0) mailer_pass(epoch);
    pthread_mutex_lock(&ml.lock);
    if (ml.stopping) break;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += MAILER_TICK_S;
    pthread_cond_timedwait(&ml.cond, &ml.lock, &ts);
  }
  pthread_mutex_unlock(&ml.lock);
  db_close(&ml.db);
  return NULL;
}

int mailer_start(const struct cfg *cfg) {
  ml.cfg = cfg;
  db_conn_init(&ml.db, 10);
  if (pthread_create(&ml.thread, NULL, mailer_main, NULL) != 0) return -1;
  ml.started = true;
  return 0;
}

void mailer_set_epoch(uint64_t epoch) {
  atomic_store(&ml.epoch, epoch);
  pthread_mutex_lock(&ml.lock);
  pthread_cond_signal(&ml.cond);
  pthread_mutex_unlock(&ml.lock);
}

void mailer_stop(void) {
  if (!ml.started) return;
  pthread_mutex_lock(&ml.lock);
  ml.stopping = true;
  pthread_cond_signal(&ml.cond);
  pthread_mutex_unlock(&ml.lock);
  pthread_join(ml.thread, NULL);
  ml.started = false;
}
