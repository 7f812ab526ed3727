-- The master reads its three queues (schedule, manual, debug) in id order.
-- With only the status index, reading one queue visited every queued row
-- of the others: a map of 100,000 manual sub-tasks made each read of the
-- schedule and debug queues scan tens of thousands of rows.  Each queued
-- row now names its queue, and (status, queue, id) serves each read as
-- one range.
ALTER TABLE instances ADD COLUMN IF NOT EXISTS queue TINYINT AS
  (CASE trigger_kind WHEN 'SCHEDULE' THEN 0 WHEN 'DEBUG' THEN 2 ELSE 1 END) PERSISTENT;
CREATE INDEX IF NOT EXISTS instances_queue ON instances (status, queue, id);
