-- Clearer names: a job's whole work folder, and ComfyUI's progress (not the sampler steps
-- the user asked for, which live in `request`).
ALTER TABLE jobs RENAME COLUMN input_dir TO work_dir;
ALTER TABLE jobs RENAME COLUMN step TO progress_step;
ALTER TABLE jobs RENAME COLUMN steps TO progress_steps;
