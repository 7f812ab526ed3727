#include "config.h"

#include "master/alert.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/db.h"
#include "util/log.h"

#define ALERT_MAX_RCPT 32

static const char alert_sql_job[] =
    "SELECT j.id, j.name, j.owner, j.monitors, j.alerts, j.alerting "
    "FROM instances i JOIN jobs j ON j.id = i.job_id WHERE i.id = ?"
    " AND i.parent_id IS NULL"; /* a fan-out part: its parent alerts */
static const char alert_sql_job_by_id[] =
    "SELECT j.id, j.name, j.owner, j.monitors, j.alerts, j.alerting "
    "FROM jobs j WHERE j.id = ?";
static const char alert_sql_email[] = "SELECT email FROM users WHERE name = ?";
static const char alert_sql_add[] =
    "INSERT INTO outbox (kind, instance_id, job_id, recipient, status) "
    "VALUES (?, ?, ?, ?, ?)";
static const char alert_sql_alerting[] =
    "UPDATE jobs SET alerting = ? WHERE id = ?";

/* Queues kind for the recipients of the job of instance id (or of job
 * job_id when id is 0).  want_alerting: only if the job's alerting flag is
 * this (-1: any); the flag is then set to new_alerting (-1: left). */
static int alert_queue(struct db_conn *db, uint64_t id, uint64_t job_id,
                       const char *kind, int want_alerting, int new_alerting) {
  struct db_rows r;
  struct db_param p[] = {DB_U64(id ? id : job_id)};
  int n = db_query(db, id ? alert_sql_job : alert_sql_job_by_id, p, 1, &r);
  if (n <= 0) return n < 0 ? -1 : 0; /* a debug run: no job, no alert */
  long long job = strtoll(db_cell(&r, 0, 0), NULL, 10);
  bool on = strcmp(db_cell(&r, 0, 4), "1") == 0;
  int alerting = atoi(db_cell(&r, 0, 5));
  if (!on || (want_alerting >= 0 && alerting != want_alerting)) {
    db_rows_free(&r);
    return 0;
  }
  char names[1200];
  snprintf(names, sizeof(names), "%s,%s", db_cell(&r, 0, 2), db_cell(&r, 0, 3));
  char jobname[129];
  snprintf(jobname, sizeof(jobname), "%s", db_cell(&r, 0, 1));
  db_rows_free(&r);

  char addr[ALERT_MAX_RCPT][256];
  int na = 0, rc = 0;
  char *save = NULL;
  for (char *nm = strtok_r(names, ",", &save); nm && rc == 0;
       nm = strtok_r(NULL, ",", &save)) {
    while (*nm == ' ') nm++;
    if (*nm == '\0') continue;
    char a[256] = "";
    if (strchr(nm, '@')) {
      snprintf(a, sizeof(a), "%s", nm);
    } else {
      struct db_param q[] = {DB_STR(nm)};
      struct db_rows e;
      int k = db_query(db, alert_sql_email, q, 1, &e);
      if (k < 0) return -1;
      if (k > 0) snprintf(a, sizeof(a), "%s", db_cell(&e, 0, 0));
      db_rows_free(&e);
    }
    if (a[0] == '\0') {
      log_warn("alert: job %s: '%s' has no e-mail address; no %s mail for "
               "them (set it with heracron user add ... --email, or use an "
               "address as owner or monitor)", jobname, nm, kind);
      continue;
    }
    bool dup = false;
    for (int i = 0; i < na; i++)
      if (strcasecmp(addr[i], a) == 0) dup = true;
    if (!dup && na < ALERT_MAX_RCPT) snprintf(addr[na++], sizeof(addr[0]), "%s", a);
  }
  for (int i = 0; i <= na && rc == 0; i++) {
    if (i == na && na > 0) break;
    /* nobody to tell: still recorded, so the console shows it */
    struct db_param q[] = {DB_STR(kind), id ? DB_U64(id) : DB_NUL(), DB_I64(job),
                           DB_STR(na ? addr[i] : ""),
                           DB_STR(na ? "pending" : "unaddressed")};
    if (db_exec(db, alert_sql_add, q, 5) < 0) rc = -1;
  }
  struct db_param f[] = {DB_I64(new_alerting), DB_I64(job)};
  if (rc == 0 && new_alerting >= 0 && db_exec(db, alert_sql_alerting, f, 2) < 0)
    rc = -1;
  return rc;
}

int alert_failure_work(struct db_conn *db, uint64_t instance_id) {
  return alert_queue(db, instance_id, 0, "failure", -1, 1);
}

int alert_success_work(struct db_conn *db, uint64_t instance_id) {
  return alert_queue(db, instance_id, 0, "recovered", 1, 0);
}

/* Running longer than the job's expected duration, not yet reported. */
static const char alert_sql_overdue[] =
    "SELECT i.id FROM instances i JOIN jobs j ON j.id = i.job_id "
    "WHERE i.status = 'RUNNING' AND j.expected_s > 0"
    " AND i.started_at < NOW(6) - INTERVAL j.expected_s SECOND"
    " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.instance_id = i.id"
    "  AND o.kind = 'overdue') LIMIT 100";
/* Past its deadline today with no version of today succeeded, and not
 * reported today. */
static const char alert_sql_deadline[] =
    "SELECT j.id FROM jobs j WHERE j.deadline IS NOT NULL AND j.enabled = 1"
    " AND CURTIME() >= j.deadline"
    " AND NOT EXISTS (SELECT 1 FROM actions a WHERE a.job_id = j.id"
    "  AND a.fire_at >= CURDATE() AND a.fire_at < CURDATE() + INTERVAL 1 DAY"
    "  AND a.status = 'SUCCEEDED')"
    " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.job_id = j.id"
    "  AND o.kind = 'deadline' AND o.created_at >= CURDATE()) LIMIT 100";

int alert_watch_work(struct db_conn *db) {
  struct db_rows r;
  if (db_query(db, alert_sql_overdue, NULL, 0, &r) < 0) return -1;
  int rc = 0;
  for (int i = 0; i < r.nrows && rc == 0; i++)
    rc = alert_queue(db, strtoull(db_cell(&r, i, 0), NULL, 10), 0, "overdue",
                     -1, -1);
  db_rows_free(&r);
  if (rc < 0 || db_query(db, alert_sql_deadline, NULL, 0, &r) < 0) return -1;
  for (int i = 0; i < r.nrows && rc == 0; i++)
    rc = alert_queue(db, 0, strtoull(db_cell(&r, i, 0), NULL, 10), "deadline",
                     -1, -1);
  db_rows_free(&r);
  return rc;
}
