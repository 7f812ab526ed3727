-- Operators: users, their API tokens, and the audit trail of commands.

CREATE TABLE IF NOT EXISTS users (
  name          VARCHAR(128)  NOT NULL PRIMARY KEY,
  email         VARCHAR(255)  NOT NULL DEFAULT '',
  password_hash VARCHAR(255)  NOT NULL,          -- crypt(3), yescrypt
  role          VARCHAR(16)   NOT NULL DEFAULT 'user', -- admin | user
  created_at    DATETIME(6)   NOT NULL DEFAULT NOW(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- A token is shown once at login; only its SHA-256 is kept.
CREATE TABLE IF NOT EXISTS tokens (
  token_hash  CHAR(64)      NOT NULL PRIMARY KEY,
  user_name   VARCHAR(128)  NOT NULL,
  created_at  DATETIME(6)   NOT NULL DEFAULT NOW(6),
  expires_at  DATETIME(6)   NOT NULL,
  KEY tokens_user (user_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS audit (
  id          BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at          DATETIME(6)   NOT NULL DEFAULT NOW(6),
  user_name   VARCHAR(128)  NOT NULL DEFAULT '',
  remote      VARCHAR(64)   NOT NULL DEFAULT '',
  method      VARCHAR(8)    NOT NULL,
  path        VARCHAR(512)  NOT NULL,
  status      INT           NOT NULL,
  detail      VARCHAR(1024) NOT NULL DEFAULT '',
  KEY audit_at (at),
  KEY audit_user (user_name, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
