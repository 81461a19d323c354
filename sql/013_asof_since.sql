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

CREATE OR REPLACE FUNCTION ewc.observation_asof(at timestamptz)
RETURNS TABLE (indicator text, region char(6), partner char(6), period_kind text,
               period_start date, period_end date, of_which boolean, value numeric,
               unit text, qualifier text, source text, file_id bigint,
               loaded_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    since timestamptz := (SELECT h.started_at FROM warehouse.history_start h);
BEGIN
    IF at < since THEN
        RAISE EXCEPTION 'revisions are kept since %: what the warehouse said at % is not known',
                        since, at
            USING ERRCODE = 'data_exception',
                  HINT = 'ask ewc.observation_asof() for a time since then';
    END IF;
    RETURN QUERY
    WITH version AS (
        SELECT DISTINCT ON (f.source_id) f.source_id, f.id, f.finished_at
        FROM ledger.file f
        WHERE f.status = 'loaded' AND f.finished_at <= at
        ORDER BY f.source_id, f.finished_at DESC, f.id DESC
    ),
    later AS (
        SELECT DISTINCT ON (r.source_id, r.indicator, r.region, r.partner, r.period_start,
                            r.period_end, r.of_which) r.*
        FROM warehouse.revision r
        JOIN ledger.file f ON f.id = r.file_id
        WHERE f.finished_at > at
        ORDER BY r.source_id, r.indicator, r.region, r.partner, r.period_start, r.period_end,
                 r.of_which, f.finished_at, r.id
    )
    SELECT l.indicator, l.region, l.partner, l.period_kind, l.period_start, l.period_end,
           l.of_which, l.old_value, l.unit, l.old_qualifier, s.url, v.id, v.finished_at
    FROM later l
    JOIN version v ON v.source_id = l.source_id
    JOIN ledger.source s ON s.id = l.source_id
    WHERE l.change <> 'added'
    UNION ALL
    SELECT o.indicator, o.region, o.partner, o.period_kind, o.period_start, o.period_end,
           o.of_which, o.value, o.unit, o.qualifier, s.url, v.id, v.finished_at
    FROM warehouse.observation o
    JOIN version v ON v.source_id = o.source_id
    JOIN ledger.source s ON s.id = o.source_id
    WHERE NOT EXISTS (SELECT 1 FROM later l
                      WHERE l.source_id = o.source_id AND l.indicator = o.indicator
                        AND l.region = o.region AND l.partner IS NOT DISTINCT FROM o.partner
                        AND l.period_start = o.period_start AND l.period_end = o.period_end
                        AND l.of_which = o.of_which);
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
