#!/bin/bash
# 05-ratio: a file whose reject ratio is above max_reject_ratio loads
# nothing (its rejects and ledger row are kept, status failed with the
# reason); the other file of the run loads; exit 4.
. "$(dirname "$0")/../lib/env.sh"

cat >"$T/www/good.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
全国,,引导企业投资,2021,2193,家,
全国,,共建产业园区,2021,482,个,
全国,,吸纳脱贫劳动力就业,2021,926.3万,人,
CSV
cat >"$T/www/bad.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
全国,,互派干部,2022年上半年,2448,人,
卢旺达,,互派干部,2022年上半年,5,人,
全国,,专业技术人员,2022年上半年,85x0,人,
全国,,引导企业投资,2022年上半年,1127,家,
CSV

setup_all
good=$EWC_SOURCE_URL/good.csv
bad=$EWC_SOURCE_URL/bad.csv
write_pipeline --ratio 0.3 "$good" "$bad"

etl run
is_rc 4 "run exits 4: partial"

is "$(q "select status, rows_in, rows_rejected from ledger.file where url = '$bad'")" \
   "failed|4|2" "bad.csv: failed, 4 rows in, 2 rejected"
like "$(q "select error from ledger.file where url = '$bad'")" \
   "reject.*ratio|ratio.*reject" "bad.csv: the error gives the reject ratio as the reason"
like "$(q "select error from ledger.file where url = '$bad'")" \
   "0\.5|50(\.0)? ?%|2 of 4|2/4" "bad.csv: the error gives the ratio found"
is "$(q "select count(*) from warehouse.observation o join ledger.file f
           on f.id = o.file_id where f.url = '$bad'")" "0" \
   "no observations from bad.csv, not even its good rows"
is "$(q "select count(*) from warehouse.observation where indicator = 'cadres_exchanged'")" "0" \
   "its good row (互派干部) is not in the warehouse"
is "$(q "select string_agg(r.line::text, ',' order by r.line) from ledger.reject r
           join ledger.file f on f.id = r.file_id where f.url = '$bad'")" "3,4" \
   "its rejects are kept (lines 3 and 4)"
is "$(q "select file_id is null from ledger.source where url = '$bad'")" "t" \
   "no version of bad.csv is recorded as loaded"

is "$(q "select status, rows_in, rows_loaded, rows_rejected from ledger.file where url = '$good'")" \
   "loaded|3|3|0" "good.csv: loaded, 3 rows"
is "$(q "select count(*) from warehouse.observation")" "3" "3 observations, all from good.csv"

is "$(q "select status, files_total, files_loaded, files_failed from ledger.run")" \
   "partial|2|1|1" "ledger.run: partial, 1 of 2 files loaded, 1 failed"

# The same file under a ratio it meets is loaded (the boundary is inclusive).
write_pipeline --ratio 0.5 "$bad"
etl run
is_rc 3 "with max_reject_ratio 0.5 the same file loads, with rejects"
is "$(q "select count(*) from warehouse.observation o join ledger.file f
           on f.id = o.file_id where f.url = '$bad'")" "2" \
   "its 2 good rows are now in the warehouse"

done_testing
