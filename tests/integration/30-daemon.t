#!/bin/bash
# 30-daemon: `ewc-etl daemon` runs a pipeline on its schedule ("@every 2s"),
# speaks the systemd notify protocol (READY, RELOADING, STOPPING, STATUS,
# WATCHDOG) to the socket NOTIFY_SOCKET names, reloads its YAML on SIGHUP
# (an invalid one is logged and the running configuration kept; a valid one
# takes over), and stops on SIGTERM with exit 0.  Also: a daemon without
# any schedule refuses to start, and `check` prints the next five fire
# times of a cron schedule in its time zone, and a bad EWC_ETL_CLOCK_START
# is refused.
. "$(dirname "$0")/../lib/env.sh"
. "$TESTS_LIB/proc.sh"

cp "$REPO/tests/data/http/national-2021.csv" "$T/www/a.csv"
cat >"$T/www/b.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
全国,,结对学校,2021,824,所,reloaded
全国,,结对医院,2021,582,所,reloaded
CSV

write_pipeline_ops --set 'schedule: "@every 2s"' "http://127.0.0.1:1/none.csv"
setup_all
a=$EWC_SOURCE_URL/a.csv
b=$EWC_SOURCE_URL/b.csv

# The latest run of the daemon's pipeline that is finished, and its files.
finished_after() {     # finished_after RUN_ID: a finished run with a larger id?
    [ "$(q "select count(*) from ledger.run where id > $1
             and status <> 'running'")" -gt 0 ]
}
max_run() {
    q "select coalesce(max(id), 0) from ledger.run"
}
daemon_log_has() {
    grep -qF -- "$1" "$T/daemon.err"
}

## the daemon refuses a YAML without any schedule
write_pipeline_ops --out "$T/unscheduled.yaml" "$a"
etl_raw -c "$T/unscheduled.yaml" daemon
is_rc 2 "daemon without a scheduled pipeline: exit 2"
is "$(printf '%s\n' "$ETL_ERR" | strip_log_prefix)" \
   "$(printf '%s\n' '[indicators] no schedule: not run by the daemon' \
                    'ewc-etl: no pipeline has a schedule')" \
   "it says the pipeline has no schedule, and that none has"

etl daemon extra
is_rc 2 "daemon with an argument: exit 2"
like "$ETL_ERR" "^Usage: ewc-etl daemon" "it shows the daemon's usage"
etl daemon --help
is_rc 0 "daemon --help: exit 0"
like "$ETL_OUT" "^Usage: ewc-etl daemon" "daemon --help prints its usage on stdout"
like "$ETL_OUT" "SIGHUP reloads" "the help says what SIGHUP does"
like "$ETL_OUT" "EWC_ETL_CLOCK_START=T" "the help documents EWC_ETL_CLOCK_START"
EWC_ETL_CLOCK_START=yesterday etl daemon
is_rc 2 "daemon with a bad EWC_ETL_CLOCK_START: exit 2"
like "$ETL_ERR" 'invalid clock start "yesterday": expected seconds since the epoch' \
     "it says the clock start is invalid"

## start, scheduled runs, READY=1 and the watchdog
write_pipeline_ops --set 'schedule: "@every 2s"' "$a"
notify_start || bail_out "could not start the notify listener"
t_start=$(date +%s)
export WATCHDOG_USEC=2000000
bg_etl daemon daemon
daemon_pid=$BG_PID
unset WATCHDOG_USEC

ok "READY=1 received within 20 s" -- wait_until 20 notify_has READY=1
ok "a scheduled run finishes within 15 s" -- wait_until 15 finished_after 0
t_first=$(date +%s)
is "$(q "select pipeline, kind, status from ledger.run order by id limit 1")" \
   "indicators|nightly|ok" "the first run: kind nightly, status ok"
sched=$(q "select params->>'scheduled_for' from ledger.run order by id limit 1")
like "$sched" "^[0-9]+$" "its params record scheduled_for: $sched"
is "$((sched % 2))" "0" "scheduled_for is a fire time of @every 2s (even)"
ok "scheduled_for lies between the daemon's start and the run's end" -- \
    test "$sched" -ge "$((t_start - 2))" -a "$sched" -le "$t_first"
is "$(q "select f.url, f.status, f.rows_loaded from ledger.file f
          where f.run_id = (select min(id) from ledger.run)")" \
   "$a|loaded|10" "the first run loaded a.csv: 10 rows"
is "$(q "select count(*) from warehouse.observation")" "10" \
   "10 observations in the warehouse"
ok "STATUS= messages received" -- grep -q '^STATUS=' "$T/notify.log"
ok "WATCHDOG=1 received (WATCHDOG_USEC=2 s)" -- wait_until 10 notify_has WATCHDOG=1

ok "a second scheduled run follows" -- wait_until 10 finished_after \
    "$(q "select min(id) from ledger.run")"
is "$(q "select count(distinct params->>'scheduled_for') = count(*),
                bool_and((params->>'scheduled_for')::bigint % 2 = 0)
           from ledger.run")" "t|t" \
   "each run stands for its own fire time, each a multiple of 2 s"
is "$(q "select f.status from ledger.file f
          where f.run_id = (select min(id) + 1 from ledger.run)")" "unchanged" \
   "the second run found a.csv unchanged"

## SIGHUP with an invalid YAML: logged, the old configuration keeps running
cp "$T/pipeline.yaml" "$T/good.yaml"
cat >"$T/pipeline.yaml" <<'EOF'
catalog: /nonexistent
pipelines:
  indicators: [unclosed
EOF
kill -HUP "$daemon_pid"
ok "the log says the reload failed" -- wait_until 15 daemon_log_has \
    "reload failed, keeping the running configuration: $T/pipeline.yaml:"
like "$(grep -F 'reload failed' "$T/daemon.err")" \
     "reload failed, keeping the running configuration: $T/pipeline\.yaml:[0-9]+:[0-9]+: " \
     "the failure names the file, line and column"
ok "the daemon still runs after the failed reload" -- bg_alive "$daemon_pid"
ok "RELOADING=1 received" -- notify_has RELOADING=1
ok "READY=1 again after RELOADING=1" -- wait_until 5 notify_after RELOADING=1 READY=1
ok "STATUS says the reload failed" -- grep -q '^STATUS=reload failed' "$T/notify.log"
before=$(max_run)
ok "another scheduled run after the failed reload" -- wait_until 15 finished_after "$before"
is "$(q "select string_agg(distinct f.url, ',') from ledger.file f
          where f.run_id > $before")" "$a" \
   "it runs the old pipeline (a.csv)"

## SIGHUP with a valid, changed YAML: the new configuration is used
write_pipeline_ops --set 'schedule: "@every 2s"' "$b"
kill -HUP "$daemon_pid"
ok "the log says the YAML was reloaded" -- wait_until 15 daemon_log_has \
    "reloaded $T/pipeline.yaml: 1 scheduled pipeline"
ok "RELOADING=1 received twice" -- test "$(grep -cx RELOADING=1 "$T/notify.log")" -eq 2
ok "READY=1 after the second RELOADING=1" -- wait_until 5 notify_after RELOADING=1 READY=1
is "$(grep -cx READY=1 "$T/notify.log")" "3" \
   "READY=1 three times: start and after each reload"
before=$(max_run)
ok "a scheduled run after the reload" -- wait_until 15 finished_after "$before"
first_new=$(q "select min(id) from ledger.run where id > $before")
is "$(q "select f.url, f.status, f.rows_loaded from ledger.file f
          where f.run_id = $first_new")" "$b|loaded|2" \
   "the new pipeline runs: b.csv loaded, a.csv no more"
is "$(q "select count(*) from warehouse.observation where note = 'reloaded'")" "2" \
   "b.csv's 2 observations are in the warehouse"

## SIGTERM: stop, exit 0, STOPPING=1
bg_signal_wait TERM "$daemon_pid" 20
is "$BG_RC" "0" "SIGTERM: the daemon exits 0"
ok "within 10 s (took $BG_SECS s)" -- \
    awk -v s="$BG_SECS" 'BEGIN { exit !(s != "" && s < 10) }'
ok "STOPPING=1 received" -- notify_has STOPPING=1
ok "the log says the daemon stopped" -- daemon_log_has "daemon stopped"
is "$(q "select count(*) from ledger.run where status = 'running' or finished_at is null")" \
   "0" "no run is left running in the ledger"
is "$(q "select count(*) from ledger.run where kind <> 'nightly'")" "0" \
   "every run of the daemon is of kind nightly"
bg_sanitizer daemon
notify_stop

## check: the next five fire times of a cron schedule in Europe/Berlin
write_pipeline_ops --out "$T/cron.yaml" \
    --set 'schedule: "15 12 * * 1-5"' --set 'timezone: Europe/Berlin' "$a"
expect_next() {
    python3 - <<'PY'
import datetime, zoneinfo
tz = zoneinfo.ZoneInfo("Europe/Berlin")
now = datetime.datetime.now(tz)
d, out = now.date(), []
while len(out) < 5:
    t = datetime.datetime(d.year, d.month, d.day, 12, 15, tzinfo=tz)
    if t.weekday() < 5 and t > now:
        off = t.utcoffset()
        mins = int(off.total_seconds()) // 60
        out.append("    %s %s (%s%02d:%02d)" % (t.strftime("%Y-%m-%d %H:%M"),
                   t.tzname(), "+" if mins >= 0 else "-", abs(mins) // 60,
                   abs(mins) % 60))
    d += datetime.timedelta(days=1)
print("\n".join(out))
PY
}
want1=$(expect_next)
etl_raw -c "$T/cron.yaml" check
want2=$(expect_next)
is_rc 0 "check with a cron schedule in Europe/Berlin: exit 0"
like "$ETL_OUT" 'pipeline indicators \(schedule "15 12 \* \* 1-5", Europe/Berlin\):' \
     "check names the schedule and its zone"
got=$(printf '%s\n' "$ETL_OUT" | sed -n '/^  next runs:$/,/^  1\. /p' | sed '1d;$d')
if [ "$got" = "$want2" ]; then
    want1=$want2
fi
is "$got" "$want1" "check prints the next five weekday 12:15 fire times, Berlin time"

done_testing
