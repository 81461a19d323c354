-- 014_diff_load.sql
--   A re-published file now writes only the keys it changes (stages/
--   revise.c): a row the new version repeats as it was stays, with the
--   file_id, line and raw text of the version that brought its figure.
--   "Loaded last" among sources is therefore the source's current version
--   (ledger.source.file_id), no longer the row's own file.  And the index
--   on source_id alone goes (below).

CREATE OR REPLACE VIEW ewc.figure AS
WITH ranked AS (
    SELECT o.indicator, o.region, o.partner, o.period_kind, o.period_start, o.period_end,
           o.of_which, o.value, o.unit, o.qualifier, o.raw_value, o.note, s.url,
           o.source_id, o.file_id, o.line, o.col, f.finished_at AS loaded_at, f.sha256,
           s.priority,
           row_number() OVER w AS choice,
           first_value(o.value) OVER w AS chosen_value,
           count(*) OVER k AS sources
    FROM warehouse.observation o
    JOIN ledger.source s ON s.id = o.source_id
    JOIN ledger.file f ON f.id = o.file_id
    WINDOW k AS (PARTITION BY o.indicator, o.region, o.partner, o.period_kind, o.period_start,
                              o.period_end, o.of_which),
           w AS (k ORDER BY o.value IS NULL, s.priority DESC, s.file_id DESC, o.line, o.col)
),
counted AS (
    SELECT r.*,
           count(*) FILTER (WHERE r.value <> r.chosen_value)
               OVER (PARTITION BY r.indicator, r.region, r.partner, r.period_kind,
                                  r.period_start, r.period_end, r.of_which) AS conflicts
    FROM ranked r
)
SELECT c.indicator, c.region, c.partner, c.period_kind, c.period_start, c.period_end,
       c.of_which, c.value, c.unit, c.qualifier, c.raw_value, c.note, c.url, c.file_id,
       c.line, c.col, c.loaded_at, c.sha256, c.priority, c.sources, c.conflicts
FROM counted c
WHERE c.choice = 1;

COMMENT ON VIEW ewc.figure IS
    'One figure per indicator, region, partner, period and of-which: among the sources '
    'giving it, the one of the highest source priority (YAML "priority" of its pipeline), '
    'then the source whose current version was loaded last; a figure is preferred to a '
    'blank.  file_id, line and loaded_at name the version that brought the figure: a '
    'later version that repeats it unchanged leaves the row as it was.';
COMMENT ON COLUMN warehouse.observation.file_id IS
    'the version of the source that brought this figure (ledger.file); a later version '
    'that repeats it unchanged leaves the row as it was (ledger.source.file_id is the '
    'current version)';
COMMENT ON COLUMN warehouse.observation.line IS 'the figure''s line in that file';
COMMENT ON COLUMN ewc.revision.old_file_id IS
    'the file the old value came from: the version that brought it (ledger.file)';

-- The source's rows are found by the unique key, whose first column is
-- source_id: a second index on source_id alone cost every loaded row one
-- more index insert and answered nothing the key does not.
DROP INDEX warehouse.observation_source;
