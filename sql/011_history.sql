-- 011_history.sql -- after "what is the figure": since when, from which
-- file, what it said before, which source disagrees, what is missing.
--
--   warehouse.revision     every change a re-published file made
--   ewc.figure             one figure per key: the chosen source's
--   ewc.revision           the changes with their files and load times
--   ewc.observation_asof() what the warehouse said at a given time
--   ewc.national_provenance the rows behind each national figure
--   ewc.conflict           sources that disagree, with both files
--   ewc.coverage           present / summed / missing, per period
--   ewc.quality            rejects, differences, refusals per file
--
-- The national, pair and reconciliation views now pick each figure
-- through ewc.figure (the source priority, then the latest load), and
-- show its file, URL and load time.

-- Sources: a pipeline's priority (YAML "priority", written at each load),
-- deciding between sources that give different figures.
ALTER TABLE ledger.source ADD COLUMN priority integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN ledger.source.priority IS
    'the YAML priority of the source''s pipeline: between two sources giving different '
    'figures for the same thing, the higher wins; then the one loaded last';

-- What a file's load changed in its source's rows; NULL for a first version.
ALTER TABLE ledger.file
    ADD COLUMN rows_added bigint,
    ADD COLUMN rows_changed bigint,
    ADD COLUMN rows_removed bigint,
    ADD COLUMN max_change_pct numeric;
COMMENT ON COLUMN ledger.file.rows_added IS
    'rows the previous version of the source did not have; NULL: first version';
COMMENT ON COLUMN ledger.file.rows_changed IS
    'rows whose value or qualifier differs from the previous version; NULL: first version';
COMMENT ON COLUMN ledger.file.rows_removed IS
    'rows of the previous version this one does not have; NULL: first version';
COMMENT ON COLUMN ledger.file.max_change_pct IS
    'the largest relative change of a changed value, in percent (signed); NULL if none';
ALTER TABLE ledger.run
    ADD COLUMN rows_added bigint NOT NULL DEFAULT 0,
    ADD COLUMN rows_changed bigint NOT NULL DEFAULT 0,
    ADD COLUMN rows_removed bigint NOT NULL DEFAULT 0;

-- The years an indicator's annual national figure is expected for (the
-- catalog's "years: [first, last]"; no last: through the latest year).
ALTER TABLE warehouse.indicator
    ADD COLUMN years_from integer,
    ADD COLUMN years_to integer;
COMMENT ON COLUMN warehouse.indicator.years_from IS
    'first year an annual national figure is expected for (catalog "years"), or NULL';
COMMENT ON COLUMN warehouse.indicator.years_to IS
    'last such year; NULL: through the latest year of any figure';

-- Every change a new version of a source made to its rows, written by the
-- load in the file's transaction: a key (indicator, region, partner,
-- period, of-which) added, changed (value or qualifier) or removed.  A
-- source's first version adds no rows here: as-of answers take it from
-- ledger.file.  The old side names the file that had stated the old value
-- last; file_id the version that changed it.
CREATE TABLE warehouse.revision (
    id              bigserial PRIMARY KEY,
    source_id       bigint NOT NULL REFERENCES ledger.source (id),
    file_id         bigint NOT NULL REFERENCES ledger.file (id),
    change          text NOT NULL CHECK (change IN ('added', 'changed', 'removed')),
    indicator       text NOT NULL,
    region          char(6) NOT NULL,
    partner         char(6),
    period_kind     text NOT NULL,
    period_start    date NOT NULL,
    period_end      date NOT NULL,
    of_which        boolean NOT NULL,
    unit            text NOT NULL,
    old_value       numeric,
    old_qualifier   text,
    old_raw         text,
    old_file_id     bigint REFERENCES ledger.file (id),
    old_line        bigint,
    new_value       numeric,
    new_qualifier   text,
    new_raw         text,
    new_line        bigint,
    CONSTRAINT revision_sides CHECK ((change = 'added') = (old_qualifier IS NULL)
                                     AND (change = 'removed') = (new_qualifier IS NULL))
);
CREATE INDEX revision_key ON warehouse.revision
    (source_id, indicator, region, period_start, period_end);
CREATE INDEX revision_file ON warehouse.revision (file_id);
COMMENT ON TABLE warehouse.revision IS
    'each change a re-published file made to its source''s rows (see ewc.revision)';

GRANT SELECT, INSERT ON warehouse.revision TO ewc_loader;
GRANT USAGE ON SEQUENCE warehouse.revision_id_seq TO ewc_loader;

-- One figure per indicator, region, partner, period and of-which: when
-- several sources give it, the one of the highest source priority, then
-- the one loaded last; a figure before a blank ("—").  'sources' counts
-- the sources that give it, 'conflicts' those whose figure differs from
-- the chosen one (ewc.conflict lists them).
CREATE VIEW ewc.figure AS
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
           w AS (k ORDER BY o.value IS NULL, s.priority DESC, o.file_id DESC, o.line, o.col)
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
    'then the one loaded last; a figure is preferred to a blank.  The national and pair '
    'views are built on it.';

-- Every observation with names in Chinese and English and its source: as
-- in 003, plus the load time and content hash of its file.
CREATE OR REPLACE VIEW ewc.observation_named AS
SELECT o.indicator,
       i.name_zh      AS indicator_zh,
       i.name_en      AS indicator_en,
       o.region,
       r.name_zh      AS region_zh,
       r.name_en      AS region_en,
       o.partner,
       p.name_zh      AS partner_zh,
       p.name_en      AS partner_en,
       o.period_kind,
       o.period_start,
       o.period_end,
       o.value,
       o.unit,
       o.qualifier,
       o.of_which,
       o.raw_value,
       o.note,
       s.url          AS source,
       o.file_id,
       o.run_id,
       o.line,
       f.finished_at  AS loaded_at,
       f.sha256,
       o.col
FROM warehouse.observation o
JOIN warehouse.indicator i ON i.code = o.indicator
LEFT JOIN warehouse.region r ON r.code = o.region
LEFT JOIN warehouse.region p ON p.code = o.partner
LEFT JOIN ledger.source s ON s.id = o.source_id
LEFT JOIN ledger.file f ON f.id = o.file_id;

-- Figures of east-west pairs (as in 003), each figure chosen by
-- ewc.figure, with its file, URL, line and load time.
CREATE OR REPLACE VIEW ewc.pair_period AS
SELECT o.indicator,
       x.east_code,
       e.name_zh AS east_name,
       x.west_code,
       w.name_zh AS west_name,
       x.side,
       o.period_kind,
       o.period_start,
       o.period_end,
       o.value,
       o.unit,
       o.qualifier,
       o.file_id,
       o.url,
       o.line,
       o.loaded_at,
       o.conflicts
FROM ewc.figure o
JOIN warehouse.region ro ON ro.code = o.region
JOIN warehouse.region rp ON rp.code = o.partner
CROSS JOIN LATERAL (
    SELECT CASE WHEN reg_is_west THEN o.partner ELSE o.region END AS east_code,
           CASE WHEN reg_is_west THEN o.region ELSE o.partner END AS west_code,
           CASE WHEN reg_is_west THEN 'west' ELSE 'east' END AS side
    FROM (SELECT EXISTS (SELECT 1 FROM warehouse.pairing pr
                         WHERE pr.east IN (o.partner, rp.parent)
                           AND pr.west IN (o.region, ro.parent))
                 OR (coalesce(ro.zone, (SELECT z.zone FROM warehouse.region z
                                        WHERE z.code = ro.parent)) = 'west'
                     AND NOT EXISTS (SELECT 1 FROM warehouse.pairing pr
                                     WHERE pr.east IN (o.region, ro.parent)
                                       AND pr.west IN (o.partner, rp.parent)))
                 AS reg_is_west) f
) x
JOIN warehouse.region e ON e.code = x.east_code
JOIN warehouse.region w ON w.code = x.west_code
WHERE o.partner IS NOT NULL AND NOT o.of_which;

-- As in 007, with the file, URL, line, load time and conflicts of each
-- pair figure counted.
CREATE OR REPLACE VIEW ewc.pair_counted AS
WITH one_side AS (
    SELECT DISTINCT ON (p.indicator, p.east_code, p.west_code, p.period_kind,
                        p.period_start, p.period_end)
           p.*
    FROM ewc.pair_period p
    JOIN warehouse.indicator i ON i.code = p.indicator AND i.additive
    WHERE p.value IS NOT NULL
    ORDER BY p.indicator, p.east_code, p.west_code, p.period_kind, p.period_start,
             p.period_end, p.side = 'east' DESC
)
SELECT s.indicator, s.east_code, s.west_code, s.side, s.period_kind, s.period_start,
       s.period_end, s.value, s.unit, s.qualifier, s.file_id, s.url, s.line, s.loaded_at,
       s.conflicts
FROM one_side s
JOIN warehouse.region e ON e.code = s.east_code
JOIN warehouse.region w ON w.code = s.west_code
WHERE NOT EXISTS (
    SELECT 1
    FROM one_side o
    WHERE o.indicator = s.indicator AND o.period_kind = s.period_kind
      AND o.period_start = s.period_start AND o.period_end = s.period_end
      AND (o.east_code, o.west_code) <> (s.east_code, s.west_code)
      AND o.east_code IN (s.east_code, CASE WHEN e.level = 'prefecture' THEN e.parent END)
      AND o.west_code IN (s.west_code, CASE WHEN w.level = 'prefecture' THEN w.parent END));

-- As in 007, each figure chosen by ewc.figure; a reported figure shows its
-- file, URL and load time, a sum the latest load time of the rows it sums;
-- 'conflicts' counts the sources that disagree with the figures used.
CREATE OR REPLACE VIEW ewc.national_period AS
WITH reported AS (
    SELECT f.indicator, f.period_kind, f.period_start, f.period_end, f.value, f.unit,
           f.qualifier, 'reported'::text AS source, NULL::bigint AS regions,
           f.file_id, f.url, f.loaded_at, f.conflicts
    FROM ewc.figure f
    WHERE f.region = '000000' AND f.partner IS NULL AND NOT f.of_which
),
regional AS (
    SELECT f.indicator, f.region, f.period_kind, f.period_start, f.period_end, f.value,
           f.unit, f.qualifier, f.loaded_at, f.conflicts
    FROM ewc.figure f
    JOIN warehouse.region r ON r.code = f.region AND r.level = 'province'
    JOIN warehouse.indicator i ON i.code = f.indicator AND i.additive
    WHERE f.partner IS NULL AND NOT f.of_which AND f.value IS NOT NULL
),
summed AS (
    SELECT g.indicator, g.period_kind, g.period_start, g.period_end, sum(g.value) AS value,
           min(g.unit) AS unit,
           CASE WHEN bool_and(g.qualifier = 'exact') THEN 'exact'
                WHEN bool_and(g.qualifier IN ('exact', 'lower_bound')) THEN 'lower_bound'
                ELSE 'approximate' END AS qualifier,
           'sum_of_regions'::text AS source, count(*) AS regions,
           NULL::bigint AS file_id, NULL::text AS url, max(g.loaded_at) AS loaded_at,
           sum(g.conflicts) AS conflicts
    FROM regional g
    WHERE NOT EXISTS (SELECT 1 FROM reported r
                      WHERE r.indicator = g.indicator AND r.period_kind = g.period_kind
                        AND r.period_start = g.period_start AND r.period_end = g.period_end)
    GROUP BY g.indicator, g.period_kind, g.period_start, g.period_end
),
paired AS (
    SELECT p.indicator, p.period_kind, p.period_start, p.period_end, sum(p.value) AS value,
           min(p.unit) AS unit,
           CASE WHEN bool_and(p.qualifier = 'exact') THEN 'exact'
                WHEN bool_and(p.qualifier IN ('exact', 'lower_bound')) THEN 'lower_bound'
                ELSE 'approximate' END AS qualifier,
           'sum_of_pairs'::text AS source, count(*) AS regions,
           NULL::bigint, NULL::text, max(p.loaded_at), sum(p.conflicts)
    FROM ewc.pair_counted p
    WHERE NOT EXISTS (SELECT 1 FROM reported r
                      WHERE r.indicator = p.indicator AND r.period_kind = p.period_kind
                        AND r.period_start = p.period_start AND r.period_end = p.period_end)
      AND NOT EXISTS (SELECT 1 FROM regional g
                      WHERE g.indicator = p.indicator AND g.period_kind = p.period_kind
                        AND g.period_start = p.period_start AND g.period_end = p.period_end)
    GROUP BY p.indicator, p.period_kind, p.period_start, p.period_end
),
national AS (
    SELECT * FROM reported
    UNION ALL
    SELECT * FROM summed
    UNION ALL
    SELECT * FROM paired
)
SELECT n.indicator, n.period_kind, n.period_start, n.period_end, n.value, n.unit,
       n.qualifier, n.source,
       round((n.value / nullif(prev.value, 0) - 1) * 100, 2) AS yoy_pct,
       n.regions, n.file_id, n.url, n.loaded_at, n.conflicts::bigint AS conflicts
FROM national n
LEFT JOIN national prev
       ON prev.indicator = n.indicator AND prev.period_kind = n.period_kind
      AND prev.period_start = (n.period_start - interval '1 year')::date
      AND prev.period_end = (n.period_end - interval '1 year')::date
      AND n.period_kind <> 'range';

-- As in 007, each figure chosen by ewc.figure.
CREATE OR REPLACE VIEW ewc.reconciliation AS
WITH reported AS (
    SELECT f.indicator, f.period_kind, f.period_start, f.period_end, f.value
    FROM ewc.figure f
    WHERE f.region = '000000' AND f.partner IS NULL AND NOT f.of_which
),
regional AS (
    SELECT f.indicator, f.period_kind, f.period_start, f.period_end,
           sum(f.value) AS value, count(*) AS regions
    FROM ewc.figure f
    JOIN warehouse.region r ON r.code = f.region AND r.level = 'province'
    JOIN warehouse.indicator i ON i.code = f.indicator AND i.additive
    WHERE f.partner IS NULL AND NOT f.of_which AND f.value IS NOT NULL
    GROUP BY 1, 2, 3, 4
),
paired AS (
    SELECT p.indicator, p.period_kind, p.period_start, p.period_end,
           sum(p.value) AS value, count(*) AS regions
    FROM ewc.pair_counted p
    GROUP BY 1, 2, 3, 4
),
compared AS (
    SELECT r.indicator, r.period_kind, r.period_start, r.period_end, r.value AS national,
           g.value AS summed, g.regions, 'regions'::text AS basis
    FROM reported r
    JOIN regional g USING (indicator, period_kind, period_start, period_end)
    UNION ALL
    SELECT r.indicator, r.period_kind, r.period_start, r.period_end, r.value,
           p.value, p.regions, 'pairs'::text
    FROM reported r
    JOIN paired p USING (indicator, period_kind, period_start, period_end)
)
SELECT c.indicator, c.period_kind, c.period_start, c.period_end,
       c.national, c.summed AS sum_of_regions, c.regions,
       c.summed - c.national AS difference,
       abs(c.summed - c.national) <= greatest(abs(c.national) * 0.005, 1) AS within,
       c.basis
FROM compared c;

-- The changes re-published files made, with the files and load times of
-- both sides.
CREATE VIEW ewc.revision AS
SELECT r.indicator, r.region, r.partner, r.period_kind, r.period_start, r.period_end,
       r.of_which, r.change, r.old_value, r.new_value,
       r.new_value - r.old_value AS difference,
       round((r.new_value / nullif(r.old_value, 0) - 1) * 100, 2) AS change_pct,
       r.unit, r.old_qualifier, r.new_qualifier,
       f.finished_at AS revised_at,
       s.url,
       r.old_file_id, o.sha256 AS old_sha256, o.finished_at AS old_loaded_at, r.old_line,
       r.file_id AS new_file_id, f.sha256 AS new_sha256, r.new_line,
       r.old_raw, r.new_raw, r.id AS revision_id
FROM warehouse.revision r
JOIN ledger.source s ON s.id = r.source_id
JOIN ledger.file f ON f.id = r.file_id
LEFT JOIN ledger.file o ON o.id = r.old_file_id;

-- What the warehouse said at 'at': each source's version then in force.
-- A key's first change after 'at' holds what it was before (its old side;
-- nothing if it was added then); a key with no change since is as now,
-- if its source had a version by then.  file_id is that version.
CREATE FUNCTION ewc.observation_asof(at timestamptz)
RETURNS TABLE (indicator text, region char(6), partner char(6), period_kind text,
               period_start date, period_end date, of_which boolean, value numeric,
               unit text, qualifier text, source text, file_id bigint,
               loaded_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
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
                    AND l.of_which = o.of_which)
$$;

-- The rows behind each national figure: the reported row, or each
-- province row or pair figure a sum adds up.
CREATE VIEW ewc.national_provenance AS
SELECT n.indicator, n.period_kind, n.period_start, n.period_end, n.source, n.value AS national,
       f.region, f.partner, f.value, f.unit, f.qualifier, f.url, f.file_id, f.line, f.col,
       f.loaded_at, f.sha256
FROM ewc.national_period n
JOIN ewc.figure f
  ON f.indicator = n.indicator AND f.period_kind = n.period_kind
 AND f.period_start = n.period_start AND f.period_end = n.period_end AND NOT f.of_which
WHERE (n.source = 'reported' AND f.region = '000000' AND f.partner IS NULL)
   OR (n.source = 'sum_of_regions' AND f.partner IS NULL AND f.value IS NOT NULL
       AND EXISTS (SELECT 1 FROM warehouse.region r
                   WHERE r.code = f.region AND r.level = 'province'))
   OR (n.source = 'sum_of_pairs'
       AND EXISTS (SELECT 1 FROM ewc.pair_counted p
                   WHERE p.indicator = f.indicator AND p.period_kind = f.period_kind
                     AND p.period_start = f.period_start AND p.period_end = f.period_end
                     AND p.file_id = f.file_id AND p.line = f.line
                     AND (f.region, f.partner) IN ((p.east_code, p.west_code),
                                                   (p.west_code, p.east_code))));

-- Every figure on which sources disagree: the chosen figure and each
-- other source's, with both files.
CREATE VIEW ewc.conflict AS
SELECT c.indicator, c.region, c.partner, c.period_kind, c.period_start, c.period_end,
       c.of_which, c.value AS chosen_value, o.value AS other_value,
       o.value - c.value AS difference,
       round((o.value / nullif(c.value, 0) - 1) * 100, 2) AS difference_pct,
       c.unit,
       CASE WHEN c.priority <> s.priority THEN 'priority' ELSE 'latest' END AS rule,
       c.url AS chosen_url, c.file_id AS chosen_file_id, c.line AS chosen_line,
       c.loaded_at AS chosen_loaded_at,
       s.url AS other_url, o.file_id AS other_file_id, o.line AS other_line,
       f.finished_at AS other_loaded_at
FROM ewc.figure c
JOIN warehouse.observation o
  ON o.indicator = c.indicator AND o.region = c.region
 AND o.partner IS NOT DISTINCT FROM c.partner AND o.period_kind = c.period_kind
 AND o.period_start = c.period_start AND o.period_end = c.period_end
 AND o.of_which = c.of_which
JOIN ledger.source s ON s.id = o.source_id
JOIN ledger.file f ON f.id = o.file_id
WHERE c.conflicts > 0 AND o.value <> c.value;

-- Coverage: for each indicator, the periods it has a figure for anywhere
-- (and the years the catalog expects), against the nation, the provinces
-- and the pairs that give it for periods of that kind.
CREATE VIEW ewc.coverage AS
WITH latest AS (
    SELECT max(extract(year FROM o.period_start))::integer AS year
    FROM warehouse.observation o
),
periods AS (
    SELECT DISTINCT f.indicator, f.period_kind, f.period_start, f.period_end
    FROM ewc.figure f
    WHERE NOT f.of_which
    UNION
    SELECT i.code, 'year', make_date(y, 1, 1), make_date(y + 1, 1, 1)
    FROM warehouse.indicator i
    CROSS JOIN latest
    CROSS JOIN LATERAL generate_series(i.years_from, coalesce(i.years_to, latest.year)) y
    WHERE i.years_from IS NOT NULL
),
givers AS (
    -- the provinces and pairs that give an indicator for periods of a kind
    SELECT DISTINCT f.indicator, f.period_kind, f.region, f.partner,
           CASE WHEN f.partner IS NOT NULL THEN 'pair' ELSE 'province' END AS scope
    FROM ewc.figure f
    JOIN warehouse.region r ON r.code = f.region
    WHERE NOT f.of_which AND f.region <> '000000'
      AND (f.partner IS NOT NULL OR r.level = 'province')
),
nation AS (
    SELECT p.indicator, 'nation'::text AS scope, '000000'::char(6) AS region,
           NULL::char(6) AS partner, p.period_kind, p.period_start, p.period_end,
           CASE WHEN n.source = 'reported' THEN 'reported'
                WHEN n.source IS NOT NULL THEN 'summed'
                ELSE 'missing' END AS status,
           n.value, n.source, n.regions
    FROM periods p
    LEFT JOIN ewc.national_period n
           ON n.indicator = p.indicator AND n.period_kind = p.period_kind
          AND n.period_start = p.period_start AND n.period_end = p.period_end
),
parts AS (
    SELECT p.indicator, g.scope, g.region, g.partner, p.period_kind, p.period_start,
           p.period_end,
           CASE WHEN f.indicator IS NULL THEN 'missing' ELSE 'reported' END AS status,
           f.value, CASE WHEN f.indicator IS NOT NULL THEN 'reported' END AS source,
           NULL::bigint AS regions
    FROM periods p
    JOIN givers g ON g.indicator = p.indicator AND g.period_kind = p.period_kind
    LEFT JOIN ewc.figure f
           ON f.indicator = p.indicator AND f.region = g.region
          AND f.partner IS NOT DISTINCT FROM g.partner AND f.period_kind = p.period_kind
          AND f.period_start = p.period_start AND f.period_end = p.period_end
          AND NOT f.of_which
)
SELECT * FROM nation
UNION ALL
SELECT * FROM parts;

-- Data quality per file and run, one row per finding: rejects by reason
-- (quoted names and numbers folded, an example kept), unknown names,
-- national figures that differ from their provinces' sum, refused files
-- (an implausible magnitude among them).
CREATE VIEW ewc.quality AS
WITH rejects AS (
    SELECT r.file_id,
           regexp_replace(regexp_replace(r.reason, '"[^"]*"|“[^”]*”', '"…"', 'g'),
                          '[-+]?[0-9][0-9.,]*', 'N', 'g') AS reason,
           r.reason AS example, r.line
    FROM ledger.reject r
)
SELECT f.run_id, f.id AS file_id, f.url, f.status AS file_status, f.finished_at AS loaded_at,
       'reject'::text AS finding, j.reason AS detail, count(*) AS rows, min(j.example) AS example,
       min(j.line) AS first_line
FROM rejects j
JOIN ledger.file f ON f.id = j.file_id
GROUP BY f.run_id, f.id, f.url, f.status, f.finished_at, j.reason
UNION ALL
SELECT f.run_id, f.id, f.url, f.status, f.finished_at, 'unmatched',
       r.unmatched_column || ' ' || r.unmatched, count(*), min(r.reason), min(r.line)
FROM ledger.reject r
JOIN ledger.file f ON f.id = r.file_id
WHERE r.unmatched IS NOT NULL
GROUP BY f.run_id, f.id, f.url, f.status, f.finished_at, r.unmatched_column, r.unmatched
UNION ALL
SELECT f.run_id, f.id, f.url, f.status, f.finished_at, 'reconcile',
       format('%s %s..%s: national %s, its %s provinces sum to %s (%s)', c.indicator, c.period_start,
              c.period_end, c.national, c.regions, c.sum_of_regions, c.outcome),
       1, NULL, NULL
FROM ledger.reconcile c
JOIN ledger.file f ON f.id = c.file_id
UNION ALL
SELECT f.run_id, f.id, f.url, f.status, f.finished_at,
       CASE WHEN f.error ~ '× too (small|large)' THEN 'magnitude' ELSE 'refused' END,
       f.error, f.rows_in, NULL, NULL
FROM ledger.file f
WHERE f.status = 'failed' AND f.error IS NOT NULL;

-- For analysts, in the database itself: every view, function and column
-- of ewc says what it holds.  Specific texts first; the columns common to
-- several views get one text each at the end.
COMMENT ON VIEW ewc.observation_named IS
    'Every observation loaded (all sources, the current version of each), with the '
    'Chinese and English names of its indicator and regions, its source URL, file, line '
    'and load time.';
COMMENT ON VIEW ewc.national_period IS
    'The national figure of each indicator and period: the reported one, else the sum '
    'of the province rows of an additive indicator, else the sum of its pair figures '
    '(ewc.pair_counted); each figure chosen by ewc.figure when sources differ; with the '
    'change on the same period a year earlier, and the file and load time behind it.';
COMMENT ON VIEW ewc.reconciliation IS
    'Reported national figures against the sum of the province rows (basis regions) '
    'and against the sum of the pair figures (basis pairs) of the same additive '
    'indicator and period, each figure chosen by ewc.figure; within: they agree within '
    '0.5% or one unit.';
COMMENT ON VIEW ewc.pair_period IS
    'The figures of east-west pairs, one per indicator, pair, side and period (chosen '
    'by ewc.figure), with the names of both sides.';
COMMENT ON VIEW ewc.revision IS
    'Every change a re-published file made: a figure added, changed (value or '
    'qualifier) or removed against the previous version of the same source, with the '
    'files, hashes and load times of both versions.  A source''s first version is not '
    'a revision.';
COMMENT ON FUNCTION ewc.observation_asof(timestamptz) IS
    'The observations as the warehouse had them at the given time: each source''s '
    'version then in force (file_id, loaded_at), values before any later revision.  '
    'Example: SELECT * FROM ewc.observation_asof(''2026-01-31'').';
COMMENT ON VIEW ewc.national_provenance IS
    'The rows behind each national figure of ewc.national_period: the reported row, or '
    'every province row (sum_of_regions) or pair figure (sum_of_pairs) of a sum, with '
    'its URL, file, line, column and load time.';
COMMENT ON VIEW ewc.conflict IS
    'Figures on which sources disagree: for each, the chosen figure (ewc.figure) and '
    'each other source''s different figure, with both files.  rule says why the chosen '
    'one won.';
COMMENT ON VIEW ewc.coverage IS
    'For each indicator and period: is there a national figure (reported, summed or '
    'missing), and a figure of each province and each pair that gives the indicator for '
    'periods of that kind?  The periods are those with any figure of the indicator, '
    'and the years the catalog expects (years).  The gaps to know before comparing years.';
COMMENT ON VIEW ewc.quality IS
    'Data quality per file and run, one row per finding: rejects by reason (names and '
    'numbers folded), unknown names, national figures off their provinces'' sum, '
    'refused files (magnitude: a unit lost).  Filter by run_id, file_id or finding.';

COMMENT ON COLUMN ewc.figure.sources IS 'how many sources give this figure';
COMMENT ON COLUMN ewc.figure.conflicts IS
    'how many other sources give a different figure (listed in ewc.conflict)';
COMMENT ON COLUMN ewc.figure.priority IS
    'the source''s priority (YAML "priority" of its pipeline; higher wins)';

COMMENT ON COLUMN ewc.national_period.value IS
    'the national figure, in the indicator''s canonical unit';
COMMENT ON COLUMN ewc.national_period.yoy_pct IS
    'change on the same period a year earlier, in percent (NULL without one)';
COMMENT ON COLUMN ewc.national_period.file_id IS
    'a reported figure''s file (ledger.file); NULL for a sum: see ewc.national_provenance';
COMMENT ON COLUMN ewc.national_period.url IS
    'a reported figure''s source URL; NULL for a sum: see ewc.national_provenance';
COMMENT ON COLUMN ewc.national_period.loaded_at IS
    'when the figure''s file was loaded; of a sum, the latest of its rows'' files';
COMMENT ON COLUMN ewc.national_period.conflicts IS
    'sources disagreeing with the figure, or with the rows a sum adds (ewc.conflict)';

COMMENT ON COLUMN ewc.pair_period.east_code IS 'the east side of the pair (region code)';
COMMENT ON COLUMN ewc.pair_period.east_name IS 'its Chinese name';
COMMENT ON COLUMN ewc.pair_period.west_code IS 'the west side of the pair (region code)';
COMMENT ON COLUMN ewc.pair_period.west_name IS 'its Chinese name';
COMMENT ON COLUMN ewc.pair_period.side IS
    'the side the figure is about: east (its funds, enterprises, cadres) or west';
COMMENT ON COLUMN ewc.pair_counted.east_code IS 'the east side of the pair (region code)';
COMMENT ON COLUMN ewc.pair_counted.west_code IS 'the west side of the pair (region code)';

COMMENT ON COLUMN ewc.reconciliation.national IS 'the reported national figure';
COMMENT ON COLUMN ewc.reconciliation.difference IS 'sum_of_regions minus national';
COMMENT ON COLUMN ewc.reconciliation.within IS
    'true when they agree within 0.5% or one unit';

COMMENT ON COLUMN ewc.observation_named.indicator_zh IS 'the indicator''s Chinese name';
COMMENT ON COLUMN ewc.observation_named.indicator_en IS 'the indicator''s English name';
COMMENT ON COLUMN ewc.observation_named.region_zh IS 'the region''s Chinese name';
COMMENT ON COLUMN ewc.observation_named.region_en IS 'the region''s English name';
COMMENT ON COLUMN ewc.observation_named.partner_zh IS 'the partner''s Chinese name';
COMMENT ON COLUMN ewc.observation_named.partner_en IS 'the partner''s English name';
COMMENT ON COLUMN ewc.observation_named.run_id IS 'the run that loaded it (ledger.run)';

COMMENT ON COLUMN ewc.revision.change IS
    'added (not in the previous version), changed (value or qualifier) or removed '
    '(not in the new version)';
COMMENT ON COLUMN ewc.revision.old_value IS 'the value before (NULL when added)';
COMMENT ON COLUMN ewc.revision.new_value IS 'the value after (NULL when removed)';
COMMENT ON COLUMN ewc.revision.difference IS 'new_value minus old_value';
COMMENT ON COLUMN ewc.revision.change_pct IS 'relative change, in percent';
COMMENT ON COLUMN ewc.revision.old_qualifier IS 'the qualifier before';
COMMENT ON COLUMN ewc.revision.new_qualifier IS 'the qualifier after';
COMMENT ON COLUMN ewc.revision.revised_at IS 'when the new version was loaded';
COMMENT ON COLUMN ewc.revision.url IS 'the source (both versions are of it)';
COMMENT ON COLUMN ewc.revision.old_file_id IS
    'the file that had stated the old value last (ledger.file)';
COMMENT ON COLUMN ewc.revision.old_sha256 IS 'its content hash';
COMMENT ON COLUMN ewc.revision.old_loaded_at IS 'when it was loaded';
COMMENT ON COLUMN ewc.revision.old_line IS 'the old value''s line in it';
COMMENT ON COLUMN ewc.revision.new_file_id IS 'the new version (ledger.file)';
COMMENT ON COLUMN ewc.revision.new_sha256 IS 'its content hash';
COMMENT ON COLUMN ewc.revision.new_line IS 'the new value''s line in it';
COMMENT ON COLUMN ewc.revision.old_raw IS 'the old value as written in its file';
COMMENT ON COLUMN ewc.revision.new_raw IS 'the new value as written in its file';
COMMENT ON COLUMN ewc.revision.revision_id IS 'warehouse.revision.id: the order of the changes';

COMMENT ON COLUMN ewc.national_provenance.source IS
    'how the national figure is made: reported, sum_of_regions or sum_of_pairs';
COMMENT ON COLUMN ewc.national_provenance.national IS 'the national figure';
COMMENT ON COLUMN ewc.national_provenance.value IS
    'this row''s figure: the reported one, or one term of the sum';

COMMENT ON COLUMN ewc.conflict.chosen_value IS 'the figure the views show (ewc.figure)';
COMMENT ON COLUMN ewc.conflict.other_value IS 'another source''s different figure';
COMMENT ON COLUMN ewc.conflict.difference IS 'other_value minus chosen_value';
COMMENT ON COLUMN ewc.conflict.difference_pct IS 'other_value against chosen_value, in percent';
COMMENT ON COLUMN ewc.conflict.rule IS
    'why the chosen figure won: priority (its source''s is higher) or latest (loaded '
    'last, at equal priority)';
COMMENT ON COLUMN ewc.conflict.chosen_url IS 'the chosen figure''s source';
COMMENT ON COLUMN ewc.conflict.chosen_file_id IS 'its file (ledger.file)';
COMMENT ON COLUMN ewc.conflict.chosen_line IS 'its line';
COMMENT ON COLUMN ewc.conflict.chosen_loaded_at IS 'when its file was loaded';
COMMENT ON COLUMN ewc.conflict.other_url IS 'the other figure''s source';
COMMENT ON COLUMN ewc.conflict.other_file_id IS 'its file (ledger.file)';
COMMENT ON COLUMN ewc.conflict.other_line IS 'its line';
COMMENT ON COLUMN ewc.conflict.other_loaded_at IS 'when its file was loaded';

COMMENT ON COLUMN ewc.coverage.scope IS
    'nation, province or pair (region and partner say which)';
COMMENT ON COLUMN ewc.coverage.status IS
    'reported (a figure of its own), summed (nation only: from provinces or pairs) or '
    'missing';
COMMENT ON COLUMN ewc.coverage.value IS 'the figure, when there is one';
COMMENT ON COLUMN ewc.coverage.source IS
    'reported, sum_of_regions or sum_of_pairs (as ewc.national_period.source)';
COMMENT ON COLUMN ewc.coverage.regions IS
    'for a summed national figure: how many provinces or pairs it adds';

COMMENT ON COLUMN ewc.quality.run_id IS 'the run (ledger.run)';
COMMENT ON COLUMN ewc.quality.url IS 'the file''s URL';
COMMENT ON COLUMN ewc.quality.file_status IS 'loaded, unchanged or failed (refused)';
COMMENT ON COLUMN ewc.quality.loaded_at IS 'when the file''s load ended';
COMMENT ON COLUMN ewc.quality.finding IS
    'reject, unmatched (a name the catalog does not know), reconcile (national figure '
    'off its provinces'' sum), magnitude (refused: a unit lost) or refused';
COMMENT ON COLUMN ewc.quality.detail IS
    'the reason (of rejects: quoted names as "…", numbers as N), the name, the '
    'difference or the refusal';
COMMENT ON COLUMN ewc.quality.rows IS 'rows concerned';
COMMENT ON COLUMN ewc.quality.example IS 'one reason as written, for a folded reason';
COMMENT ON COLUMN ewc.quality.first_line IS 'the first line concerned in the file';

-- The columns several views share, where not said above.
DO $$
DECLARE
    texts CONSTANT jsonb := jsonb_build_object(
        'indicator', 'indicator code (warehouse.indicator)',
        'region', 'region code, GB/T 2260 (warehouse.region; 000000 the nation)',
        'partner', 'for a pair figure, the other region of the pair; NULL otherwise',
        'period_kind', 'year, half, quarter, month, months or range',
        'period_start', 'first day of the period',
        'period_end', 'day after the period''s last day',
        'of_which', 'a sub-item ("#", 其中) of another figure: never added into totals',
        'value', 'the figure, in the indicator''s canonical unit; NULL for a blank',
        'unit', 'the canonical unit (warehouse.unit)',
        'qualifier', 'exact, lower_bound (超过, 以上), approximate (约), estimate, '
                     'provisional or missing',
        'raw_value', 'the value as written in the file',
        'note', 'the file''s note on the row',
        'url', 'the source URL (credentials removed)',
        'file_id', 'the file it was loaded from (ledger.file)',
        'line', 'its line in that file',
        'col', 'its column in a wide table, from 1; 0 when the row is the whole record',
        'loaded_at', 'when that file was loaded',
        'sha256', 'that file''s content hash',
        'source', 'the source URL',
        'regions', 'how many province rows or pairs a sum has',
        'conflicts', 'how many other sources give a different figure (ewc.conflict)');
    r record;
BEGIN
    FOR r IN
        SELECT c.oid, c.relname, a.attname
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE n.nspname = 'ewc' AND col_description(c.oid, a.attnum) IS NULL
    LOOP
        IF texts ? r.attname THEN
            EXECUTE format('COMMENT ON COLUMN ewc.%I.%I IS %L', r.relname, r.attname,
                           texts ->> r.attname);
        END IF;
    END LOOP;
END
$$;

GRANT SELECT ON ALL TABLES IN SCHEMA ewc TO ewc_analyst, ewc_loader;
REVOKE ALL ON FUNCTION ewc.observation_asof(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ewc.observation_asof(timestamptz) TO ewc_analyst, ewc_loader;
