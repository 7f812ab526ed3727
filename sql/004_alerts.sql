-- Alerts: an outbox of mails, one row per alert and recipient, written in
-- the same transaction as the instance's final status; the master's mailer
-- sends them (grouped per recipient) and records what the server said.

ALTER TABLE jobs ADD COLUMN IF NOT EXISTS alerts TINYINT(1) NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS alerting TINYINT(1) NOT NULL DEFAULT 0;
-- a run longer than this (seconds) is reported while it runs; 0: no limit
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS expected_s INT UNSIGNED NOT NULL DEFAULT 0;
-- today's version not succeeded by this local time: the owners are told
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS deadline TIME NULL;

CREATE TABLE IF NOT EXISTS outbox (
  id           BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
  kind         VARCHAR(16)   NOT NULL,  -- failure | recovered | overdue | deadline
  instance_id  BIGINT        NULL,      -- none for a missed deadline
  job_id       INT UNSIGNED  NOT NULL,
  recipient    VARCHAR(255)  NOT NULL,            -- '' : nobody to send to
  status       VARCHAR(16)   NOT NULL DEFAULT 'pending', -- pending | sending | sent | failed | unaddressed
  attempts     INT UNSIGNED  NOT NULL DEFAULT 0,
  next_try_at  DATETIME(6)   NOT NULL DEFAULT NOW(6),
  last_error   VARCHAR(512)  NOT NULL DEFAULT '',
  smtp_reply   VARCHAR(512)  NOT NULL DEFAULT '',
  message_id   VARCHAR(128)  NOT NULL DEFAULT '',
  epoch        BIGINT UNSIGNED NOT NULL DEFAULT 0, -- master that claimed it
  created_at   DATETIME(6)   NOT NULL DEFAULT NOW(6),
  sent_at      DATETIME(6)   NULL,
  KEY outbox_pending (status, recipient, next_try_at),
  KEY outbox_instance (instance_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
