-- 004_file_checks.sql
--   Rows withdrawn by their sender (SDMX ACTION D) are counted apart, and
--   the per-file reconciliation of national rows against the sum of the
--   province rows is kept in the ledger.

ALTER TABLE ledger.file ADD COLUMN rows_deleted bigint NOT NULL DEFAULT 0;
ALTER TABLE ledger.file DROP CONSTRAINT file_rows_balance;
ALTER TABLE ledger.file ADD CONSTRAINT file_rows_balance
    CHECK (status <> 'loaded' OR rows_in = rows_loaded + rows_rejected + rows_deleted);

CREATE TABLE ledger.reconcile (
    file_id         bigint NOT NULL REFERENCES ledger.file (id) ON DELETE CASCADE,
    indicator       text NOT NULL,
    period_kind     text NOT NULL,
    period_start    date NOT NULL,
    period_end      date NOT NULL,
    national        numeric NOT NULL,
    sum_of_regions  numeric NOT NULL,
    regions         integer NOT NULL,
    outcome         text NOT NULL CHECK (outcome IN ('warned', 'failed')),
    PRIMARY KEY (file_id, indicator, period_kind, period_start, period_end)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON ledger.reconcile TO ewc_loader;
