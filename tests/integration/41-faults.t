#!/bin/bash
# 41-faults: a fault in the middle of a large COPY leaves the previous
# version of the file whole in the warehouse, and the next run ends on
# exactly the checksum a fault-free load gives.
#
# One source, two versions made by tests/bench/gen.py: A (20,000 rows) and
# B (200,000 rows, other figures; its COPY lasts about 2 s here).  The
# fault-free checksums (md5 of the observations without their source, file
# and run ids) come from a second database of the cluster, "ref", where A
# and then B load without a fault.  Then, for each fault, with A loaded and
# B published at the same URL: `ewc-etl run` in the background; once its
# COPY has processed a random number of rows (10% to 80% of B: the wait is
# done in the server, pg_stat_progress_copy polled every 5 ms); the fault;
# the exit status (README "Exit status"); the warehouse still holds A
# (checksum, rows, ledger.source); the next run loads B (checksum); A is
# published and loaded again.
#   kill9      kill -9 of ewc-etl                         exit 137
#   fast       PostgreSQL restarted with -m fast          exit 5
#   immediate  PostgreSQL restarted with -m immediate     exit 5
#   terminate  pg_terminate_backend() of the loader       exit 5
#   sigterm    SIGTERM to ewc-etl, a second one at once   exit 5
# Then, in databases of their own:
#   lock    a run and a backfill of the same year at once, both ways round:
#           the second exits 1 (advisory lock per pipeline); run --wait runs
#           once the backfill is done
#   worker  `ewc-etl worker` joins a run --workers 1 of two large files and
#           is killed -9 in the middle of its file: the run (or the next
#           run) loads it; the checksum is the fault-free one of both files
# The ledger after each fault: a process that lost its connection (restart,
# terminated backend) connects again and closes its own run as failed; the
# attempt is a failed ledger.file row; no task outlives its run as pending.
. "$(dirname "$0")/../lib/env.sh"
. "$TESTS_LIB/proc.sh"

NA=20000
NB=200000
NW=200000
for v in "A $NA 11" "B $NB 22" "W $NW 33"; do
    set -- $v
    python3 "$REPO/tests/bench/gen.py" "$2" "$T/$1.csv" --seed "$3" ||
        bail_out "gen.py $2 $1.csv failed"
done

# the binary under test, as it is now: the test runs for minutes
cp "$EWC_ETL" "$T/ewc-etl" || bail_out "could not copy $EWC_ETL"
EWC_ETL=$T/ewc-etl
TIMES=()
lap() {     # lap NAME: the seconds since the last lap, in the table's footer
    local now=$SECONDS
    TIMES+=("$1 $((now - ${LAP_T:-0}))s")
    LAP_T=$now
}
LAP_T=$SECONDS

setup_all
PG_BIN=$(pg_bindir)
# A restart with -m immediate is a crash: what was committed must outlive
# it, as on a real server (the tests' clusters commit asynchronously, and
# lost the run's own ledger rows when the fault came within 0.6 s of them).
q "alter system set synchronous_commit = on" >/dev/null &&
    q "select pg_reload_conf()" >/dev/null ||
    bail_out "could not turn synchronous_commit on"
url=$EWC_SOURCE_URL/f.csv
write_pipeline "$url"

# md5 of the warehouse's observations, without source/file/run ids
obs_sum() {
    q "select count(*) || ' ' || md5(coalesce(string_agg(concat_ws('|', indicator,
              region, coalesce(partner, '-'), period_kind, period_start, period_end,
              trim_scale(value), unit, qualifier, raw_value, coalesce(note, '-')),
              E'\n' order by indicator, region, partner, period_start, period_end,
              value, raw_value), ''))
         from warehouse.observation"
}
rows() {
    q "select count(*) from warehouse.observation"
}
publish() {     # publish A|B: the version served at $url
    cp "$T/$1.csv" "$T/www/f.csv.tmp" && mv "$T/www/f.csv.tmp" "$T/www/f.csv"
}
# client sessions other than this query's (the dead loader's is gone)
others() {
    q "select count(*) from pg_stat_activity
        where backend_type = 'client backend' and pid <> pg_backend_pid()"
}
no_others() {
    [ "$(others 2>/dev/null)" = 0 ]
}

# fx_wait_copy(THR, SECS, APP): waits, in the server, until a COPY has
# processed more than THR rows (of a session whose application_name is APP
# when given); returns "PID TUPLES" of its backend, or NULL after SECS.
# The snapshot of the backends' status is cleared at each poll.
q "create function public.fx_wait_copy(thr bigint, secs float8, app text default null)
   returns text language plpgsql as \$\$
   declare
       t0 timestamptz := clock_timestamp();
       r record;
   begin
       loop
           perform pg_stat_clear_snapshot();
           select c.pid, c.tuples_processed into r
             from pg_stat_progress_copy c join pg_stat_activity a using (pid)
            where c.tuples_processed > thr
              and (app is null or a.application_name = app)
            order by c.tuples_processed desc limit 1;
           if found then
               return r.pid || ' ' || r.tuples_processed;
           end if;
           if clock_timestamp() - t0 > secs * interval '1 second' then
               return null;
           end if;
           perform pg_sleep(0.005);
       end loop;
   end \$\$" >/dev/null || bail_out "could not create fx_wait_copy"
wait_copy() {     # wait_copy THR SECS ['APP']: fx_wait_copy, from any database
    psql -XAtq -d ewc -c "select public.fx_wait_copy($1, $2, ${3:-null})"
}

## fault-free checksums, in database "ref"
q "create database ref" >/dev/null || bail_out "could not create database ref"
export PGDATABASE=ref
etl migrate
is_rc 0 "ref: migrate"
publish A
etl run
is_rc 0 "ref: A loads"
sumA=$(obs_sum)
publish B
etl run
is_rc 0 "ref: B replaces A"
sumB=$(obs_sum)
is "${sumA%% *}" "$NA" "ref: A has $NA observations"
is "${sumB%% *}" "$NB" "ref: B has $NB observations"
isnt "${sumA#* }" "${sumB#* }" "ref: A and B differ"
# and W (another source) besides B: what the worker case ends on
cp "$T/W.csv" "$T/www/w2.csv"
write_pipeline "$EWC_SOURCE_URL/w2.csv"
etl run
is_rc 0 "ref: W loads besides B"
sumBW=$(obs_sum)
is "${sumBW%% *}" "$((NB + NW))" "ref: B and W have $((NB + NW)) observations"
write_pipeline "$url"
export PGDATABASE=ewc
lap "gen+ref"

## A in the warehouse under test
publish A
etl run
is_rc 0 "A loads"
is "$(obs_sum)" "$sumA" "A's checksum as in ref"

sig_pending() {     # sig_pending PID SIGNO: the signal awaits delivery
    local m
    for m in $(awk '$1 == "SigPnd:" || $1 == "ShdPnd:" { print $2 }' \
                   "/proc/$1/status" 2>/dev/null); do
        if (( (16#$m >> ($2 - 1)) & 1 )); then
            return 0
        fi
    done
    return 1
}
task_states() {     # task_states RUN: its tasks' states, "none" without any
    q "select coalesce(string_agg(state, ',' order by id), 'none')
         from ledger.task where run_id = $1"
}
yesno() {
    [ "$1" = "$2" ] && echo yes || echo no
}

TABLE=()
etagA=$(etag_of "$T/A.csv")

# fault_case NAME: A is loaded; publish B, fault in its COPY, check, load B,
# load A again
fault_case() {
    local name=$1 thr got point bpid pid rc rid st fileA sum_after rows_after
    local rerun_rc sum_end rows_before want_rc=5
    [ "$name" = kill9 ] && want_rc=137
    fileA=$(q "select file_id from ledger.source where url = '$url'")
    rows_before=$(rows)
    thr=$((NB / 10 + RANDOM * (NB * 7 / 10) / 32768))
    publish B
    bg_etl "$name" run
    pid=$BG_PID
    got=$(wait_copy "$thr" 90)
    if [ -z "$got" ]; then
        fail "$name: ewc-etl's COPY of B passed $thr rows"
        diag "$(tail -n 20 "$T/$name.err")"
        bg_kill "$pid"
        publish A
        etl run
        return
    fi
    pass "$name: ewc-etl's COPY of B passed $thr rows (of $NB)"
    bpid=${got% *}
    point=${got#* }

    case $name in
    kill9)
        kill -KILL "$pid" ;;
    fast|immediate)
        pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/server.log" \
            -m "$name" -w -t 60 restart >"$T/pg_ctl.log" 2>&1 ||
            diag "pg_ctl restart -m $name failed:" "$(cat "$T/pg_ctl.log")"
        PG_PID=$(head -n 1 "$PG_DATA/postmaster.pid") ;;
    terminate)
        is "$(q "select pg_terminate_backend($bpid)")" "t" \
           "terminate: pg_terminate_backend of the loader's backend ($bpid)" ;;
    sigterm)
        kill -TERM "$pid"
        ok "sigterm: the first SIGTERM was taken" -- \
            wait_until 10 eval "! sig_pending $pid 15"
        kill -TERM "$pid" ;;
    esac
    bg_wait "$pid" 60
    rc=$BG_RC
    [ "$rc" = timeout ] && bg_kill "$pid"
    is "$rc" "$want_rc" "$name: exit $want_rc"
    [ "$name" = sigterm ] &&
        ok "sigterm: exited within 3 s of the second SIGTERM ($BG_SECS s)" -- \
            awk -v s="$BG_SECS" 'BEGIN { exit !(s != "" && s < 3) }'
    bg_sanitizer "$name"
    ok "$name: no session of the loader is left" -- wait_until 30 no_others

    sum_after=$(obs_sum)
    rows_after=$(rows)
    is "$sum_after" "$sumA" "$name: the warehouse holds A whole (A's checksum)"
    is "$rows_after" "$NA" "$name: $NA rows, as before the fault"
    is "$(q "select file_id || ' ' || etag from ledger.source where url = '$url'")" \
       "$fileA $etagA" "$name: the source still points at A's version (file, ETag)"
    rid=$(q "select max(id) from ledger.run where pid = $pid")
    is "$(q "select count(*) from ledger.file where run_id = $rid and status = 'loaded'")" \
       "0" "$name: nothing recorded loaded by the run that faulted"
    st=$(q "select status from ledger.run where id = $rid")
    case $name in
    kill9)
        is "$st" "running" "kill9: its run stays 'running' until the next run (README: Crashes)" ;;
    fast|immediate|terminate)
        is "$st" "failed" "$name: the process reconnected and closed its own run as failed"
        is "$(q "select count(*) from ledger.file where run_id = $rid
                   and url = '$url' and status = 'failed' and error like 'not loaded: %'")" \
           "1" "$name: a ledger.file row records the failed attempt"
        is "$(task_states "$rid")" "failed" "$name: its task is failed, not left pending" ;;
    sigterm)
        is "$(q "select status, error from ledger.run where id = $rid")" \
           "failed|stopped by a signal before all files were loaded" \
           "sigterm: its run is failed, stopped by a signal"
        is "$(task_states "$rid")" "failed" "sigterm: its task is failed, not left pending" ;;
    esac

    etl run
    rerun_rc=$ETL_RC
    is_rc 0 "$name: the next run: exit 0"
    sum_end=$(obs_sum)
    is "$sum_end" "$sumB" "$name: the next run ends on B's fault-free checksum"
    is "$(q "select status, rows_loaded from ledger.file
              where run_id = (select max(id) from ledger.run) and url = '$url'")" \
       "loaded|$NB" "$name: the next run loaded B, $NB rows"
    case $name in
    kill9)
        is "$(q "select status, error from ledger.run where id = $rid")" \
           "failed|the process running it ended without finishing it" \
           "kill9: the next run closed the faulted run as failed"
        is "$(task_states "$rid")" "failed" "kill9: and its task"
        is "$(q "select count(*) from ledger.file where run_id = $rid and status = 'failed'")" \
           "1" "kill9: and recorded the attempt" ;;
    esac

    publish A
    etl run
    is_rc 0 "$name: A published again: exit 0"
    is "$(obs_sum)" "$sumA" "$name: A's checksum again"

    TABLE+=("$(printf '%-10s %7s %7s %5s %7s %7s %4s %6s %4s' "$name" "$thr" "$point" \
        "$rc" "$rows_before" "$rows_after" "$(yesno "$sum_after" "$sumA")" "$rerun_rc" \
        "$(yesno "$sum_end" "$sumB")")")
}

for f in kill9 fast immediate terminate sigterm; do
    fault_case "$f"
    lap "$f"
done

## a run and a backfill of the same year at once (database "yr")
q "create database yr" >/dev/null || bail_out "could not create database yr"
export PGDATABASE=yr
write_pipeline_ops --fetch 'years: [2021]' "$EWC_SOURCE_URL/y-{year}.csv"
etl migrate
is_rc 0 "lock: migrate"
cp "$T/A.csv" "$T/www/y-2021.csv"
etl run
is_rc 0 "lock: A loads as y-2021.csv"
is "$(obs_sum)" "$sumA" "lock: A's checksum"
cp "$T/B.csv" "$T/www/y-2021.csv"

bg_etl lockrun run
p1=$BG_PID
ok "lock: the run's COPY of B is in progress" -- test -n "$(wait_copy $((NB / 10)) 90)"
nruns=$(q "select count(*) from ledger.run")
etl backfill --year 2021
is_rc 1 "lock: a backfill of the same year meanwhile: exit 1"
like "$ETL_ERR" 'pipeline "indicators" is being run by another process' \
     "lock: it says the pipeline is being run by another process"
is "$(q "select count(*) from ledger.run")" "$nruns" "lock: the refused backfill is not in the ledger"
ok "lock: the run goes on" -- bg_alive "$p1"
bg_wait "$p1" 90
is "$BG_RC" "0" "lock: the run exits 0"
is "$(obs_sum)" "$sumB" "lock: B's fault-free checksum"

bg_etl lockbf backfill --year 2021
p3=$BG_PID
ok "lock: the backfill's COPY of B is in progress" -- test -n "$(wait_copy $((NB / 10)) 90)"
etl run
is_rc 1 "lock: a run meanwhile: exit 1"
like "$ETL_ERR" 'pipeline "indicators" is being run by another process' \
     "lock: it says the pipeline is being run by another process"
ok "lock: the backfill goes on" -- bg_alive "$p3"
bg_etl lockwait2 run --wait
p4=$BG_PID
bg_wait "$p3" 90
is "$BG_RC" "0" "lock: the backfill exits 0"
bg_wait "$p4" 90
is "$BG_RC" "0" "lock: run --wait exits 0 once the backfill is done"
r3=$(q "select max(id) from ledger.run where pid = $p3")
r4=$(q "select max(id) from ledger.run where pid = $p4")
is "$(q "select r4.kind, r4.status, r4.files_unchanged, r4.started_at >= r3.finished_at
           from ledger.run r3, ledger.run r4 where r3.id = $r3 and r4.id = $r4")" \
   "manual|ok|1|t" "lock: the run started after the backfill had finished, found B unchanged"
is "$(obs_sum)" "$sumB" "lock: B's fault-free checksum again"
bg_sanitizer lockrun
bg_sanitizer lockbf
bg_sanitizer lockwait2
lap lock

## `ewc-etl worker` joins a run and is killed -9 in its file (database "wk")
q "create database wk" >/dev/null || bail_out "could not create database wk"
export PGDATABASE=wk
cp "$T/B.csv" "$T/www/w1.csv"
cp "$T/W.csv" "$T/www/w2.csv"
write_pipeline_ops "$EWC_SOURCE_URL/w1.csv" "$EWC_SOURCE_URL/w2.csv"
etl migrate
is_rc 0 "worker: migrate"
bg_etl wrun run --workers 1
pr=$BG_PID
ok "worker: the run's COPY is in progress" -- \
    test -n "$(wait_copy 1000 90 "'ewc-etl loader'")"
export PGAPPNAME=fx-worker
bg_etl wjoin worker --pipeline indicators
pw=$BG_PID
unset PGAPPNAME
thrw=$((NB / 10 + RANDOM * (NB * 4 / 10) / 32768))
got=$(wait_copy "$thrw" 90 "'fx-worker'")
ok "worker: the worker's COPY passed $thrw rows" -- test -n "$got"
kill -KILL "$pw"
bg_wait "$pw" 30
wrc=$BG_RC
is "$wrc" "137" "worker: killed by SIGKILL"
bg_wait "$pr" 120
wrun_rc=$BG_RC
like "$wrun_rc" "^(0|4)$" "worker: the run exits 0 (it loads the file) or 4 (the next run does)"
rw=$(q "select max(id) from ledger.run where pid = $pr")
diag "worker: the run exited $wrun_rc: $(q "select status, files_loaded, files_failed
                                               from ledger.run where id = $rw")"
final_rc=$wrun_rc
if [ "$wrun_rc" != 0 ]; then
    ok "worker: no session of the killed worker is left" -- wait_until 30 no_others
    etl run
    is_rc 0 "worker: the next run: exit 0"
    final_rc=$ETL_RC
fi
wsum=$(obs_sum)
is "$wsum" "$sumBW" "worker: the fault-free checksum of both files"
is "$(q "select string_agg(url || ' ' || rows_loaded, ',' order by url) from ledger.file
          where status = 'loaded'")" \
   "$EWC_SOURCE_URL/w1.csv $NB,$EWC_SOURCE_URL/w2.csv $NW" "worker: each file loaded once"
bg_sanitizer wrun
bg_sanitizer wjoin
TABLE+=("$(printf '%-10s %7s %7s %5s %7s %7s %4s %6s %4s' worker "$thrw" "${got#* }" \
    "$wrc" 0 - - "$wrun_rc/$final_rc" "$(yesno "$wsum" "$sumBW")")")
export PGDATABASE=ewc
lap worker

diag "fault       thresh   point    rc  before   after  A=?  rerun  B=?" "${TABLE[@]}" "seconds: ${TIMES[*]}"
done_testing
