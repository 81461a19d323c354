#!/bin/bash
# 07-republish: a file republished with one value changed replaces what its
# previous version loaded: same count, new value present, old one gone;
# the other files' rows are untouched.  Only the keys it changes are
# written: a row it repeats as it was stays, with the file that brought it.
. "$(dirname "$0")/../lib/env.sh"

DATA=$REPO/tests/data/http
cp "$DATA/national-2021.csv" "$T/www/a.csv"
cat >"$T/www/other.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
全国,,引导企业投资,2020,2000,家,
CSV
touch -d '2024-01-01 00:00:00 UTC' "$T/www/a.csv" "$T/www/other.csv"

setup_all
a=$EWC_SOURCE_URL/a.csv
o=$EWC_SOURCE_URL/other.csv
write_pipeline "$a" "$o"

etl run
is_rc 0 "first run exits 0"
is "$(q "select count(*) from warehouse.observation")" "11" "11 observations"
is "$(q "select trim_scale(value) from warehouse.observation
          where indicator = 'industrial_parks_cobuilt'")" "482" "old value 482"
old_file=$(q "select file_id from ledger.source where url = '$a'")

# Republish: 482 -> 483 (same size), one row dropped, one row added.
sed -i -e 's/,2021,482,个,/,2021,483,个,/' \
       -e '/^全国,,互派干部,/d' "$T/www/a.csv"
echo '全国,,专业技术人员,2022年上半年,8520,人,' >>"$T/www/a.csv"
touch -d '2024-02-01 00:00:00 UTC' "$T/www/a.csv"

etl run
is_rc 0 "second run exits 0"
is "$(q "select status, rows_in, rows_loaded from ledger.file
          where run_id = (select max(id) from ledger.run) and url = '$a'")" \
   "loaded|10|10" "the new version of a.csv is loaded"
is "$(q "select status from ledger.file
          where run_id = (select max(id) from ledger.run) and url = '$o'")" \
   "unchanged" "other.csv is unchanged"
is "$(q "select count(*) from warehouse.observation")" "11" "still 11 observations"
is "$(q "select trim_scale(value) from warehouse.observation
          where indicator = 'industrial_parks_cobuilt'")" "483" \
   "the new value 483 replaced 482"
is "$(q "select count(*) from warehouse.observation where value = 482")" "0" \
   "the old value is gone"
is "$(q "select count(*) from warehouse.observation where indicator = 'cadres_exchanged'")" \
   "0" "the row dropped from the file is gone"
is "$(q "select trim_scale(value) from warehouse.observation
          where indicator = 'technicians_exchanged'")" "8520" \
   "the row added to the file is there"
new_file=$(q "select file_id from ledger.source where url = '$a'")
is "$(q "select count(*) filter (where file_id = $new_file),
                count(*) filter (where file_id = $old_file)
           from warehouse.observation where source_id = (select source_id from ledger.file
                                                          where id = $new_file)")" "2|8" \
   "the changed and the added row carry the new version; the 8 unchanged keep the version that brought them"
is "$(q "select s.sha256 = f.sha256 and f.run_id = (select max(id) from ledger.run)
           from ledger.source s join ledger.file f on f.id = s.file_id
          where s.url = '$a'")" "t" "ledger.source points at the new version"
is "$(q "select sha256 from ledger.source where url = '$a'")" \
   "$(sha256sum <"$T/www/a.csv" | cut -d' ' -f1)" "with the new sha256"
is "$(q "select trim_scale(value) from warehouse.observation o
           join ledger.source s on s.id = o.source_id where s.url = '$o'")" "2000" \
   "other.csv's row is untouched"

# A third version repeats a key whose figure did not change, once with the
# same figure and once with another: neither slips through as a change.
# The repeats are rejected as in a first version, the first line counts.
echo '全国,,引导企业投资,2021,9999,家,' >>"$T/www/a.csv"
echo '全国,,共建产业园区,2021,483,个,' >>"$T/www/a.csv"
touch -d '2024-03-01 00:00:00 UTC' "$T/www/a.csv"
etl run
is_rc 3 "a version with repeated keys loads, exit 3"
is "$(q "select line, reason from ledger.reject
          where file_id = (select file_id from ledger.source where url = '$a') order by line")" \
"12|duplicate of line 2 with another value (9999, not 2193)
13|same figure as line 3" "the repeats are rejected: another value, the same figure"
is "$(q "select trim_scale(value) from warehouse.observation
          where indicator = 'enterprises_guided' and region = '000000'
            and period_start = '2021-01-01' and period_kind = 'year'
            and source_id = (select id from ledger.source where url = '$a')")" "2193" \
   "the figure of the first line stays"
is "$(q "select rows_loaded, rows_rejected, rows_changed from ledger.file
          where id = (select file_id from ledger.source where url = '$a')")" "10|2|0" \
   "10 rows loaded, 2 rejected, nothing changed"

done_testing
