-- What a queued job is in the engine's memory (`bot.engine.slim.Queued`), beside its request,
-- so that a start reads these few columns instead of parsing every request: its units of
-- work, what its host must have (space-separated), the start of its prompt. NULL in rows
-- written before (they are read in full).
ALTER TABLE jobs ADD COLUMN work REAL;
ALTER TABLE jobs ADD COLUMN needs TEXT;
ALTER TABLE jobs ADD COLUMN preview TEXT;
