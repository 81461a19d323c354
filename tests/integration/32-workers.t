#!/bin/bash
# 32-workers: files of a run are tasks in ledger.task, claimed with SELECT
# ... FOR UPDATE SKIP LOCKED, so several processes share one run and each
# file is loaded exactly once.
#   A. `run --workers 3` on 8 slow files: all loaded once, by more than one
#      process, their loads overlapping in time
#   B. `run --workers 1` joined by `ewc-etl worker --pipeline P` while its
#      run has pending tasks: every file loaded once, both took tasks
#   C. a second `run` of the pipeline meanwhile: exit 1, "is being run by
#      another process"; with --wait it runs after the first one finished
# Loads are made slow in the database (a trigger sleeps 1 s on the one
# row of each file whose note is SLOW): the downloads all happen before any
# load, so a slow HTTP response would not slow the loads down.
. "$(dirname "$0")/../lib/env.sh"
. "$TESTS_LIB/proc.sh"

# make_files PREFIX N YEAR: N files PREFIX-1.csv .. PREFIX-N.csv of 3 rows
make_files() {
    local i
    for i in $(seq 1 "$2"); do
        cat >"$T/www/$1-$i.csv" <<CSV
地区,结对地区,指标,时期,数值,单位,备注
全国,,引导企业投资,$3,$((1000 + i)),家,$1
全国,,共建产业园区,$3,$((400 + i)),个,SLOW
全国,,互派干部,$3,$((2000 + i)),人,$1
CSV
    done
}
make_files w 8 2015
make_files v 8 2016
make_files z 4 2017

setup_all
q "create function public.test_slow() returns trigger language plpgsql as \$\$
   begin
       if new.note = 'SLOW' then
           perform pg_sleep(1);
       end if;
       return null;
   end \$\$;
   create trigger test_slow after insert on warehouse.observation
       for each row execute function public.test_slow();" >/dev/null ||
    bail_out "could not create the test trigger"

last_run() {
    q "select max(id) from ledger.run"
}
# "loaded once": per URL of the run, exactly one loaded file row
check_once() {     # check_once RUN PREFIX N LABEL
    local run=$1 pfx=$2 n=$3 label=$4 want='' i
    for i in $(seq 1 "$n"); do
        want="$want$EWC_SOURCE_URL/$pfx-$i.csv|1|loaded|3"$'\n'
    done
    is "$(q "select url, count(*), string_agg(status, ','), sum(rows_loaded)
               from ledger.file where run_id = $run group by url
              order by length(url), url")" "${want%$'\n'}" \
       "$label: each of the $n files has one loaded ledger row, 3 rows"
    is "$(q "select count(*) from warehouse.observation o
               join ledger.file f on f.id = o.file_id where f.run_id = $run")" \
       "$(q "select sum(rows_loaded) from ledger.file where run_id = $run")" \
       "$label: observations of the run = the sum of its files' rows_loaded"
    is "$(q "select count(*) from warehouse.observation where note in ('$pfx', 'SLOW')
               and period_start = make_date(${5}, 1, 1)")" "$((3 * n))" \
       "$label: $((3 * n)) observations, no duplicates"
    is "$(q "select count(*) filter (where state = 'done'), count(*)
               from ledger.task where run_id = $run")" "$n|$n" \
       "$label: all $n tasks done"
}

## A. --workers 3
mapfile -t urls < <(for i in $(seq 1 8); do echo "$EWC_SOURCE_URL/w-$i.csv"; done)
write_pipeline_ops "${urls[@]}"
t0=$(now_s)
etl run --workers 3
secs=$(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }')
is_rc 0 "A: run --workers 3 of 8 slow files: exit 0"
ra=$(last_run)
is "$(q "select status, files_total, files_loaded, rows_loaded from ledger.run
          where id = $ra")" "ok|8|8|24" "A: ledger.run ok, 8 files, 24 rows"
check_once "$ra" w 8 A 2015
nworkers=$(q "select count(distinct worker) from ledger.task where run_id = $ra")
ok "A: ledger.task.worker shows more than one process ($nworkers)" -- \
    test "$nworkers" -gt 1
like "$(q "select string_agg(distinct worker, ' ') from ledger.task where run_id = $ra")" \
     "^[^ :]+:[0-9]+( [^ :]+:[0-9]+)+$" "A: workers are recorded as host:pid"
overlap=$(q "select count(*) from ledger.file a join ledger.file b
              on a.run_id = b.run_id and a.id < b.id
             where a.run_id = $ra and a.started_at < b.finished_at
               and b.started_at < a.finished_at")
ok "A: loads overlapped in time ($overlap overlapping pairs)" -- test "$overlap" -gt 0
ok "A: took less than the 8 s one process would need ($secs s)" -- \
    awk -v s="$secs" 'BEGIN { exit !(s < 7.5) }'

## B. a run with one worker, joined by `ewc-etl worker`
mapfile -t urls < <(for i in $(seq 1 8); do echo "$EWC_SOURCE_URL/v-$i.csv"; done)
write_pipeline_ops "${urls[@]}"
bg_etl runb run --workers 1
runb=$BG_PID
pending_tasks() {
    [ "$(q "select count(*) from ledger.task t join ledger.run r on r.id = t.run_id
             where r.pid = $runb and r.status = 'running'
               and t.state = 'pending'")" -ge 3 ]
}
ok "B: the run is running with pending tasks" -- wait_until 30 pending_tasks
etl worker --pipeline indicators
is_rc 0 "B: ewc-etl worker: exit 0"
like "$ETL_OUT" "^worker indicators: [1-9][0-9]* files$" "B: the worker says how many files it loaded"
wfiles=$(printf '%s\n' "$ETL_OUT" | sed -n 's/^worker indicators: \([0-9]*\) files$/\1/p')
bg_wait "$runb" 60
is "$BG_RC" "0" "B: the run exits 0" ||
    diag "ewc-etl bug (etl/runner.c): when \`ewc-etl worker\` holds the last task" \
         "of a run, the run's own worker_loop() finds nothing left to claim (SKIP" \
         "LOCKED skips the claimed task) and run_summarize() counts that task, still" \
         "'pending' to its snapshot, as a failed file: the run ends 'partial' (exit" \
         "4, files_loaded 7 of 8) although the worker commits the file a moment" \
         "later.  Racy: it happens when the worker, not the run, loads the last file." \
         "Fix: before summarizing, wait for the tasks other processes hold, e.g." \
         "SELECT 1 FROM ledger.task WHERE run_id = \$1 AND state = 'pending' FOR" \
         "UPDATE (no SKIP LOCKED: it blocks until their transactions end), then" \
         "claim any still pending (a worker that died) or count them."
rb=$(q "select id from ledger.run where pid = $runb")
is "$(q "select status, files_total, files_loaded, rows_loaded from ledger.run
          where id = $rb")" "ok|8|8|24" "B: ledger.run ok, 8 files, 24 rows" ||
    diag "(the same runner.c bug: see above)"
check_once "$rb" v 8 B 2016
is "$(q "select count(distinct worker) from ledger.task where run_id = $rb")" "2" \
   "B: two processes took tasks"
is "$(q "select count(*) from ledger.task where run_id = $rb and worker like '%:$runb'")" \
   "$((8 - ${wfiles:-0}))" "B: the run's own process took the rest ($((8 - ${wfiles:-0})))"
bg_sanitizer runb

etl worker --run abc
is_rc 2 "worker --run abc: exit 2"
is "$ETL_ERR" 'ewc-etl: --run: expected a number from 1 to 2147483647, found "abc"' \
   "worker --run abc: it says a run id is a number"
etl worker --pipeline indicators
is_rc 0 "worker with no running run: exit 0"
is "$ETL_OUT" "worker indicators: 0 files" "worker with no running run: 0 files"
etl run --workers 0
is_rc 2 "run --workers 0: exit 2"
is "$ETL_ERR" 'ewc-etl: --workers: expected a number from 1 to 64, found "0"' \
   "run --workers 0: it says the range"

## C. a second run meanwhile: refused; with --wait it waits
mapfile -t urls < <(for i in $(seq 1 4); do echo "$EWC_SOURCE_URL/z-$i.csv"; done)
write_pipeline_ops "${urls[@]}"
bg_etl runc run --workers 1
runc=$BG_PID
first_running() {
    [ "$(q "select count(*) from ledger.run where pid = $runc and status = 'running'")" = 1 ]
}
ok "C: the first run is running" -- wait_until 30 first_running
etl run
is_rc 1 "C: a second run of the pipeline meanwhile: exit 1"
is "$(printf '%s\n' "$ETL_ERR" | grep '^ewc-etl: ')" \
   'ewc-etl: pipeline "indicators" is being run by another process; hint: see the running run with: ewc-etl status; or wait for it with --wait' \
   "C: it says the pipeline is being run by another process"
is "$(q "select count(*) from ledger.run where pid <> $runc and id > $rb")" "0" \
   "C: the refused run is not in the ledger"
ok "C: the first run is still running" -- bg_alive "$runc"
etl run --wait
is_rc 0 "C: run --wait: exit 0 once the first run is done"
bg_wait "$runc" 30
is "$BG_RC" "0" "C: the first run exits 0"
rc1=$(q "select id from ledger.run where pid = $runc")
rc2=$(last_run)
ok "C: the waiting run is another run" -- test "$rc2" -gt "$rc1"
is "$(q "select r2.started_at >= r1.finished_at from ledger.run r1, ledger.run r2
          where r1.id = $rc1 and r2.id = $rc2")" "t" \
   "C: the waiting run started after the first one finished"
is "$(q "select status, files_loaded from ledger.run where id = $rc1")" "ok|4" \
   "C: the first run loaded the 4 files"
is "$(q "select status, files_loaded, files_unchanged from ledger.run where id = $rc2")" \
   "ok|0|4" "C: the waiting run found them unchanged"
bg_sanitizer runc

done_testing
