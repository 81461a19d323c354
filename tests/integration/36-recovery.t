#!/bin/bash
# 36-recovery: a run whose process died stays 'running' in the ledger with
# pending tasks.  No worker may join it (its lock is gone: its old files
# would overwrite newer ones); the next run of the pipeline closes it as
# failed, with its pending tasks, and loads the source afresh.
. "$(dirname "$0")/../lib/env.sh"

cat >"$T/www/a.csv" <<'CSV'
地区,指标,时期,数值,单位
全国,新增引导企业,2021,2193,家
CSV

setup_all
u=$EWC_SOURCE_URL/a.csv
write_pipeline "$u"

# a run that died: 'running', one pending task pointing at an old body
q "insert into ledger.run (id, pipeline, kind, status) values (900, 'indicators', 'manual', 'running');
   insert into ledger.task (run_id, stage, url, spool_path, sha256, bytes)
   values (900, 'fetch', '$u', '/nonexistent/old', 'deadbeef', 1)" >/dev/null

etl worker --pipeline indicators
is_rc 0 "worker exits 0"
like "$ETL_OUT" "worker indicators: 0 files" "the worker joins no dead run"
is "$(q "select state from ledger.task where run_id = 900")" "pending" \
   "the dead run's task is left alone"

etl run
is_rc 0 "the next run exits 0"
is "$(q "select status, error from ledger.run where id = 900")" \
   "failed|the process running it ended without finishing it" \
   "the dead run is closed as failed, with why"
is "$(q "select state from ledger.task where run_id = 900")" "failed" \
   "and its pending task with it"
is "$(q "select trim_scale(value) from warehouse.observation")" "2193" \
   "the source is loaded from its current body"
is "$(q "select status from ledger.run where id <> 900")" "ok" "the new run is ok"

# a file that repeats a key and is refused for its reject ratio: the ledger
# counts exactly the rejects it keeps
cat >"$T/www/b.csv" <<'CSV'
地区,指标,时期,数值,单位
全国,共建产业园区,2021,482,个
全国,共建产业园区,2021,480,个
火星,共建产业园区,2021,3,个
CSV
write_pipeline --ratio 0.2 "$EWC_SOURCE_URL/b.csv"
etl run
is_rc 5 "the refused file fails the run"
is "$(q "select f.status, f.rows_rejected, (select count(*) from ledger.reject r where r.file_id = f.id)
           from ledger.file f where f.url like '%/b.csv' and f.status = 'failed'")" \
   "failed|1|1" "rows_rejected matches the rejects kept (the repeat's went with the rollback)"
is "$(q "select count(*) from warehouse.observation where indicator = 'industrial_parks_cobuilt'")" \
   "0" "nothing of the refused file is loaded"

done_testing
