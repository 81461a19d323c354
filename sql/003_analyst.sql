-- 003_analyst.sql
--   The analysts' interface: schema ewc, stable view names, and the roles.
--   Views run with their owner's rights, so ewc_analyst reads them without
--   any right on the ledger's tables.

-- A row marked "#" (of which) in its file is a sub-item: loaded, never
-- added into totals.
ALTER TABLE warehouse.observation ADD COLUMN of_which boolean NOT NULL DEFAULT false;
ALTER TABLE warehouse.indicator ADD COLUMN of_which text;

CREATE SCHEMA IF NOT EXISTS ewc;

-- Every observation with names in Chinese and English and its source.
CREATE VIEW ewc.observation_named AS
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
       o.line
FROM warehouse.observation o
JOIN warehouse.indicator i ON i.code = o.indicator
LEFT JOIN warehouse.region r ON r.code = o.region
LEFT JOIN warehouse.region p ON p.code = o.partner
LEFT JOIN ledger.source s ON s.id = o.source_id;

-- The national figure of each indicator and period: the reported national
-- value where one was loaded (the same figure published in several files is
-- one figure: the latest file's), else the sum of the province-level rows
-- of an additive indicator; and the change on the same period a year
-- earlier, in percent.  'regions' is how many province rows a sum has:
-- a sum over a few provinces is theirs, not the nation's.
CREATE VIEW ewc.national_period AS
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
national AS (
    SELECT * FROM reported
    UNION ALL
    SELECT * FROM summed
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

-- Figures of east-west pairs.  'side' says which region the figure is
-- about: a figure of 内蒙古 paired with 北京 is side 'west'.  The east of a
-- pair is the side that is east in warehouse.pairing, else by zone.
CREATE VIEW ewc.pair_period AS
SELECT DISTINCT ON (o.indicator, east_code, west_code, side, o.period_kind, o.period_start,
                    o.period_end)
       o.indicator,
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
       o.qualifier
FROM warehouse.observation o
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
WHERE o.partner IS NOT NULL AND NOT o.of_which
ORDER BY o.indicator, east_code, west_code, side, o.period_kind, o.period_start,
         o.period_end, o.file_id DESC, o.line;

-- National reported figures against the sum of the province-level rows of
-- the same additive indicator and period (both present).  'within' is true
-- when they agree within 0.5% or one unit of the last reported digit.
CREATE VIEW ewc.reconciliation AS
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
          ORDER BY o.indicator, o.region, o.period_kind, o.period_start, o.period_end,
                   o.file_id DESC) o
    JOIN warehouse.region r ON r.code = o.region AND r.level = 'province'
    JOIN warehouse.indicator i ON i.code = o.indicator AND i.additive
    WHERE o.partner IS NULL AND NOT o.of_which AND o.value IS NOT NULL
    GROUP BY 1, 2, 3, 4
)
SELECT r.indicator, r.period_kind, r.period_start, r.period_end,
       r.value AS national, g.value AS sum_of_regions, g.regions,
       g.value - r.value AS difference,
       abs(g.value - r.value) <= greatest(abs(r.value) * 0.005, 1) AS within
FROM reported r
JOIN regional g USING (indicator, period_kind, period_start, period_end);

-- Roles: analysts read the views and the dimensions; the loader writes the
-- ledger and the warehouse but is no superuser and owns nothing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ewc_analyst') THEN
        CREATE ROLE ewc_analyst NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ewc_loader') THEN
        CREATE ROLE ewc_loader NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA ewc TO ewc_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA ewc TO ewc_analyst;
GRANT USAGE ON SCHEMA warehouse TO ewc_analyst;
GRANT SELECT ON warehouse.region, warehouse.indicator, warehouse.unit, warehouse.pairing,
    warehouse.observation TO ewc_analyst;

GRANT USAGE ON SCHEMA ledger, warehouse, ewc TO ewc_loader;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ledger TO ewc_loader;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA warehouse TO ewc_loader;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA ledger TO ewc_loader;
GRANT SELECT ON ALL TABLES IN SCHEMA ewc TO ewc_loader;
