-- Jobs: one row per accepted request; `seq` gives FIFO order.
CREATE TABLE jobs (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    platform     TEXT    NOT NULL,
    user_id      TEXT    NOT NULL,
    chat_id      TEXT    NOT NULL,
    reply_target TEXT    NOT NULL,           -- opaque JSON from the front end
    mode         TEXT    NOT NULL,
    request      TEXT    NOT NULL,           -- JobRequest JSON (validated, inputs under input_dir)
    files        TEXT    NOT NULL,           -- PreparedFiles JSON (normalized uploads)
    input_dir    TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    host         TEXT,
    prompt_id    TEXT,
    progress     REAL    NOT NULL DEFAULT 0,
    step         INTEGER NOT NULL DEFAULT 0,
    steps        INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    error        TEXT,
    created_at   REAL    NOT NULL,
    started_at   REAL,
    finished_at  REAL,
    output       TEXT,
    gpu_seconds  REAL,
    delivered    INTEGER NOT NULL DEFAULT 0,
    workflow     TEXT
);
CREATE INDEX jobs_status ON jobs (status, seq);
CREATE INDEX jobs_user ON jobs (platform, user_id, seq);

-- Measured speed per host and mode, for ETAs.
CREATE TABLE speeds (
    host              TEXT NOT NULL,
    mode              TEXT NOT NULL,
    seconds_per_frame REAL NOT NULL,
    samples           INTEGER NOT NULL DEFAULT 1,
    updated_at        REAL NOT NULL,
    PRIMARY KEY (host, mode)
);

-- Small key/value settings owned by the engine (e.g. its stable ComfyUI client id).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
