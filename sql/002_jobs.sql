-- 002: jobs, their dependencies, actions (versions), instances and logs.

-- A job: a script with either a cron schedule or upstream jobs.  id is
-- below 1,000,000: it is the last six digits of its action ids.
CREATE TABLE IF NOT EXISTS jobs (
  id            INT UNSIGNED  NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name          VARCHAR(128)  NOT NULL,
  owner         VARCHAR(128)  NOT NULL DEFAULT '',
  description   VARCHAR(1024) NOT NULL DEFAULT '',
  folder        VARCHAR(255)  NOT NULL DEFAULT '/',
  host_group    VARCHAR(64)   NOT NULL DEFAULT 'default',
  type          VARCHAR(32)   NOT NULL DEFAULT 'shell',
  script        MEDIUMTEXT    NOT NULL,
  cron          VARCHAR(255)  NULL,
  tz            VARCHAR(64)   NOT NULL DEFAULT '',
  enabled       TINYINT(1)    NOT NULL DEFAULT 1,
  retries       INT UNSIGNED  NOT NULL DEFAULT 0,
  retry_wait_s  INT UNSIGNED  NOT NULL DEFAULT 60,
  timeout_s     INT UNSIGNED  NOT NULL DEFAULT 0,
  misfire       VARCHAR(16)   NOT NULL DEFAULT 'run_once',
  monitors      VARCHAR(1024) NOT NULL DEFAULT '',
  variables     TEXT          NULL,
  revision      INT UNSIGNED  NOT NULL DEFAULT 1,
  deleted       TINYINT(1)    NOT NULL DEFAULT 0,
  created_at    DATETIME(6)   NOT NULL DEFAULT NOW(6),
  updated_at    DATETIME(6)   NOT NULL DEFAULT NOW(6) ON UPDATE NOW(6),
  UNIQUE KEY jobs_name (name),
  KEY jobs_updated (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- job_id runs after upstream_id (the dependency graph; no cycles).
CREATE TABLE IF NOT EXISTS job_upstreams (
  job_id      INT UNSIGNED NOT NULL,
  upstream_id INT UNSIGNED NOT NULL,
  PRIMARY KEY (job_id, upstream_id),
  KEY job_upstreams_up (upstream_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Serialises changes of the dependency graph, so that two concurrent
-- edits cannot close a cycle between them.
CREATE TABLE IF NOT EXISTS graph_lock (
  id INT NOT NULL PRIMARY KEY
) ENGINE=InnoDB;
INSERT IGNORE INTO graph_lock (id) VALUES (1);

-- One scheduled occurrence of a job (a version).  id: YYYYMMDDHHMM and the
-- job id in six digits.  upstreams: the matched upstream action ids.
CREATE TABLE IF NOT EXISTS actions (
  id          BIGINT       NOT NULL PRIMARY KEY,
  job_id      INT UNSIGNED NOT NULL,
  fire_at     DATETIME(6)  NOT NULL,
  status      VARCHAR(16)  NOT NULL DEFAULT 'WAITING',
  upstreams   VARCHAR(4096) NOT NULL DEFAULT '',
  revision    INT UNSIGNED NOT NULL DEFAULT 1,
  instance_id BIGINT       NULL,
  created_at  DATETIME(6)  NOT NULL DEFAULT NOW(6),
  updated_at  DATETIME(6)  NOT NULL DEFAULT NOW(6) ON UPDATE NOW(6),
  KEY actions_job (job_id, fire_at),
  KEY actions_status (status, fire_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- One execution attempt on one worker.
CREATE TABLE IF NOT EXISTS instances (
  id           BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
  action_id    BIGINT        NULL,
  job_id       INT UNSIGNED  NULL,
  trigger_kind VARCHAR(16)   NOT NULL,
  attempt      INT UNSIGNED  NOT NULL DEFAULT 1,
  status       VARCHAR(16)   NOT NULL,
  host_group   VARCHAR(64)   NOT NULL DEFAULT 'default',
  worker       VARCHAR(128)  NOT NULL DEFAULT '',
  exit_code    INT           NULL,
  exit_signal  INT           NULL,
  reason       VARCHAR(512)  NOT NULL DEFAULT '',
  script       MEDIUMTEXT    NULL,
  operator     VARCHAR(128)  NOT NULL DEFAULT '',
  epoch        BIGINT UNSIGNED NOT NULL DEFAULT 0,
  report_ms    BIGINT        NOT NULL DEFAULT 0,
  stop_requested TINYINT(1)  NOT NULL DEFAULT 0,
  bizdate      CHAR(8)       NULL,
  rerun_id     BIGINT        NULL,
  queued_at    DATETIME(6)   NOT NULL DEFAULT NOW(6),
  started_at   DATETIME(6)   NULL,
  ended_at     DATETIME(6)   NULL,
  KEY instances_job (job_id, id),
  KEY instances_status (status),
  KEY instances_action (action_id),
  KEY instances_rerun (rerun_id, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Output of an instance, in the order it was written.
CREATE TABLE IF NOT EXISTS instance_logs (
  instance_id BIGINT      NOT NULL,
  seq         INT         NOT NULL,
  data        MEDIUMBLOB  NOT NULL,
  created_at  DATETIME(6) NOT NULL DEFAULT NOW(6),
  PRIMARY KEY (instance_id, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The upstream actions a dependent action waits for (hera's matching).
CREATE TABLE IF NOT EXISTS action_deps (
  action_id   BIGINT NOT NULL,
  upstream_id BIGINT NOT NULL,
  PRIMARY KEY (action_id, upstream_id),
  KEY action_deps_up (upstream_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- A backfill: a job run once for each day of a range, a bounded number at
-- a time.  Its instances wait (status WAITING, rerun_id set) until the
-- master lets them into the manual queue.
CREATE TABLE IF NOT EXISTS reruns (
  id          BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
  job_id      INT UNSIGNED  NOT NULL,
  from_date   DATE          NOT NULL,
  to_date     DATE          NOT NULL,
  parallel    INT UNSIGNED  NOT NULL DEFAULT 1,
  operator    VARCHAR(128)  NOT NULL DEFAULT '',
  created_at  DATETIME(6)   NOT NULL DEFAULT NOW(6),
  KEY reruns_job (job_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Folders organise jobs (a job's folder is a path such as /etl/daily);
-- variables set on a folder apply to the jobs below it, the nearest
-- folder winning, and a job's own variables winning over all.
CREATE TABLE IF NOT EXISTS folders (
  path        VARCHAR(255)  NOT NULL PRIMARY KEY,
  variables   TEXT          NULL,
  updated_at  DATETIME(6)   NOT NULL DEFAULT NOW(6) ON UPDATE NOW(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
