-- 001_ledger.sql
--   The run ledger: one row per run, per source URL, per file loaded, per
--   rejected row.  Written by the loader in the same transaction as the
--   file's observations, so the ledger never claims rows that are not there.

CREATE SCHEMA IF NOT EXISTS ledger;

CREATE TABLE ledger.run (
    id              bigserial PRIMARY KEY,
    pipeline        text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('manual', 'nightly', 'backfill')),
    params          jsonb NOT NULL DEFAULT '{}',
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    status          text NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'ok', 'ok_with_rejects', 'partial', 'failed')),
    files_total     integer NOT NULL DEFAULT 0,
    files_loaded    integer NOT NULL DEFAULT 0,
    files_unchanged integer NOT NULL DEFAULT 0,
    files_failed    integer NOT NULL DEFAULT 0,
    rows_loaded     bigint NOT NULL DEFAULT 0,
    rows_rejected   bigint NOT NULL DEFAULT 0,
    host            text,
    pid             integer,
    error           text
);
CREATE INDEX run_pipeline_started ON ledger.run (pipeline, started_at DESC);

-- One row per source URL of a pipeline: the version whose rows are in the
-- warehouse now, and the validators for the next conditional GET.
CREATE TABLE ledger.source (
    id              bigserial PRIMARY KEY,
    pipeline        text NOT NULL,
    url             text NOT NULL,
    etag            text,
    last_modified   text,
    sha256          text,
    file_id         bigint,
    UNIQUE (pipeline, url)
);

CREATE TABLE ledger.file (
    id              bigserial PRIMARY KEY,
    run_id          bigint NOT NULL REFERENCES ledger.run (id),
    source_id       bigint REFERENCES ledger.source (id),
    url             text NOT NULL,
    spool_path      text,
    sha256          text,
    bytes           bigint,
    etag            text,
    last_modified   text,
    http_status     integer,
    status          text NOT NULL CHECK (status IN ('loaded', 'unchanged', 'failed')),
    rows_in         bigint NOT NULL DEFAULT 0,
    rows_loaded     bigint NOT NULL DEFAULT 0,
    rows_rejected   bigint NOT NULL DEFAULT 0,
    error           text,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- nothing lost: every row read is loaded or rejected
    CONSTRAINT file_rows_balance CHECK (status <> 'loaded' OR rows_in = rows_loaded + rows_rejected)
);
CREATE INDEX file_run ON ledger.file (run_id);
CREATE INDEX file_source ON ledger.file (source_id);

ALTER TABLE ledger.source
    ADD CONSTRAINT source_file_fk FOREIGN KEY (file_id) REFERENCES ledger.file (id);

CREATE TABLE ledger.reject (
    file_id         bigint NOT NULL REFERENCES ledger.file (id) ON DELETE CASCADE,
    line            bigint NOT NULL,
    raw             text NOT NULL,
    reason          text NOT NULL,
    PRIMARY KEY (file_id, line)
);
