-- 006_fixes.sql
--   1. An of-which row ("# ...") is another observation than the total it
--      details, even under the same indicator code: it joins the key.
--   2. ewc.reconciliation picked one row per region and period before
--      leaving out pair and of-which rows, so a later pair figure of a
--      province could hide the province's own row from the sum.  Filter
--      first, then pick.

ALTER TABLE warehouse.observation
    DROP CONSTRAINT observation_source_id_indicator_region_partner_period_start_key;
ALTER TABLE warehouse.observation
    ADD CONSTRAINT observation_key UNIQUE NULLS NOT DISTINCT
        (source_id, indicator, region, partner, period_start, period_end, of_which);

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
)
SELECT r.indicator, r.period_kind, r.period_start, r.period_end,
       r.value AS national, g.value AS sum_of_regions, g.regions,
       g.value - r.value AS difference,
       abs(g.value - r.value) <= greatest(abs(r.value) * 0.005, 1) AS within
FROM reported r
JOIN regional g USING (indicator, period_kind, period_start, period_end);
