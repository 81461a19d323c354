-- 007_pairs.sql
--   National figures from east-west pairs.  Some figures are published
--   only per pair (京蒙, 粤桂 ...): where a period of an additive indicator
--   has neither a reported national figure nor province rows,
--   ewc.national_period now sums its pair figures (source 'sum_of_pairs',
--   the number of pairs in 'regions').  ewc.reconciliation checks the pair
--   figures against the reported national figure too, beside the province
--   rows: a new last column 'basis' says which.  The columns of both views
--   keep their names, types and order.

-- The pair figures a national sum counts, each pair once:
--   - additive indicators, values present, no of-which rows (pair_period
--     leaves those out already), the latest file's figure;
--   - one side per pair: a pair's figures are about its east side by
--     convention (the east's funds, enterprises, cadres); a figure about the
--     west side (内蒙古's 468 schools paired with 北京) counts only for a
--     pair with no east-side figure of the same indicator and period;
--   - a city-level pair (苏州-铜仁) is part of its provinces' pair
--     (江苏-贵州): it is left out when a pair containing it has a figure of
--     the same indicator and period, so that nothing counts twice.
CREATE VIEW ewc.pair_counted AS
WITH one_side AS (
    SELECT DISTINCT ON (p.indicator, p.east_code, p.west_code, p.period_kind,
                        p.period_start, p.period_end)
           p.indicator, p.east_code, p.west_code, p.side, p.period_kind,
           p.period_start, p.period_end, p.value, p.unit, p.qualifier
    FROM ewc.pair_period p
    JOIN warehouse.indicator i ON i.code = p.indicator AND i.additive
    WHERE p.value IS NOT NULL
    ORDER BY p.indicator, p.east_code, p.west_code, p.period_kind, p.period_start,
             p.period_end, p.side = 'east' DESC
)
SELECT s.indicator, s.east_code, s.west_code, s.side, s.period_kind, s.period_start,
       s.period_end, s.value, s.unit, s.qualifier
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

COMMENT ON VIEW ewc.pair_counted IS
    'The pair figures of additive indicators a national sum counts: one per pair and '
    'period (the east side''s, else the west side''s), none of a city pair whose '
    'provinces'' pair has a figure of its own.';
COMMENT ON COLUMN ewc.pair_counted.side IS
    'The side the figure is about: east or west (as in ewc.pair_period).';

-- As in 003, plus the pairs: a period with neither a reported national
-- figure nor province rows of an additive indicator sums its pair figures.
CREATE OR REPLACE VIEW ewc.national_period AS
WITH reported AS (
    SELECT DISTINCT ON (o.indicator, o.period_kind, o.period_start, o.period_end)
           o.indicator, o.period_kind, o.period_start, o.period_end, o.value, o.unit,
           o.qualifier, 'reported'::text AS source, NULL::bigint AS regions
    FROM warehouse.observation o
    WHERE o.region = '000000' AND o.partner IS NULL AND NOT o.of_which
    ORDER BY o.indicator, o.period_kind, o.period_start, o.period_end, o.file_id DESC, o.line
),
regional AS (
    -- one figure per region and period, even when several files carry it
    SELECT DISTINCT ON (o.indicator, o.region, o.period_kind, o.period_start, o.period_end)
           o.indicator, o.region, o.period_kind, o.period_start, o.period_end, o.value,
           o.unit, o.qualifier
    FROM warehouse.observation o
    JOIN warehouse.region r ON r.code = o.region AND r.level = 'province'
    JOIN warehouse.indicator i ON i.code = o.indicator AND i.additive
    WHERE o.partner IS NULL AND NOT o.of_which AND o.value IS NOT NULL
    ORDER BY o.indicator, o.region, o.period_kind, o.period_start, o.period_end,
             o.file_id DESC, o.line
),
summed AS (
    SELECT g.indicator, g.period_kind, g.period_start, g.period_end, sum(g.value) AS value,
           min(g.unit) AS unit,
           CASE WHEN bool_and(g.qualifier = 'exact') THEN 'exact'
                WHEN bool_and(g.qualifier IN ('exact', 'lower_bound')) THEN 'lower_bound'
                ELSE 'approximate' END AS qualifier,
           'sum_of_regions'::text AS source, count(*) AS regions
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
           'sum_of_pairs'::text AS source, count(*) AS regions
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
       n.regions
FROM national n
LEFT JOIN national prev
       ON prev.indicator = n.indicator AND prev.period_kind = n.period_kind
      AND prev.period_start = (n.period_start - interval '1 year')::date
      AND prev.period_end = (n.period_end - interval '1 year')::date
      AND n.period_kind <> 'range';

COMMENT ON VIEW ewc.national_period IS
    'The national figure of each indicator and period: the reported one, else the sum '
    'of the province rows of an additive indicator, else the sum of its pair figures '
    '(ewc.pair_counted); with the change on the same period a year earlier.';
COMMENT ON COLUMN ewc.national_period.source IS
    'reported, sum_of_regions (province rows) or sum_of_pairs (pair figures).';
COMMENT ON COLUMN ewc.national_period.regions IS
    'How many province rows (sum_of_regions) or pairs (sum_of_pairs) a sum has; '
    'NULL for a reported figure.  A sum over a few of them is theirs, not the nation''s.';

-- As in 006, plus the pairs: the reported national figure against the sum
-- of the pair figures ewc.pair_counted counts, on rows of basis 'pairs'
-- (sum_of_regions then holds that sum, regions the number of pairs).
CREATE OR REPLACE VIEW ewc.reconciliation AS
WITH reported AS (
    SELECT DISTINCT ON (o.indicator, o.period_kind, o.period_start, o.period_end)
           o.indicator, o.period_kind, o.period_start, o.period_end, o.value
    FROM warehouse.observation o
    WHERE o.region = '000000' AND o.partner IS NULL AND NOT o.of_which
    ORDER BY o.indicator, o.period_kind, o.period_start, o.period_end, o.file_id DESC
),
regional AS (
    SELECT o.indicator, o.period_kind, o.period_start, o.period_end,
           sum(o.value) AS value, count(*) AS regions
    FROM (SELECT DISTINCT ON (o.indicator, o.region, o.period_kind, o.period_start,
                              o.period_end) o.*
          FROM warehouse.observation o
          JOIN warehouse.region r ON r.code = o.region AND r.level = 'province'
          JOIN warehouse.indicator i ON i.code = o.indicator AND i.additive
          WHERE o.partner IS NULL AND NOT o.of_which AND o.value IS NOT NULL
          ORDER BY o.indicator, o.region, o.period_kind, o.period_start, o.period_end,
                   o.file_id DESC, o.line) o
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

COMMENT ON VIEW ewc.reconciliation IS
    'Reported national figures against the sum of the province rows (basis regions) '
    'and against the sum of the pair figures (basis pairs) of the same additive '
    'indicator and period; within: they agree within 0.5% or one unit.';
COMMENT ON COLUMN ewc.reconciliation.sum_of_regions IS
    'The sum compared: of the province rows (basis regions) or of the pair figures '
    '(basis pairs).';
COMMENT ON COLUMN ewc.reconciliation.regions IS
    'How many province rows (basis regions) or pairs (basis pairs) the sum has.';
COMMENT ON COLUMN ewc.reconciliation.basis IS
    'regions: the province rows; pairs: the east-west pair figures (ewc.pair_counted).';

GRANT SELECT ON ewc.pair_counted, ewc.national_period, ewc.reconciliation TO ewc_analyst;
GRANT SELECT ON ewc.pair_counted, ewc.national_period, ewc.reconciliation TO ewc_loader;
