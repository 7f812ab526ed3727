-- Fan-out: a job may run as one part on every worker of its group
-- (broadcast) or as N shards; each part is an instance of its own (with
-- its own worker, log, status and retries) under the job's instance.

-- fanout: none | broadcast | shards | map
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS fanout VARCHAR(16) NOT NULL DEFAULT 'none';
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS shards INT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS min_success_pct INT UNSIGNED NOT NULL DEFAULT 100;

ALTER TABLE instances ADD COLUMN IF NOT EXISTS parent_id BIGINT NULL;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS shard_index INT UNSIGNED NULL;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS shard_count INT UNSIGNED NULL;
-- a broadcast part: the worker it runs on
ALTER TABLE instances ADD COLUMN IF NOT EXISTS pin_worker VARCHAR(128) NULL;
CREATE INDEX IF NOT EXISTS instances_parent ON instances (parent_id, shard_index);
CREATE INDEX IF NOT EXISTS instances_parent_status ON instances (parent_id, status);

-- Map and reduce: a map job's instance first runs one "root" part; a part
-- may emit sub-tasks (heracron map), each a part with its item, and when
-- they have all succeeded an optional "reduce" part gets their results.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS map_reduce TINYINT(1) NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS task_name VARCHAR(64) NULL;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS task_input MEDIUMTEXT NULL;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS task_depth INT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN IF NOT EXISTS result VARCHAR(1024) NULL;
