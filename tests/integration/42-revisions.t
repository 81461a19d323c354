#!/bin/bash
# 42-revisions: a file re-published twice with changes leaves exactly the
# expected ewc.revision rows (added, changed, removed, with both files);
# ewc.observation_asof answers for the times before, between and after the
# versions; ledger.file and the run summary count the changes; a refused
# version and an unchanged one record nothing.
. "$(dirname "$0")/../lib/env.sh"

HEAD='地区,结对地区,指标,时期,数值,单位,备注'
cat >"$T/www/a.csv" <<CSV
$HEAD
全国,,引导企业投资,2021,2193,家,
全国,,共建产业园区,2021,482,个,
全国,,互派干部,2022年上半年,2448,人,
广东,广西,吸纳脱贫劳动力就业,2021,"12,345",人,
CSV
cat >"$T/www/b.csv" <<CSV
$HEAD
全国,,引导企业投资,2020,2000,家,
CSV
touch -d '2024-01-01 00:00:00 UTC' "$T/www/a.csv" "$T/www/b.csv"

setup_all
a=$EWC_SOURCE_URL/a.csv
b=$EWC_SOURCE_URL/b.csv
write_pipeline "$a" "$b"

# the current version of a.csv: key|value|qualifier lines, sorted
a_rows() {
    q "select indicator || '|' || coalesce(partner, '-') || '|' || trim_scale(value) || '|'
              || qualifier
         from ${1:-warehouse.observation} o
        where ${2:-source_id = (select id from ledger.source where url = '$a')}" |
        LC_ALL=C sort
}
loaded_at() {    # the load time of a.csv's file of run $1
    q "select f.finished_at from ledger.file f join ledger.run r on r.id = f.run_id
        where f.url = '$a' and f.run_id = $1"
}
asof() {         # a.csv's rows as of time $1
    a_rows "ewc.observation_asof('$1')" "source = '$a'"
}

# --- version 1: a first version is no revision ----------------------------
etl run
is_rc 0 "v1: the run exits 0"
like "$ETL_OUT" "revised: 0 added, 0 changed, 0 removed" "v1: the summary counts no revision"
is "$(q "select count(*) from warehouse.revision")" "0" "v1: a first version records no revision"
is "$(q "select coalesce(rows_added::text, 'null') || coalesce(rows_changed::text, 'null')
           from ledger.file where url = '$a'")" "nullnull" \
   "v1: ledger.file's change counts are NULL for a first version"
v1_rows=$(a_rows)
t1=$(loaded_at 1)
f1=$(q "select id from ledger.file where url = '$a' and run_id = 1")

# --- version 2: one value changed, one row removed, one added ------------
cat >"$T/www/a.csv" <<CSV
$HEAD
全国,,引导企业投资,2021,2200,家,
全国,,共建产业园区,2021,482,个,
全国,,专业技术人员,2022年上半年,8520,人,
广东,广西,吸纳脱贫劳动力就业,2021,"12,345",人,
CSV
touch -d '2024-02-01 00:00:00 UTC' "$T/www/a.csv"
etl -v run
is_rc 0 "v2: the run exits 0"
like "$ETL_OUT" "revised: 1 added, 1 changed, 1 removed" "v2: the run summary counts the changes"
like "$ETL_ERR" "a.csv: 4 rows, 4 loaded, 0 rejected; against the previous version 1 added, 1 changed \\(largest \\+0.32%\\), 1 removed" \
   "v2: the file's log line says what it changed"
is "$(q "select rows_added, rows_changed, rows_removed, max_change_pct
           from ledger.file where url = '$a' and run_id = 2")" "1|1|1|0.32" \
   "v2: ledger.file counts 1 added, 1 changed, 1 removed, largest +0.32%"
is "$(q "select rows_added, rows_changed, rows_removed from ledger.run where id = 2")" \
   "1|1|1" "v2: so does ledger.run"
etl status --limit 2
like "$ETL_OUT" "loaded +4 +4 +0 +\\+1 ~1 -1 +[0-9a-f]{8} +$a" \
   "v2: status shows what the file revised"
like "$ETL_OUT" "loaded +4 +4 +0 +first +[0-9a-f]{8} +$a" "v1: status shows a first version"
v2_rows=$(a_rows)
t2=$(loaded_at 2)
f2=$(q "select id from ledger.file where url = '$a' and run_id = 2")

# --- an unchanged file and a refused version change nothing --------------
etl run
is "$(q "select status from ledger.file where url = '$a' and run_id = 3")" "unchanged" \
   "an unchanged a.csv is not loaded again"
cp "$T/www/a.csv" "$T/a-v2.csv"
cat >"$T/www/a.csv" <<CSV
$HEAD
全国,,引导企业投资,2021,二千二百,家,
全国,,共建产业园区,2021,abc,个,
全国,,专业技术人员,2022年上半年,x,人,
CSV
touch -d '2024-02-15 00:00:00 UTC' "$T/www/a.csv"
etl run
is "$(q "select status from ledger.file where url = '$a' and run_id = 4")" "failed" \
   "a version whose rows are nearly all rejected is refused"
is "$(q "select count(*) from warehouse.revision")" "3" \
   "the unchanged and the refused version recorded no revision"
is "$(q "select rows_added is null from ledger.file where url = '$a' and run_id = 4")" "t" \
   "the refused version counts no change"
is "$(a_rows)" "$v2_rows" "the warehouse still holds version 2"

# --- version 3: a value and qualifier changed, the removed row back, a ----
# --- pair figure changed, one row repeated (loaded through dedupe) --------
cat >"$T/www/a.csv" <<CSV
$HEAD
全国,,引导企业投资,2021,2200,家,
全国,,共建产业园区,2021,约480,个,
全国,,互派干部,2022年上半年,2448,人,
全国,,专业技术人员,2022年上半年,8520,人,
广东,广西,吸纳脱贫劳动力就业,2021,"12,000",人,
全国,,引导企业投资,2021,2200,家,
CSV
touch -d '2024-03-01 00:00:00 UTC' "$T/www/a.csv"
etl run
is_rc 3 "v3: the run exits 3 (loaded, with a reject)"
is "$(q "select status, rows_loaded, rows_rejected, rows_added, rows_changed, rows_removed,
                max_change_pct
           from ledger.file where url = '$a' and run_id = 5")" "loaded|5|1|1|2|0|-2.79" \
   "v3: 5 loaded, the repeat rejected; 1 added, 2 changed, largest -2.79%"
v3_rows=$(a_rows)
t3=$(loaded_at 5)
f3=$(q "select id from ledger.file where url = '$a' and run_id = 5")

# --- exactly the expected revisions, in order, with both files -----------
is "$(q "select change, indicator, coalesce(partner, '-'), coalesce(trim_scale(old_value)::text, '-'),
                coalesce(trim_scale(new_value)::text, '-'), coalesce(old_qualifier, '-'),
                coalesce(new_qualifier, '-'), coalesce(old_file_id::text, '-'), new_file_id,
                coalesce(change_pct::text, '-')
           from ewc.revision order by new_file_id, indicator")" \
"removed|cadres_exchanged|-|2448|-|exact|-|$f1|$f2|-
changed|enterprises_guided|-|2193|2200|exact|exact|$f1|$f2|0.32
added|technicians_exchanged|-|-|8520|-|exact|-|$f2|-
added|cadres_exchanged|-|-|2448|-|exact|-|$f3|-
changed|industrial_parks_cobuilt|-|482|480|exact|approximate|$f1|$f3|-0.41
changed|poverty_labour_employed|450000|12345|12000|exact|exact|$f1|$f3|-2.79" \
   "ewc.revision: exactly the six changes of versions 2 and 3 (an old value's file: the version that brought it)"
is "$(q "select count(*) from ewc.revision
          where url = '$a' and revised_at in ('$t2', '$t3')
            and new_sha256 is not null and (change = 'added' or old_sha256 is not null)")" "6" \
   "each revision shows its URL, load time and both files' hashes"
is "$(q "select old_line, new_line, old_raw, new_raw from ewc.revision
          where indicator = 'industrial_parks_cobuilt'")" "3|3|482|约480" \
   "a revision keeps the lines and the values as written"
is "$(q "select period_kind, unit, old_line, old_raw, coalesce(new_raw, '-') from ewc.revision
          where change = 'removed'")" "half|person|4|2448|-" \
   "a removed key's revision keeps its period kind, unit, line and value as written"

# --- what the warehouse said, as of four times ---------------------------
is "$(asof "$(q "select timestamptz '$t1' - interval '1 microsecond'")")" "" \
   "as of just before version 1: nothing of a.csv"
is "$(asof "$t1")" "$v1_rows" "as of version 1's load: version 1's rows"
is "$(asof "$(q "select timestamptz '$t2' - interval '1 microsecond'")")" "$v1_rows" \
   "as of just before version 2: still version 1's rows"
is "$(asof "$t2")" "$v2_rows" "as of version 2's load: version 2's rows"
is "$(asof "$(q "select timestamptz '$t2' + (timestamptz '$t3' - timestamptz '$t2') / 2")")" \
   "$v2_rows" "as of between versions 2 and 3: version 2's rows (the refused one left none)"
is "$(asof "$t3")" "$v3_rows" "as of version 3's load: version 3's rows"
is "$(asof "$(q "select now()")")" "$(a_rows)" "as of now: the warehouse's rows"
isnt "$v1_rows" "$v2_rows" "(versions 1 and 2 differ)"
isnt "$v2_rows" "$v3_rows" "(versions 2 and 3 differ)"
is "$(q "select distinct file_id from ewc.observation_asof('$t2') where source = '$a'")" "$f2" \
   "as of version 2, its rows name version 2's file"
is "$(q "select distinct file_id from ewc.observation_asof('$t3') where source = '$b'")" \
   "$(q "select id from ledger.file where url = '$b' and run_id = 1")" \
   "b.csv, never changed, is its first version at every time"
is "$(q "select count(*) from ewc.observation_asof('$t3') where source = '$b'")" "1" \
   "with its one row"

# before revisions were kept, nothing is known: an error, not today's value
is "$(psql -XAtq -c "select count(*) from ewc.observation_asof('2000-01-01')" 2>&1 |
      grep -c 'revisions are kept since .*: what the warehouse said at 2000-01-01 .* is not known')" \
   "1" "as of a time before revisions were kept: an error saying since when"

# --- an analyst reads them without any right on the ledger ---------------
is "$(psql -XAtq -v ON_ERROR_STOP=1 -c "set role ewc_analyst" \
      -c "select count(*) from ewc.revision" \
      -c "select count(*) from ewc.observation_asof('$t2')" 2>&1)" "6
5" "ewc_analyst reads ewc.revision and calls ewc.observation_asof"
is "$(psql -XAtq -c "set role ewc_analyst" -c "select count(*) from ledger.file" 2>&1 |
      grep -c 'permission denied')" "1" "(while ledger.file stays closed to it)"

done_testing
