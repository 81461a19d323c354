-- 012_retention.sql -- nothing grows for ever.
--
--   ledger.source.refused_*  the version of a source last refused for its
--                            content, so that the next run asks for it
--                            conditionally and does not parse it again
--   indexes                  for `ewc-etl prune`: runs by age, tasks and
--                            revisions by the file they name
--
-- Pruning (etl/prune.c) deletes old runs with their files, rejects,
-- reconciliations and tasks, keeping every file the warehouse, a source's
-- current or refused version, or an as-of answer needs.

-- The version a source refused (reject ratio, magnitude), while it is the
-- latest: its ledger.file row (sha256, reason), the validators it came
-- with (updated by later 304s), and the SHA-256 of the YAML it was refused
-- under: a changed YAML tries it again.  Cleared when a version loads.
ALTER TABLE ledger.source
    ADD COLUMN refused_file_id bigint REFERENCES ledger.file (id),
    ADD COLUMN refused_etag text,
    ADD COLUMN refused_last_modified text,
    ADD COLUMN refused_config text;
COMMENT ON COLUMN ledger.source.refused_file_id IS
    'the latest version refused for its content (ledger.file, status failed), or NULL: '
    'while unchanged it is not downloaded or parsed again';
COMMENT ON COLUMN ledger.source.refused_etag IS
    'ETag of the refused version, for the next conditional GET';
COMMENT ON COLUMN ledger.source.refused_last_modified IS
    'Last-Modified of the refused version, for the next conditional GET';
COMMENT ON COLUMN ledger.source.refused_config IS
    'SHA-256 of the YAML the version was refused under, with the program''s version; '
    'another YAML or another version of ewc-etl tries it again';

CREATE INDEX run_finished ON ledger.run (finished_at);
CREATE INDEX task_run ON ledger.task (run_id);
CREATE INDEX task_file ON ledger.task (file_id);
CREATE INDEX revision_old_file ON warehouse.revision (old_file_id);
