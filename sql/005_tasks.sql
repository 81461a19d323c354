-- 005_tasks.sql
--   File tasks: after fetching, a run writes one row per file to load; any
--   worker -- a process of the run itself or `ewc-etl worker` on another
--   machine -- claims one with SELECT ... FOR UPDATE SKIP LOCKED inside the
--   file's own transaction, so a file is loaded once, and a worker that
--   dies releases its claim with its transaction.

CREATE TABLE ledger.task (
    id              bigserial PRIMARY KEY,
    run_id          bigint NOT NULL REFERENCES ledger.run (id),
    stage           text NOT NULL,          -- the fetch stage that produced it
    url             text NOT NULL,
    year            integer NOT NULL DEFAULT 0,
    spool_path      text NOT NULL,
    sha256          text NOT NULL,
    bytes           bigint NOT NULL,
    etag            text,
    last_modified   text,
    http_status     integer,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'done', 'failed')),
    worker          text,                   -- host:pid that finished it
    file_id         bigint REFERENCES ledger.file (id)
);
CREATE INDEX task_pending ON ledger.task (run_id, id) WHERE state = 'pending';

GRANT SELECT, INSERT, UPDATE, DELETE ON ledger.task TO ewc_loader;
GRANT USAGE ON SEQUENCE ledger.task_id_seq TO ewc_loader;
