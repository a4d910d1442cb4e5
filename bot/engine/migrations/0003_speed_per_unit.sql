-- Speeds are now seconds per unit of work (a frame, times the sampler steps, times the frame
-- size over 832x480), not seconds per frame: a 4-step job and a 30-step job no longer get the
-- same ETA. The old per-frame figures mean something else; each is learned again from the
-- host's next finished job.
ALTER TABLE speeds RENAME COLUMN seconds_per_frame TO seconds_per_unit;
DELETE FROM speeds;
