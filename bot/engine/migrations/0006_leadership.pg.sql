-- Which `wanbot serve` leads on this database (see bot/engine/lease.py): one row, a lease on
-- the server's clock. `generation` grows by one at each takeover: the fencing token that every
-- write acting on a job checks.
CREATE TABLE leadership (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    generation BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
INSERT INTO leadership (id, holder, generation, expires_at) VALUES (1, '', 0, '-infinity');
