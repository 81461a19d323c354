#!/bin/bash
# 11-migrate: migrate creates the schemas and records each numbered SQL
# file once; a second migrate applies nothing.  No database: exit 1.
. "$(dirname "$0")/../lib/env.sh"

cp "$REPO/tests/data/http/national-2021.csv" "$T/www/a.csv"
pg_start || bail_out "could not start PostgreSQL"
write_pipeline "http://127.0.0.1:1/a.csv"

nsql=$(ls "$REPO"/sql/[0-9]*.sql | wc -l)
versions=$(ls "$REPO"/sql/[0-9]*.sql | sed 's|.*/||; s|_.*||' | sort | paste -sd,)

etl migrate
is_rc 0 "first migrate: exit 0"
is "$(q "select count(*) from ledger.migration")" "$nsql" \
   "ledger.migration: one row per sql/NNN_*.sql file ($nsql)"
is "$(q "select string_agg(lpad(version::text, 3, '0'), ',' order by version)
           from ledger.migration")" "$versions" "the versions of the files"
for t in ledger.run ledger.source ledger.file ledger.reject ledger.migration \
         warehouse.observation warehouse.region warehouse.indicator \
         warehouse.unit warehouse.pairing; do
    is "$(q "select to_regclass('$t') is not null")" "t" "table $t exists"
done
is "$(q "select code from warehouse.region where name_zh like '广西%'")" "450000" \
   "warehouse.region filled from the catalog (广西 450000)"
is "$(q "select unit || ',' || additive from warehouse.indicator
          where code = 'poverty_labour_employed'")" "person,true" \
   "warehouse.indicator filled from the catalog"
is "$(q "select count(*) from warehouse.pairing
          where east = '440000' and west = '450000'
            and valid_from <= '2021-01-01'
            and (valid_to is null or valid_to > '2021-01-01')")" "1" \
   "warehouse.pairing: 广东-广西 valid in 2021"
is "$(q "select count(*) from warehouse.pairing
          where east = '440000' and west = '510000'")" "0" \
   "warehouse.pairing: no 广东-四川"
applied=$(q "select string_agg(applied_at::text, ',' order by version) from ledger.migration")
nobj=$(q "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname in ('ledger', 'warehouse')")

etl migrate
is_rc 0 "second migrate: exit 0"
is "$(q "select count(*) from ledger.migration")" "$nsql" "second migrate applies nothing"
is "$(q "select string_agg(applied_at::text, ',' order by version) from ledger.migration")" \
   "$applied" "applied_at unchanged"
is "$(q "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname in ('ledger', 'warehouse')")" "$nobj" "no object added"
is "$(q "select count(*) from warehouse.region where name_zh like '广西%'")" "1" \
   "catalog rows not duplicated"

# the catalog's sync fails half-way: rolled back, exit 1, the error says so
q "alter table warehouse.pairing rename to pairing_gone" >/dev/null
etl migrate
is_rc 1 "migrate with a dimension table missing: exit 1"
like "$ETL_ERR" "catalog" "the error names the catalog"
like "$ETL_ERR" "pairing" "the error names the table"
like "$ETL_OUT" "migrations: 0 applied" "the migrations themselves were done"
is "$(q "select count(*) from warehouse.region where name_zh like '广西%'")" "1" \
   "the dimension tables were rolled back, not emptied"
q "alter table warehouse.pairing_gone rename to pairing" >/dev/null
etl migrate
is_rc 0 "with the table back: exit 0"
like "$ETL_OUT" "catalog: [0-9]+ regions, [0-9]+ indicators, [0-9]+ units, [0-9]+ pairings" \
   "migrate says what the catalog put in the dimensions"

# run before migrate in an empty database: a clear error, not a crash
q "create database empty" >/dev/null
PGDATABASE=empty etl run
is_rc 1 "run against an unmigrated database: exit 1"
like "$ETL_ERR" "migrate" "the error says to run migrate"

# database unreachable: exit 1
PGPORT=1 etl migrate
is_rc 1 "no server on the port: exit 1"
like "$ETL_ERR" "[Cc]onnect|server" "the error says the connection failed"
etl_raw -c "$T/pipeline.yaml" -d "host=$PGHOST port=1 dbname=x" status
is_rc 1 "-d CONNINFO is used (nothing there): exit 1"
EWC_DB="host=$PGHOST port=1 dbname=x" etl status
is_rc 1 "EWC_DB is used (nothing there): exit 1"

done_testing
