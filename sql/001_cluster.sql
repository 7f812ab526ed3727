-- 001: cluster state: schema version, the master lease and the nodes.
-- If you change a table here, add a new numbered file instead once this one
-- has been released; src/store/schema.c applies the files in order.

CREATE TABLE IF NOT EXISTS schema_version (
  version    INT          NOT NULL PRIMARY KEY,
  name       VARCHAR(128) NOT NULL,
  applied_at DATETIME(6)  NOT NULL DEFAULT NOW(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- One row per lease; 'master' is the one that elects the master.
-- epoch is the fencing token: it grows by one on every change of holder.
-- lock_conn is the holder's election session id while that session holds
-- the named lock, 0 otherwise (see src/store/elect.c).
CREATE TABLE IF NOT EXISTS lease (
  name        VARCHAR(64)     NOT NULL PRIMARY KEY,
  holder      VARCHAR(128)    NOT NULL DEFAULT '',
  address     VARCHAR(255)    NOT NULL DEFAULT '',
  http        VARCHAR(255)    NOT NULL DEFAULT '',
  epoch       BIGINT UNSIGNED NOT NULL DEFAULT 0,
  lock_conn   BIGINT UNSIGNED NOT NULL DEFAULT 0,
  acquired_at DATETIME(6)     NULL,
  renewed_at  DATETIME(6)     NULL,
  expires     DATETIME(6)     NOT NULL DEFAULT '1970-01-01 00:00:01'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT IGNORE INTO lease (name) VALUES ('master');

-- Every node that ever connected to a master.  Written by the master
-- (fenced by its epoch) when a worker authenticates, on every registry
-- flush, and when a worker goes away.
CREATE TABLE IF NOT EXISTS nodes (
  name         VARCHAR(128)    NOT NULL PRIMARY KEY,
  address      VARCHAR(255)    NOT NULL DEFAULT '',
  http         VARCHAR(255)    NOT NULL DEFAULT '',
  peer         VARCHAR(255)    NOT NULL DEFAULT '',
  host_groups  VARCHAR(1024)   NOT NULL DEFAULT '',
  master_group TINYINT(1)      NOT NULL DEFAULT 0,
  version      VARCHAR(32)     NOT NULL DEFAULT '',
  cores        INT UNSIGNED    NOT NULL DEFAULT 0,
  max_running  INT UNSIGNED    NOT NULL DEFAULT 0,
  running      INT UNSIGNED    NOT NULL DEFAULT 0,
  mem_total    BIGINT UNSIGNED NOT NULL DEFAULT 0,
  mem_used     BIGINT UNSIGNED NOT NULL DEFAULT 0,
  load_avg     DOUBLE          NOT NULL DEFAULT 0,
  load_json    VARCHAR(4096)   NOT NULL DEFAULT '[]',
  connected    TINYINT(1)      NOT NULL DEFAULT 0,
  epoch        BIGINT UNSIGNED NOT NULL DEFAULT 0,
  connected_at DATETIME(6)     NULL,
  heartbeat_at DATETIME(6)     NULL,
  last_seen    DATETIME(6)     NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
