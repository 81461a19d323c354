#!/bin/bash
# 43-conflicts: two sources give different figures for the same indicator,
# region and period (a press release 2193, a table 2200).  The national
# view shows the figure of the documented rule -- the higher pipeline
# priority, else the source loaded last; a figure before a blank -- says
# that sources disagree, and ewc.conflict lists the disagreement with both
# files.  A priority changed in the YAML holds at the next run without a
# reload.
. "$(dirname "$0")/../lib/env.sh"

HEAD='地区,结对地区,指标,时期,数值,单位,备注'
cat >"$T/www/press.csv" <<CSV
$HEAD
全国,,引导企业投资,2021,2193,家,
全国,,共建产业园区,2021,482,个,
CSV
cat >"$T/www/table.csv" <<CSV
$HEAD
全国,,共建产业园区,2021,482,个,
全国,,引导企业投资,2021,2200,家,
CSV
cat >"$T/www/late.csv" <<CSV
$HEAD
全国,,引导企业投资,2021,—,家,
CSV

# pipelines press, tables and late; $1 and $2: the priorities of press and tables
conflict_pipelines() {
    cat >"$T/pipeline.yaml" <<EOF
catalog: $REPO/config/catalog
spool: \${EWC_SPOOL}
pipelines:
  press:
    priority: $1
    stages:
      - { name: fetch, kind: http_fetch, urls: ["$EWC_SOURCE_URL/press.csv"] }
      - { name: parse, kind: parse_csv, needs: [fetch] }
      - { name: normalize, kind: normalize, needs: [parse] }
      - { name: validate, kind: validate, needs: [normalize] }
      - { name: load, kind: pg_load, needs: [validate] }
  tables:
    priority: $2
    stages:
      - { name: fetch, kind: http_fetch, urls: ["$EWC_SOURCE_URL/table.csv"] }
      - { name: parse, kind: parse_csv, needs: [fetch] }
      - { name: normalize, kind: normalize, needs: [parse] }
      - { name: validate, kind: validate, needs: [normalize] }
      - { name: load, kind: pg_load, needs: [validate] }
  late:
    stages:
      - { name: fetch, kind: http_fetch, urls: ["$EWC_SOURCE_URL/late.csv"] }
      - { name: parse, kind: parse_csv, needs: [fetch] }
      - { name: normalize, kind: normalize, needs: [parse] }
      - { name: validate, kind: validate, needs: [normalize],
          required: [region, indicator, period] }
      - { name: load, kind: pg_load, needs: [validate] }
EOF
}

national() {
    q "select trim_scale(value), source, url, conflicts from ewc.national_period
        where indicator = '$1' and period_start = '2021-01-01'"
}

setup_all
conflict_pipelines 0 0
press=$EWC_SOURCE_URL/press.csv
table=$EWC_SOURCE_URL/table.csv

etl run --pipeline press
is_rc 0 "the press release loads"
is "$(national enterprises_guided)" "2193|reported|$press|0" \
   "one source: its figure, no conflict"

etl run --pipeline tables
is_rc 0 "the table loads"
is "$(national enterprises_guided)" "2200|reported|$table|1" \
   "equal priority: the source loaded last wins, and the view says one source disagrees"
is "$(national industrial_parks_cobuilt)" "482|reported|$table|0" \
   "a figure both sources agree on is no conflict"
is "$(q "select sources, conflicts from ewc.figure
          where indicator = 'industrial_parks_cobuilt' and region = '000000'")" "2|0" \
   "ewc.figure: two sources give it, none disagrees"
f_press=$(q "select file_id from ledger.source where url = '$press'")
f_table=$(q "select file_id from ledger.source where url = '$table'")
is "$(q "select indicator, region, trim_scale(chosen_value), trim_scale(other_value),
                trim_scale(difference), difference_pct, rule, chosen_url, chosen_file_id,
                chosen_line, other_url, other_file_id, other_line,
                chosen_loaded_at > other_loaded_at
           from ewc.conflict")" \
   "enterprises_guided|000000|2200|2193|-7|-0.32|latest|$table|$f_table|3|$press|$f_press|2|t" \
   "ewc.conflict: the one disagreement, with both files and lines, rule 'latest'"

# a source loaded later with a blank does not hide the figure
etl run --pipeline late
is "$(q "select qualifier, value is null from warehouse.observation o
           join ledger.source s on s.id = o.source_id where s.url like '%/late.csv'")" \
   "missing|t" "(late.csv is loaded as a blank)"
is "$(national enterprises_guided)" "2200|reported|$table|1" \
   "a blank loaded last does not hide the figure, nor count as a conflict"

# the press release gets the higher priority: no reload, the next run holds it
conflict_pipelines 10 0
etl run --pipeline press
is_rc 0 "a run of press with priority 10"
is "$(q "select status from ledger.file where id = (select max(id) from ledger.file)")" \
   "unchanged" "press.csv is not loaded again"
is "$(national enterprises_guided)" "2193|reported|$press|1" \
   "the higher priority wins over the source loaded last"
is "$(q "select trim_scale(chosen_value), trim_scale(other_value), rule, chosen_url
           from ewc.conflict")" "2193|2200|priority|$press" \
   "ewc.conflict says the priority decided"
is "$(q "select pipeline, priority from ledger.source order by pipeline")" \
   "late|0
press|10
tables|0" "ledger.source keeps each source's priority"

# the pair and reconciliation views follow the same rule
cat >"$T/www/table.csv" <<CSV
$HEAD
全国,,共建产业园区,2021,482,个,
全国,,引导企业投资,2021,2200,家,
广东,,引导企业投资,2021,2300,家,
CSV
touch -d '2024-05-01 00:00:00 UTC' "$T/www/table.csv"
etl run --pipeline tables
is "$(q "select trim_scale(national), trim_scale(sum_of_regions) from ewc.reconciliation
          where indicator = 'enterprises_guided' and basis = 'regions'")" "2193|2300" \
   "ewc.reconciliation compares the chosen national figure (priority) with the provinces"

# "loaded last" is the source's current version: press re-published with
# its figure unchanged (a row added) keeps the row of the version that
# brought 2193, and still is the source loaded last
conflict_pipelines 0 0
cat >>"$T/www/press.csv" <<CSV
全国,,互派干部,2021,2448,人,
CSV
touch -d '2024-06-01 00:00:00 UTC' "$T/www/press.csv"
etl run --pipeline press
is "$(q "select o.file_id = $f_press, s.file_id > $f_press
           from warehouse.observation o join ledger.source s on s.id = o.source_id
          where s.url = '$press' and o.indicator = 'enterprises_guided'")" "t|t" \
   "the unchanged figure keeps the file that brought it; the source has a newer version"
is "$(national enterprises_guided)" "2193|reported|$press|1" \
   "equal priority: the source whose current version is the latest wins"

# a bad priority is a config error at its line and column
conflict_pipelines high 0
etl check
is_rc 2 "check refuses priority: high"
like "$ETL_ERR" "pipeline.yaml:5:[0-9]+: .*priority" "the error names the file, line and column"
conflict_pipelines 5000 0
etl check
is_rc 2 "check refuses priority: 5000"
like "$ETL_ERR" "pipeline.yaml:5:[0-9]+: .*1000.*priority" "and says the range"

done_testing
