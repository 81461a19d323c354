#!/bin/bash
# 45-metrics: metrics and health for operators, over real loopback HTTP and
# a real PostgreSQL.
#   A. `run` and `backfill` with --metrics-file: a node_exporter textfile
#      that promtool accepts, written atomically (nothing else left in its
#      directory, mode 0644), replaced by the next run, with the ledger's
#      figures (status, files, rows, revisions, last success) and the run's
#      HTTP retries; a directory that is not there is a usage error before
#      any run; a file that cannot be written is an error message and the
#      exit status stays the run's (the run is in the ledger).
#   B. the daemon, on its default address: it listens on 127.0.0.1:9188 and
#      nowhere else (ss, by its PID); /health answers 200; /metrics passes
#      promtool and its counters are the ledger's (runs, files, rows,
#      revisions, rejects by reason as the view ewc.quality folds them,
#      bytes, durations, last success, last run, ledger and spool size); a
#      second daemon on the same address exits 1; SIGHUP with another
#      address moves the server; SIGTERM exits 0 and closes it.  A bad
#      --listen or http.listen is a clear usage error; 0.0.0.0 must be
#      written out and is warned about.
#   C. the daemon's scheduled runs: a download retried once counts in
#      ewc_etl_http_retries_total; while a run with two worker processes
#      is loading, only the daemon holds the port (its children do not)
#      and /health says what runs; with the PostgreSQL cluster stopped,
#      /health and /metrics answer 503 with the reason, and a `run` that
#      cannot start writes not_started to its metrics file.
. "$(dirname "$0")/../lib/env.sh"
. "$TESTS_LIB/proc.sh"

command -v promtool >/dev/null || skip_all "promtool is not installed (tests/install-deps: prometheus)"
command -v curl >/dev/null || skip_all "curl is not installed (tests/install-deps)"
command -v ss >/dev/null || skip_all "ss is not installed (tests/install-deps: iproute2)"

A=1767225600        # 2026-01-01T00:00:00Z, a fire time of "@every 1h"

cp "$REPO/tests/data/http/national-2021.csv" "$T/www/a.csv"
mixed_v1() {
    cat <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
全国,,引导企业投资,2021,2193,家,
全国,,共建产业园区,2021,482,个,
卢旺达,,引导企业投资,2021,12,家,外国地名
全国,,采购和帮助销售农副产品,2021,813亿元,,
全国,,吸纳脱贫劳动力就业,2021,926.3万,人,
全国,,财政援助资金,2022年上半年,220亿元,,
全国,,互派干部,2022年上半年,2448,人,
广东,广西,吸纳脱贫劳动力就业,2021,abc,人,
福建,宁夏,财政援助资金,2021,4.5亿元,,
江苏,陕西,引导企业投资,2021年第三季度,128,家,
CSV
}
mixed_v1 >"$T/www/mixed.csv"
printf '%s\n' '地区,结对地区,指标,时期,数值,单位,备注' \
    '全国,,结对学校,2021,824,所,clean' '全国,,结对医院,2021,582,所,clean' >"$T/www/b.csv"
printf '%s\n' '地区,结对地区,指标,时期,数值,单位,备注' \
    '全国,,结对学校,2020,801,所,yearly' >"$T/www/y-2020.csv"
printf '%s\n' '地区,结对地区,指标,时期,数值,单位,备注' \
    '全国,,结对学校,2019,790,所,flaky' >"$T/www/flaky.csv"
for n in 1 2; do
    printf '%s\n' '地区,结对地区,指标,时期,数值,单位,备注' \
        "全国,,结对医院,201$n,50$n,所,slow" "全国,,结对学校,201$n,60$n,所,SLEEP-HERE" \
        >"$T/www/slow$n.csv"
done

# pipeline NAME WORKERS FETCH-EXTRA URL...: one pipeline of a YAML
pipeline() {
    local name=$1 workers=$2 extra=$3 url urls=''
    shift 3
    for url in "$@"; do
        urls="$urls${urls:+, }\"$url\""
    done
    cat <<EOF
  $name:
    schedule: "@every 1h"
    workers: $workers
    stages:
      - { name: fetch, kind: http_fetch, urls: [$urls], retries: 2, backoff_ms: 100$extra }
      - { name: parse, kind: parse_csv, needs: [fetch] }
      - { name: normalize, kind: normalize, needs: [parse] }
      - { name: validate, kind: validate, needs: [normalize], max_reject_ratio: 0.3 }
      - { name: load, kind: pg_load, needs: [validate] }
EOF
}
# yaml OUT HTTP-LINE: the pipelines of parts A and B ("" for no http key)
yaml() {
    {
        echo "catalog: $REPO/config/catalog"
        echo "spool: \${EWC_SPOOL}"
        echo "$2"
        echo "pipelines:"
        pipeline mixed 1 "" "$EWC_SOURCE_URL/a.csv" "$EWC_SOURCE_URL/mixed.csv" \
            "$EWC_SOURCE_URL/missing.csv"
        pipeline clean 1 "" "$EWC_SOURCE_URL/b.csv"
        pipeline yearly 1 ", years: [2020]" "$EWC_SOURCE_URL/y-{year}.csv"
    } >"$1"
}

write_pipeline_ops "http://127.0.0.1:1/none.csv"
setup_all
yaml "$T/pipeline.yaml" 'http: { listen: "127.0.0.1:0" }'

# prom_dump FILE NAME: the samples of metric NAME, one a line: its label
# values and its value, '|' between them (as psql -A prints), sorted
prom_dump() {
    python3 - "$1" "$2" <<'PY' | LC_ALL=C sort
import re, sys
name = sys.argv[2]
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')
unesc = {'\\\\': '\\', '\\"': '"', '\\n': '\n'}
for line in open(sys.argv[1], encoding='utf-8'):
    m = line_re.match(line.rstrip('\n'))
    if line.startswith('#') or not m or m.group(1) != name:
        continue
    vals = [re.sub(r'\\[\\"n]', lambda e: unesc[e.group(0)], v)
            for _, v in label_re.findall(m.group(2) or '')]
    v = float(m.group(3))
    vals.append(str(int(v)) if v == int(v) and abs(v) < 1e15 else repr(v))
    print('|'.join(vals))
PY
}
# prom_value FILE NAME [LABEL-VALUES]: one sample's value ("" if none)
prom_value() {
    local key=${3:-}
    prom_dump "$1" "$2" | awk -F'|' -v k="$key" '{ v = $NF; $NF = ""; sub(/\|?$/, "");
        l = $0; gsub(/ /, "|", l); if (NF == 1 && k == "" || l == k) print v }' OFS='|'
}
# near A B: two numbers within 0.01
near() {
    awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(a != "" && b != "" && d < 0.01 && d > -0.01) }'
}
promtool_ok() {     # promtool_ok FILE: promtool check metrics, its complaints in diag
    local out
    if out=$(promtool check metrics <"$1" 2>&1); then
        return 0
    fi
    diag "$out"
    return 1
}
# http_get URL [CURL ARGS]: HTTP_CODE and HTTP_BODY (in $T/body)
http_get() {
    local url=$1
    shift
    HTTP_CODE=$(curl -s -m 30 -o "$T/body" -w '%{http_code}' "$@" "$url")
    HTTP_BODY=$(cat "$T/body")
}
daemon_addr() {     # the address the daemon NAME logged last
    grep -o 'http: listening on [^ ]*' "$T/$1.err" | tail -n 1 | awk '{ print $4 }'
}
listening() {       # listening NAME N: the daemon NAME logged N "listening on" lines
    [ "$(grep -c 'http: listening on' "$T/$1.err" 2>/dev/null)" -ge "$2" ]
}
# listen_of PID: "ADDR:PORT" of each TCP socket PID listens on, sorted
listen_of() {
    ss -Hltnp | grep -F "pid=$1," | awk '{ print $4 }' | LC_ALL=C sort
}
# listeners ADDR: the PIDs holding the listening socket of ADDR
listeners() {
    ss -Hltnp "sport = :${1##*:}" | grep -o 'pid=[0-9]*' | cut -d= -f2 | LC_ALL=C sort -u |
        tr '\n' ' ' | sed 's/ $//'
}

## A. run and backfill with --metrics-file
mkdir "$T/prom"
echo '{"/a.csv": [{"status": 503}]}' >"$HTTP_SCRIPT"
etl run --pipeline mixed --metrics-file "$T/prom/mixed.prom"
is_rc 4 "run: partial (missing.csv 404s): exit 4"
run1=$(q "select max(id) from ledger.run where pipeline = 'mixed'")
f=$T/prom/mixed.prom
ok "the metrics file exists" -- test -s "$f"
ok "promtool check metrics accepts it" -- promtool_ok "$f"
is "$(ls -A "$T/prom")" "mixed.prom" "nothing else in its directory (no temporary file)"
is "$(stat -c %a "$f")" "644" "mode 0644, for node_exporter's user"
is "$(prom_value "$f" ewc_etl_last_run_id mixed)" "$run1" "the run's id"
is "$(prom_dump "$f" ewc_etl_last_run_status | grep '|1$')" "mixed|partial|1" \
   "its status: partial"
is "$(prom_dump "$f" ewc_etl_last_run_files)" \
   "$(q "select 'mixed|' || s || '|' || count(f.id) from (values ('loaded'), ('unchanged'),
          ('failed')) v(s) left join ledger.file f on f.status = s and f.run_id = $run1
          group by s" | LC_ALL=C sort)" "files by status, as ledger.file has them"
is "$(prom_value "$f" ewc_etl_last_run_rows_loaded mixed)|$(prom_value "$f" \
      ewc_etl_last_run_rows_rejected mixed)" \
   "$(q "select rows_loaded || '|' || rows_rejected from ledger.run where id = $run1")" \
   "rows loaded and rejected, as ledger.run has them"
ok "the end and the duration are ledger.run's" -- \
    near "$(prom_value "$f" ewc_etl_last_run_timestamp_seconds mixed)" \
         "$(q "select extract(epoch from finished_at) from ledger.run where id = $run1")"
ok "the duration is ledger.run's" -- \
    near "$(prom_value "$f" ewc_etl_last_run_duration_seconds mixed)" \
         "$(q "select extract(epoch from finished_at - started_at) from ledger.run where id = $run1")"
is "$(prom_value "$f" ewc_etl_last_run_http_retries mixed)" "1" \
   "the 503 of a.csv, retried once, counts as one HTTP retry"
is "$(prom_dump "$f" ewc_etl_last_success_timestamp_seconds)" "" \
   "no last success: the pipeline never ran ok"

etl run --pipeline clean --metrics-file "$T/prom/clean.prom"
is_rc 0 "run of clean: exit 0"
g=$T/prom/clean.prom
ok "promtool accepts clean's file" -- promtool_ok "$g"
is "$(prom_dump "$g" ewc_etl_last_run_status | grep '|1$')" "clean|ok|1" "its status: ok"
ok "its last success is the run's end in ledger.run" -- \
    near "$(prom_value "$g" ewc_etl_last_success_timestamp_seconds clean)" \
         "$(q "select extract(epoch from max(finished_at)) from ledger.run
                where pipeline = 'clean' and status in ('ok', 'ok_with_rejects')")"

# a new version of mixed.csv: one value changed, one row gone, one new
mixed_v1 | sed -e 's/,482,/,483,/' -e '/,互派干部,/d' >"$T/www/mixed.csv"
echo '全国,,结对医院,2021,582,所,' >>"$T/www/mixed.csv"
ino=$(stat -c %i "$f")
etl run --pipeline mixed --metrics-file "$f"
is_rc 4 "second run of mixed: exit 4 again"
run2=$(q "select max(id) from ledger.run where pipeline = 'mixed'")
isnt "$(stat -c %i "$f")" "$ino" "the file was replaced by another (rename), not rewritten"
is "$(ls -A "$T/prom" | LC_ALL=C sort | tr '\n' ' ')" "clean.prom mixed.prom " \
   "still no temporary file"
is "$(prom_value "$f" ewc_etl_last_run_id mixed)" "$run2" "the new run's id"
is "$(prom_dump "$f" ewc_etl_last_run_rows_revised)" \
   "$(q "select 'mixed|added|' || rows_added || E'\n' || 'mixed|changed|' || rows_changed
          || E'\n' || 'mixed|removed|' || rows_removed from ledger.run where id = $run2")" \
   "revisions: ledger.run's rows_added, rows_changed, rows_removed"
is "$(q "select rows_added || ',' || rows_changed || ',' || rows_removed from ledger.run
          where id = $run2")" "1,1,1" "(one row added, one changed, one removed)"
is "$(prom_dump "$f" ewc_etl_last_run_files)" \
   "$(printf '%s\n' mixed\|failed\|1 mixed\|loaded\|1 mixed\|unchanged\|1)" \
   "files: a.csv unchanged (304), mixed.csv loaded, missing.csv failed"

# the file cannot be written (its temporary name is too long): an error
# message, the run's exit status, the run in the ledger
long=$T/prom/$(printf 'x%.0s' $(seq 1 250)).prom
before=$(q "select count(*) from ledger.run")
etl run --pipeline clean --metrics-file "$long"
is_rc 0 "an unwritable metrics file: the run's exit status (0)"
like "$ETL_ERR" "ewc-etl: metrics file $T/prom/x+\.prom: could not create a temporary file in \"$T/prom\": File name too long" \
     "it says which file could not be written, and why"
is "$(q "select count(*) from ledger.run")" "$((before + 1))" "the run is in the ledger"
is "$(q "select status from ledger.run order by id desc limit 1")" "ok" "as ok"
is "$(ls -A "$T/prom" | LC_ALL=C sort | tr '\n' ' ')" "clean.prom mixed.prom " \
   "nothing left behind"

etl run --pipeline clean --metrics-file "$T/nonexistent/x.prom"
is_rc 2 "--metrics-file in a directory that is not there: exit 2"
is "$ETL_ERR" "ewc-etl: --metrics-file: no directory \"$T/nonexistent\"" "it says so"
is "$(q "select count(*) from ledger.run")" "$((before + 1))" "before any run"
etl run --pipeline clean --metrics-file "$T/prom"
is_rc 2 "--metrics-file naming a directory: exit 2"

etl backfill --year 2020 --pipeline yearly --metrics-file "$T/prom/yearly.prom"
is_rc 0 "backfill with --metrics-file: exit 0"
ok "promtool accepts the backfill's file" -- promtool_ok "$T/prom/yearly.prom"
is "$(prom_value "$T/prom/yearly.prom" ewc_etl_last_run_id yearly)" \
   "$(q "select id from ledger.run where kind = 'backfill'")" "the backfill's run id"
is "$(prom_dump "$T/prom/yearly.prom" ewc_etl_last_run_files | grep loaded)" "yearly|loaded|1" \
   "its file loaded"

## B. the daemon on its default address
etl daemon --listen 9188
is_rc 2 "--listen 9188: exit 2"
is "$ETL_ERR" "ewc-etl: --listen: invalid listen address \"9188\": expected ADDRESS:PORT, e.g. 127.0.0.1:9188, or off" \
   "it says what it expects"
etl daemon --listen example.org:80
is_rc 2 "--listen with a host name: exit 2"
like "$ETL_ERR" 'invalid listen address "example.org:80": not an IPv4 address, "localhost" or \[IPv6\] \(host names are not looked up\)' \
     "host names are not looked up"
etl daemon --listen 127.0.0.1:70000
is_rc 2 "--listen with port 70000: exit 2"
like "$ETL_ERR" "the port must be a number from 0 to 65535" "it says the port's range"
etl daemon --listen :9188
like "$ETL_ERR" "no address before the port: write 127.0.0.1:PORT for this host only, 0.0.0.0:PORT for every interface" \
     "--listen :9188: every interface must be written out"
yaml "$T/bad.yaml" 'http: { listen: "*:9188" }'
etl_raw -c "$T/bad.yaml" check
is_rc 2 "http.listen \"*:9188\" in the YAML: check exits 2"
like "$ETL_ERR" "$T/bad\.yaml:3:17: invalid listen address \"\*:9188\"" \
     "the error points at the value in the YAML"
yaml "$T/bad.yaml" 'http: { listen: "127.0.0.1:0", port: 9 }'
etl_raw -c "$T/bad.yaml" check
like "$ETL_ERR" 'unknown key "port" in "http"' "an unknown key of http is refused"

yaml "$T/default.yaml" ""
etl_raw -c "$T/default.yaml" check
like "$ETL_OUT" "http: 127\.0\.0\.1:9188 \(the daemon's /metrics, /health and status page\)" \
     "check shows the default address"
if [ -n "$(ss -Hltn 'sport = :9188')" ]; then
    note "port 9188 is taken on this machine: the default address is not tried"
    yaml "$T/default.yaml" 'http: { listen: "127.0.0.1:0" }'
    default=
else
    default=1
fi
EWC_ETL_CLOCK_START=$((A + 30)) bg_etl_raw dB -c "$T/default.yaml" daemon
pid=$BG_PID
ok "the daemon listens" -- wait_until 20 listening dB 1
addr=$(daemon_addr dB)
if [ -n "$default" ]; then
    is "$addr" "127.0.0.1:9188" "by default on 127.0.0.1:9188"
    is "$(listen_of "$pid")" "127.0.0.1:9188" \
       "ss: its only listening socket is 127.0.0.1:9188 (loopback, not 0.0.0.0 or [::])"
fi
http_get "http://$addr/health"
is "$HTTP_CODE" "200" "/health: 200"
like "$HTTP_BODY" $'^ok\nloop: seen [0-9.]+ s ago\ndatabase: ok\nrunning: -$' \
     "/health says ok, when the loop was seen, the database, what runs"
http_get "http://$addr/health" -I
is "$HTTP_CODE" "200" "HEAD /health: 200"
http_get "http://$addr/" -D "$T/headers"
is "$HTTP_CODE" "200" "/: 200"
like "$(cat "$T/headers")" $'Content-Type: text/html; charset=utf-8\r' "/ is HTML"
like "$HTTP_BODY" "<title>ewc-etl status</title>" "/ is the status page"
like "$HTTP_BODY" "$(q "select max(id) from ledger.run")</td>" "with the ledger's latest run"
http_get "http://$addr/nosuch"
is "$HTTP_CODE" "404" "an unknown path: 404"
http_get "http://$addr/metrics" -D "$T/headers"
is "$HTTP_CODE" "200" "/metrics: 200"
like "$(cat "$T/headers")" $'Content-Type: text/plain; version=0.0.4; charset=utf-8\r' \
     "Content-Type of the text format 0.0.4"
cp "$T/body" "$T/m1.prom"
m=$T/m1.prom
ok "promtool check metrics accepts /metrics" -- promtool_ok "$m"
is "$(grep -v '^#' "$m" | grep -cv '^ewc_etl_')" "0" "every name starts with ewc_etl_"

is "$(prom_dump "$m" ewc_etl_runs_total | grep -v '|0$')" \
   "$(q "select pipeline, status, count(*) from ledger.run where status <> 'running'
          group by 1, 2" | LC_ALL=C sort)" "ewc_etl_runs_total: ledger.run by pipeline and status"
is "$(prom_dump "$m" ewc_etl_runs_total | grep -c '|0$')" "9" \
   "and 0 for the statuses a pipeline has no run of"
is "$(prom_dump "$m" ewc_etl_files_total | grep -v '|0$')" \
   "$(q "select r.pipeline, f.status, count(*) from ledger.file f
          join ledger.run r on r.id = f.run_id group by 1, 2" | LC_ALL=C sort)" \
   "ewc_etl_files_total: ledger.file by pipeline and status (loaded, unchanged, failed)"
is "$(prom_dump "$m" ewc_etl_rows_loaded_total)" \
   "$(q "select r.pipeline, sum(f.rows_loaded) from ledger.file f
          join ledger.run r on r.id = f.run_id group by 1" | LC_ALL=C sort)" \
   "ewc_etl_rows_loaded_total: the sum of ledger.file rows_loaded"
is "$(prom_dump "$m" ewc_etl_rows_rejected_total)" \
   "$(q "select pipeline, sum(rows_rejected) from ledger.run group by 1" | LC_ALL=C sort)" \
   "ewc_etl_rows_rejected_total: the sum of ledger.run rows_rejected"
is "$(prom_dump "$m" ewc_etl_rows_revised_total)" \
   "$(q "select pipeline, c, sum(case c when 'added' then rows_added
                                      when 'changed' then rows_changed else rows_removed end)
          from ledger.run, (values ('added'), ('changed'), ('removed')) v(c)
          group by 1, 2" | LC_ALL=C sort)" \
   "ewc_etl_rows_revised_total: ledger.run's rows_added, rows_changed, rows_removed"
is "$(prom_dump "$m" ewc_etl_rejects_total)" \
   "$(q "select r.pipeline, q.detail, sum(q.rows) from ewc.quality q
          join ledger.run r on r.id = q.run_id where q.finding = 'reject'
          group by 1, 2" | LC_ALL=C sort)" \
   "ewc_etl_rejects_total: the reasons folded as ewc.quality folds them, with their counts"
like "$(prom_dump "$m" ewc_etl_rejects_total)" 'mixed\|unknown region "…"' \
     "(a quoted name folded to \"…\")"
is "$(prom_dump "$m" ewc_etl_fetched_bytes_total)" \
   "$(q "select r.pipeline, coalesce(sum(f.bytes) filter (where f.http_status / 100 = 2), 0)
          from ledger.file f join ledger.run r on r.id = f.run_id group by 1" | LC_ALL=C sort)" \
   "ewc_etl_fetched_bytes_total: bytes of the 2xx downloads"
is "$(prom_dump "$m" ewc_etl_run_duration_seconds_count)" \
   "$(q "select pipeline, count(*) from ledger.run where finished_at is not null
          group by 1" | LC_ALL=C sort)" "ewc_etl_run_duration_seconds_count: the finished runs"
ok "ewc_etl_run_duration_seconds_sum: their durations" -- \
    near "$(prom_value "$m" ewc_etl_run_duration_seconds_sum mixed)" \
         "$(q "select sum(extract(epoch from finished_at - started_at)) from ledger.run
                where pipeline = 'mixed'")"
is "$(prom_value "$m" ewc_etl_run_duration_seconds_bucket 'mixed|+Inf')" "2" \
   "the +Inf bucket counts them all"
is "$(prom_dump "$m" ewc_etl_file_duration_seconds_count | grep -v '|0$')" \
   "$(q "select r.pipeline, f.status, count(*) from ledger.file f
          join ledger.run r on r.id = f.run_id group by 1, 2" | LC_ALL=C sort)" \
   "ewc_etl_file_duration_seconds_count: the files by status"
ok "ewc_etl_last_success_timestamp_seconds: the end of clean's latest ok run" -- \
    near "$(prom_value "$m" ewc_etl_last_success_timestamp_seconds clean)" \
         "$(q "select extract(epoch from max(finished_at)) from ledger.run
                where pipeline = 'clean' and status in ('ok', 'ok_with_rejects')")"
is "$(prom_value "$m" ewc_etl_last_success_timestamp_seconds mixed)" "" \
   "none for mixed, which never ran ok"
is "$(prom_dump "$m" ewc_etl_last_run_id)" \
   "$(q "select pipeline, max(id) from ledger.run group by 1" | LC_ALL=C sort)" \
   "ewc_etl_last_run_id: the latest run of each pipeline"
is "$(prom_value "$m" ewc_etl_ledger_bytes file)" \
   "$(q "select pg_total_relation_size('ledger.file')")" \
   "ewc_etl_ledger_bytes: pg_total_relation_size of each ledger table"
is "$(prom_value "$m" ewc_etl_spool_bytes)" \
   "$(find "$EWC_SPOOL" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')" \
   "ewc_etl_spool_bytes: the bytes of the spool's files"
is "$(prom_dump "$m" ewc_etl_http_retries_total | tr '\n' ' ')" "clean|0 mixed|0 yearly|0 " \
   "ewc_etl_http_retries_total: 0 for each scheduled pipeline (the daemon has run nothing)"

# a second daemon on the same address
EWC_ETL_CLOCK_START=$((A + 30)) etl_raw -c "$T/default.yaml" daemon --listen "$addr"
is_rc 1 "a second daemon on $addr: exit 1"
like "$ETL_ERR" "ewc-etl: could not listen on $addr: Address already in use; hint: another process has the port" \
     "it says the address is in use"
ok "the first daemon still runs" -- bg_alive "$pid"

# SIGHUP with another address: the server moves
yaml "$T/default.yaml" 'http: { listen: "127.0.0.1:0" }'
kill -HUP "$pid"
ok "after SIGHUP the daemon listens again" -- wait_until 20 listening dB 2
addr2=$(daemon_addr dB)
isnt "$addr2" "$addr" "on another address: $addr2"
is "$(listen_of "$pid")" "$addr2" "and only there"
http_get "http://$addr2/health"
is "$HTTP_CODE" "200" "/health answers on the new address"

bg_signal_wait TERM "$pid" 20
is "$BG_RC" "0" "SIGTERM: exit 0"
is "$(listeners "$addr2")" "" "nothing listens on its address any more"
bg_sanitizer dB

# 0.0.0.0 when written out: allowed, and warned about
EWC_ETL_CLOCK_START=$((A + 30)) bg_etl_raw dW -c "$T/default.yaml" daemon --listen 0.0.0.0:0
pid=$BG_PID
ok "--listen 0.0.0.0:0: the daemon listens" -- wait_until 20 listening dW 1
like "$(listen_of "$pid")" '^0\.0\.0\.0:[0-9]+$' "ss: on 0.0.0.0"
like "$(cat "$T/dW.err")" "WARNING: http: 0\.0\.0\.0:0 is not a loopback address: anyone who reaches it can read /metrics, /health, / \(no authentication\)" \
     "with a warning in the log"
bg_signal_wait TERM "$pid" 20
is "$BG_RC" "0" "SIGTERM: exit 0"

## C. the daemon's runs: retries, forked workers, the database down
{
    echo "catalog: $REPO/config/catalog"
    echo "spool: \${EWC_SPOOL}"
    echo 'http: { listen: "127.0.0.1:0" }'
    echo "pipelines:"
    pipeline flaky 1 "" "$EWC_SOURCE_URL/flaky.csv"
    pipeline slow 2 "" "$EWC_SOURCE_URL/slow1.csv" "$EWC_SOURCE_URL/slow2.csv"
} >"$T/runs.yaml"
q "create or replace function public.test_sleep() returns trigger
   language plpgsql as \$\$
   begin
       if new.note = 'SLEEP-HERE' then
           perform pg_sleep(4);
       end if;
       return null;
   end \$\$;
   create trigger test_sleep after insert on warehouse.observation
       for each row execute function public.test_sleep();" >/dev/null ||
    bail_out "could not create the test trigger"
sleeping() {
    [ "$(q "select count(*) from pg_stat_activity where wait_event = 'PgSleep'")" -ge "$1" ]
}
finished() {        # finished PIPELINE: its nightly run is over
    [ "$(q "select count(*) from ledger.run where pipeline = '$1' and kind = 'nightly'
             and status <> 'running'")" -ge 1 ]
}
echo '{"/flaky.csv": [{"status": 503}]}' >"$HTTP_SCRIPT"
# the clock starts 2 s before a fire of "@every 1h": both pipelines run then
EWC_ETL_CLOCK_START=$((A + 3600 - 2)) bg_etl_raw dC -c "$T/runs.yaml" daemon
pid=$BG_PID
ok "the daemon listens" -- wait_until 20 listening dC 1
addr=$(daemon_addr dC)
ok "the slow run's two processes are loading (both in the trigger's sleep)" -- \
    wait_until 30 sleeping 2
children=$(bg_children "$pid" | tr '\n' ' ')
isnt "$children" "" "the daemon has a worker child ($children)"
is "$(listeners "$addr")" "$pid" \
   "ss: only the daemon holds the listening socket, not its worker child"
http_get "http://$addr/health"
is "$HTTP_CODE" "200" "/health during the run: 200"
like "$HTTP_BODY" $'\nrunning: slow$' "it says the pipeline being run"
http_get "http://$addr/metrics"
is "$(prom_value "$T/body" ewc_etl_runs_running slow)" "1" \
   "/metrics during the run: ewc_etl_runs_running of slow is 1"
ok "the slow run finishes" -- wait_until 30 finished slow
ok "and the flaky one" -- finished flaky
http_get "http://$addr/metrics"
cp "$T/body" "$T/m2.prom"
m=$T/m2.prom
ok "promtool accepts /metrics" -- promtool_ok "$m"
is "$(prom_dump "$m" ewc_etl_http_retries_total)" "$(printf '%s\n' 'flaky|1' 'slow|0')" \
   "ewc_etl_http_retries_total: the 503 of flaky.csv, retried once"
is "$(prom_dump "$m" ewc_etl_run_start_failures_total)" "$(printf '%s\n' 'flaky|0' 'slow|0')" \
   "ewc_etl_run_start_failures_total: none"
is "$(prom_dump "$m" ewc_etl_last_run_status | grep '|1$')" \
   "$(q "select distinct on (pipeline) pipeline, status, 1 from ledger.run
          order by pipeline, id desc" | LC_ALL=C sort)" \
   "ewc_etl_last_run_status: each pipeline's latest run's status"
is "$(prom_dump "$m" ewc_etl_files_total | grep '^slow|' | grep -v '|0$')" "slow|loaded|2" \
   "slow: two files loaded (one by the worker child)"
is "$(prom_value "$m" ewc_etl_runs_running slow)" "0" "no run of slow running now"
start=$(prom_value "$m" ewc_etl_daemon_start_time_seconds)
ok "ewc_etl_daemon_start_time_seconds: about now" -- \
    awk -v s="$start" -v n="$(date +%s)" 'BEGIN { exit !(s > n - 120 && s <= n) }'

# the database down
pg_stop
http_get "http://$addr/health"
is "$HTTP_CODE" "503" "/health with the database down: 503"
like "$HTTP_BODY" '^unavailable: could not connect to the database: ' "with the reason"
http_get "http://$addr/metrics"
is "$HTTP_CODE" "503" "/metrics with the database down: 503"
like "$HTTP_BODY" '^unavailable: could not connect to the database' "with the reason"
ok "the daemon runs on" -- bg_alive "$pid"
like "$(cat "$T/dC.err")" 'WARNING: http: /health: unavailable: could not connect to the database' \
     "the log says it once"

etl run --pipeline clean --metrics-file "$T/prom/clean.prom"
is_rc 1 "a run with the database down: exit 1"
like "$ETL_ERR" "metrics file: the run's own figures, not the ledger's" \
     "the metrics file has the run's own figures: a warning"
is "$(prom_dump "$T/prom/clean.prom" ewc_etl_last_run_status | grep '|1$')" \
   "clean|not_started|1" "its status: not_started"
is "$(prom_value "$T/prom/clean.prom" ewc_etl_last_run_id clean)" "0" "no run id"
ok "promtool accepts it" -- promtool_ok "$T/prom/clean.prom"

bg_signal_wait TERM "$pid" 20
is "$BG_RC" "0" "SIGTERM with the database down: exit 0"
is "$(listeners "$addr")" "" "nothing listens any more"
bg_sanitizer dC

done_testing
