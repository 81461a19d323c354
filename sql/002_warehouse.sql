-- 002_warehouse.sql
--   The warehouse: dimensions (filled from config/catalog by `ewc-etl
--   migrate`) and the observation fact table, partitioned by the year of the
--   period's start so that a backfill year is one unit of work.

CREATE SCHEMA IF NOT EXISTS warehouse;

CREATE TABLE warehouse.region (
    code        char(6) PRIMARY KEY,
    name_zh     text NOT NULL,
    short_zh    text,
    name_en     text,
    abbrev      text,
    level       text NOT NULL CHECK (level IN ('nation', 'province', 'prefecture')),
    parent      char(6),
    zone        text,
    valid_from  date,
    valid_to    date,
    successor   char(6)
);

CREATE TABLE warehouse.unit (
    code        text PRIMARY KEY,
    name_zh     text,
    name_en     text,
    kind        text
);

CREATE TABLE warehouse.indicator (
    code        text PRIMARY KEY,
    name_zh     text NOT NULL,
    name_en     text,
    unit        text NOT NULL,
    additive    boolean NOT NULL
);

CREATE TABLE warehouse.pairing (
    east        char(6) NOT NULL,
    west        char(6) NOT NULL,
    level       text NOT NULL,
    valid_from  date NOT NULL,
    valid_to    date,
    stage       text,
    PRIMARY KEY (east, west, valid_from)
);

-- One observation: a figure of an indicator, for a region (and for a pair
-- figure, the partner region), over [period_start, period_end), in the
-- indicator's canonical unit.  The key includes the source: the same figure
-- from two publications is kept twice and told apart by the views.
CREATE TABLE warehouse.observation (
    indicator     text NOT NULL,
    region        char(6) NOT NULL,
    partner       char(6),
    period_kind   text NOT NULL,
    period_start  date NOT NULL,
    period_end    date NOT NULL CHECK (period_end > period_start),
    value         numeric,
    unit          text NOT NULL,
    qualifier     text NOT NULL,
    raw_value     text,
    note          text,
    source_id     bigint NOT NULL,
    file_id       bigint NOT NULL,
    run_id        bigint NOT NULL,
    line          bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (source_id, indicator, region, partner, period_start, period_end)
) PARTITION BY RANGE (period_start);

CREATE INDEX observation_source ON warehouse.observation (source_id);
CREATE INDEX observation_indicator ON warehouse.observation (indicator, period_start);

-- One partition per year 1990..2039, and a default one for the rest.
DO $$
BEGIN
    FOR y IN 1990..2039 LOOP
        EXECUTE format('CREATE TABLE warehouse.observation_%s PARTITION OF warehouse.observation '
                       'FOR VALUES FROM (%L) TO (%L)',
                       y, make_date(y, 1, 1), make_date(y + 1, 1, 1));
    END LOOP;
END
$$;
CREATE TABLE warehouse.observation_other PARTITION OF warehouse.observation DEFAULT;
