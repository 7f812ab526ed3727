-- A map job may run its sub-tasks in runners: one long-lived process per
-- map and task name on each worker, fed one item a line on stdin and
-- answering one status line per item on fd 3 (see README).  A process per
-- sub-task costs about 0.5 ms of CPU; a runner's item costs microseconds.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS map_runner TINYINT(1) NOT NULL DEFAULT 0;
