-- A job's place in its batch belongs to the engine, not to the front end's opaque reply
-- target: JSON [group, index, size], NULL for a job on its own. Rows that kept it in their
-- reply target move it here.
ALTER TABLE jobs ADD COLUMN batch TEXT;
UPDATE jobs
   SET batch = json_extract(reply_target, '$.batch'),
       reply_target = json_remove(reply_target, '$.batch')
 WHERE json_extract(reply_target, '$.batch') IS NOT NULL;
