-- 013_asof_since.sql -- what the warehouse said is known since revisions are kept.
--
-- Revisions are recorded since 011 was applied: a figure a re-published
-- file changed before that left no trace, so ewc.observation_asof() would
-- answer for an earlier time with today's value.  It now refuses a time
-- before that (warehouse.history_start) with an error saying since when.

CREATE TABLE warehouse.history_start (
    started_at  timestamptz NOT NULL
);
INSERT INTO warehouse.history_start (started_at)
SELECT coalesce((SELECT m.applied_at FROM ledger.migration m WHERE m.version = 11), now());
COMMENT ON TABLE warehouse.history_start IS
    'since when revisions are recorded (migration 011): ewc.observation_asof() answers '
    'for no earlier time';
GRANT SELECT ON warehouse.history_start TO ewc_analyst, ewc_loader;

-- The rows of 011's function, moved out of the analysts' schema; the
-- function analysts call checks the time, then returns them.
ALTER FUNCTION ewc.observation_asof(timestamptz) RENAME TO observation_asof_rows;
ALTER FUNCTION ewc.observation_asof_rows(timestamptz) SET SCHEMA warehouse;
REVOKE ALL ON FUNCTION warehouse.observation_asof_rows(timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION warehouse.observation_asof_rows(timestamptz) IS
    'the rows of ewc.observation_asof(), without its check of the time';

CREATE FUNCTION ewc.observation_asof(at timestamptz)
RETURNS TABLE (indicator text, region char(6), partner char(6), period_kind text,
               period_start date, period_end date, of_which boolean, value numeric,
               unit text, qualifier text, source text, file_id bigint,
               loaded_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    since timestamptz := (SELECT h.started_at FROM warehouse.history_start h);
BEGIN
    IF at < since THEN
        RAISE EXCEPTION 'revisions are kept since %: what the warehouse said at % is not known',
                        since, at
            USING ERRCODE = 'data_exception',
                  HINT = 'ask ewc.observation_asof() for a time since then';
    END IF;
    RETURN QUERY SELECT * FROM warehouse.observation_asof_rows(at);
END
$$;

COMMENT ON FUNCTION ewc.observation_asof(timestamptz) IS
    'The observations as the warehouse had them at the given time: each source''s '
    'version then in force (file_id, loaded_at), values before any later revision.  '
    'Known since revisions are kept (warehouse.history_start): an earlier time is an '
    'error.  A file counts from the end of its load; the files of a backfill year, '
    'committed together, became visible at the year''s end.  '
    'Example: SELECT * FROM ewc.observation_asof(''2026-01-31'').';
REVOKE ALL ON FUNCTION ewc.observation_asof(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ewc.observation_asof(timestamptz) TO ewc_analyst, ewc_loader;

COMMENT ON VIEW ewc.figure IS
    'One figure per indicator, region, partner, period and of-which: among the sources '
    'giving it, the one of the highest source priority (YAML "priority" of its pipeline), '
    'then the one loaded last; a figure is preferred to a blank ("—": a source that '
    'blanks a figure does not hide another''s, and is no conflict).  The national and '
    'pair views are built on it.';
