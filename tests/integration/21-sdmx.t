#!/bin/bash
# 21-sdmx: SDMX-CSV through the whole pipeline.  A 2.0 file of national
# 2022 H1 figures (tests/data/sdmx/national-2022h1.sdmx20.csv): UNIT_MULT 8
# applied exactly (220 亿 CNY -> 22000000000), OBS_STATUS E and P kept as
# qualifiers, an ACTION D row counted as deleted (not loaded, not
# rejected), a bad OBS_STATUS rejected; the ledger adds up.  The same data
# republished with labels (labels=both, ';', STRUCTURE[|]) loads the same
# rows; a 1.0 file (DATAFLOW first) loads too.
. "$(dirname "$0")/../lib/env.sh"

DATA=$REPO/tests/data/sdmx
cp "$DATA/national-2022h1.sdmx20.csv" "$T/www/h1.csv"
cp "$DATA/national-2021.sdmx10.csv" "$T/www/y2021.csv"
touch -d '2024-01-01 00:00:00 UTC' "$T/www/h1.csv" "$T/www/y2021.csv"

setup_all
h1=$EWC_SOURCE_URL/h1.csv
y2021=$EWC_SOURCE_URL/y2021.csv
write_pipeline --ratio 0.5 "$h1"

etl check
is_rc 0 "check accepts the pipeline (parse_csv, format auto)"

etl run
is_rc 3 "run exits 3: loaded, with a rejected row"

H1_ROWS='cadres_exchanged|000000|-|half|2022-01-01|2022-07-01|2448|person|-
enterprises_guided|000000|-|half|2022-01-01|2022-07-01|1127|enterprise|-
fiscal_aid_funds|000000|-|half|2022-01-01|2022-07-01|22000000000|CNY|实际投入财政援助资金
fiscal_aid_funds|440000|450000|half|2022-01-01|2022-07-01|1250000000|CNY|-
investment_in_place|000000|-|half|2022-01-01|2022-07-01|34230000000|CNY|据新华社, 2022
technicians_exchanged|000000|-|half|2022-01-01|2022-07-01|8520|person|-'

is "$(obs_of "$h1")" "$H1_ROWS" \
   "6 observations: codes, 2022-S1 as a half year, UNIT_MULT applied exactly"

H1_QUAL='2|fiscal_aid_funds|exact
3|cadres_exchanged|exact
4|technicians_exchanged|estimate
5|enterprises_guided|provisional
6|investment_in_place|exact
7|fiscal_aid_funds|exact'
is "$(q "select line, indicator, qualifier from warehouse.observation
          order by line")" "$H1_QUAL" \
   "OBS_STATUS A -> exact, E -> estimate, P -> provisional; by file line"

is "$(q "select count(*) from warehouse.observation
          where indicator = 'enterprises_guided' and period_start = '2021-01-01'")" \
   "0" "the ACTION D row (line 8) is not loaded"

is "$(q "select line, raw, reason from ledger.reject order by line")" \
   '9|dataflow,EWC:DF_EAST_WEST(1.0.0),I,A,000000,,industrial_parks_cobuilt,2021,482,park,0,X,0,|unknown OBS_STATUS "X"' \
   "one reject: line 9, its raw text, unknown OBS_STATUS \"X\""

is "$(q "select status, rows_in, rows_loaded, rows_rejected, rows_deleted
           from ledger.file where url = '$h1'")" "loaded|8|6|1|1" \
   "ledger.file: 8 in = 6 loaded + 1 rejected + 1 deleted"

is "$(q "select status, files_loaded, rows_loaded, rows_rejected from ledger.run")" \
   "ok_with_rejects|1|6|1" "ledger.run: ok_with_rejects, 6 loaded, 1 rejected"

# The same figures republished in SDMX-CSV 2.0 with labels=both ("ID: name"
# headers and codes), ';' as the delimiter and STRUCTURE[|]: same rows.
cp "$DATA/national-2022h1-labels.sdmx20.csv" "$T/www/h1.csv"
touch -d '2024-02-01 00:00:00 UTC' "$T/www/h1.csv"
etl run
is_rc 3 "the labelled republication: exit 3"
is "$(obs_of "$h1")" "$H1_ROWS" "the labelled file loads the same 6 observations"
is "$(q "select status, rows_in, rows_loaded, rows_rejected, rows_deleted
           from ledger.file
          where url = '$h1' and run_id = (select max(id) from ledger.run)")" \
   "loaded|8|6|1|1" "ledger.file of the republication: 8 = 6 + 1 + 1"
is "$(q "select r.line, r.reason from ledger.reject r
           join ledger.file f on f.id = r.file_id
          where f.run_id = (select max(id) from ledger.run)")" \
   '9|unknown OBS_STATUS "X"' "its reject: line 9, the code without its label"
is "$(q "select string_agg(qualifier, ',' order by line)
           from warehouse.observation")" \
   "exact,exact,estimate,provisional,exact,exact" "the same qualifiers"

# SDMX-CSV 1.0 (DATAFLOW first), COMMENT as the note, an SDMX duration.
write_pipeline --ratio 0.5 "$y2021"
etl run
is_rc 0 "the 1.0 file: exit 0"
is "$(obs_of "$y2021")" \
'agri_products_sold|000000|-|year|2021-01-01|2022-01-01|81300000000|CNY|含消费帮扶
demo_villages_started|000000|-|year|2021-01-01|2022-01-01|917|village|-
enterprises_guided|000000|-|year|2021-01-01|2022-01-01|2193|enterprise|-
free_aid_funds|000000|-|range|1996-01-01|2012-01-01|7860000000|CNY|1996—2011
industrial_parks_cobuilt|000000|-|year|2021-01-01|2022-01-01|482|park|-
poverty_labour_employed|000000|-|year|2021-01-01|2022-01-01|9263000|person|-' \
   "the 1.0 file's 6 observations"
is "$(q "select status, rows_in, rows_loaded, rows_rejected, rows_deleted
           from ledger.file where url = '$y2021'")" "loaded|6|6|0|0" \
   "ledger.file: 6 in, 6 loaded"

done_testing
