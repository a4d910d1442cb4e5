-- A long video's finished clips (`bot.chain.ClipMade`, as a JSON list): the chain resumes at
-- the next clip after a restart. NULL for every other job.
ALTER TABLE jobs ADD COLUMN clips TEXT;
