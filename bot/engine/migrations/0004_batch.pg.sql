-- PostgreSQL's form of 0004_batch.sql: the batch column alone. No PostgreSQL database holds
-- rows from before it (PostgreSQL came later), so there is nothing to move out of reply targets.
ALTER TABLE jobs ADD COLUMN batch TEXT;
