#!/bin/bash
# 50-cli: the command line as an operator meets it.
#   -v                debug lines (the conditional GET, the chain, revisions)
#   options after the command: "ewc-etl run -v -c FILE", "status --db=..."
#   help help         the help command's own usage
#   check             the settings that decide a file's fate, defaults marked
#   progress          on a terminal, run shows files, %, MB, rows on a line
#                     of its own: no log line ever continues it
. "$(dirname "$0")/../lib/env.sh"

cat >"$T/www/a.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
全国,,引导企业投资,2021,2193,家,
全国,,共建产业园区,2021,482,个,
CSV
cp "$T/www/a.csv" "$T/www/b.csv"
cp "$T/www/a.csv" "$T/www/c.csv"
setup_all
write_pipeline "$EWC_SOURCE_URL/a.csv" "$EWC_SOURCE_URL/b.csv" "$EWC_SOURCE_URL/c.csv"

# --- options after the command, -v at debug ---------------------------------
etl_raw run -c "$T/pipeline.yaml"
is_rc 0 "run -c FILE: the config option after the command"
etl_raw run -v --config="$T/pipeline.yaml"
is_rc 0 "run -v --config=FILE"
like "$ETL_ERR" "DEBUG: GET $EWC_SOURCE_URL/a.csv \\(attempt 1, If-None-Match: \"[0-9a-f]+\"" \
   "-v logs the conditional GET at debug"
unlike "$(etl_raw run -c "$T/pipeline.yaml"; echo "$ETL_ERR")" "DEBUG" \
   "without -v, no debug line"
touch -d '2024-06-01 00:00:00 UTC' "$T/www/a.csv"
echo '全国,,互派干部,2022年上半年,2448,人,' >>"$T/www/a.csv"
etl_raw run --verbose -c "$T/pipeline.yaml"
like "$ETL_ERR" "DEBUG: $EWC_SOURCE_URL/a.csv: 3 rows compared with the previous version's 2" \
   "-v: the revision steps at debug"
like "$ETL_ERR" "DEBUG: $EWC_SOURCE_URL/a.csv: [0-9]+ bytes through the chain from parse, verdict loaded" \
   "-v: the chain's outcome at debug"
etl_raw status --limit 1 -c "$T/pipeline.yaml" --db="$(q "select 'dbname=' || current_database()")"
is_rc 0 "status --limit 1 -c FILE --db=CONNINFO"
like "$ETL_OUT" "loaded +3 +3 +0 +\\+1 ~0 -0" "status after the options works on the same ledger"
etl_raw status -c
is_rc 2 "an option after the command without its value is a usage error"
like "$ETL_ERR" "option -c needs a value" "and says so"

# --- help help --------------------------------------------------------------
etl_raw help help
is_rc 0 "help help exits 0"
like "$ETL_OUT" "^Usage: ewc-etl help \\[COMMAND\\|stages\\|help\\]" "and prints the help command's usage"
etl_raw help nosuch
is_rc 2 "help of an unknown topic exits 2"

# --- check prints the effective settings ------------------------------------
etl check
is_rc 0 "check exits 0"
like "$ETL_OUT" "max_reject_ratio 0\\.30" "check prints the given max_reject_ratio"
sed -i 's/, *max_reject_ratio: [0-9.]*//; s/max_reject_ratio: [0-9.]*,* *//' "$T/pipeline.yaml"
etl check
like "$ETL_OUT" "max_reject_ratio 0\\.10 \\(default\\)" \
   "and the default, 0.10, marked as the default, when the YAML gives none"
like "$ETL_OUT" "reconcile warn \\(default\\), reconcile_tolerance 0\\.005 \\(default\\), magnitude_check true \\(default\\)" \
   "and the load's reconciliation and magnitude check"
like "$ETL_OUT" "workers 1, priority 0, catchup latest, jitter 0 s" \
   "and the pipeline's own settings"

# --- progress on a terminal --------------------------------------------------
for f in a b c; do
    echo "全国,,专业技术人员,2022年上半年,85$RANDOM,人," >>"$T/www/$f.csv"
    touch -d '2024-07-01 00:00:00 UTC' "$T/www/$f.csv"
done
# script(1) (bsdutils, essential in Debian) gives the run a pseudo-terminal
# for stdin, stdout and stderr
script -qec "$EWC_ETL -c $T/pipeline.yaml run" "$T/tty.log" >/dev/null 2>&1
like "$(tr -d '\r' <"$T/tty.log")" "\\[indicators\\] 3/3 files \\(100%\\), [0-9.]+ MB, [0-9]+ rows" \
   "on a terminal, run shows its progress: files, %, MB, rows"
# every log line starts a line of its own: right after a line end or
# after the erase-line sequence that removes the progress line
is "$(python3 - "$T/tty.log" <<'PY'
import re, sys
data = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace')
bad = 0
for m in re.finditer(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [A-Z]+: ', data):
    before = data[:m.start()]
    if not (before == '' or before.endswith('\n') or before.endswith('\r\x1b[K')):
        bad += 1
print(bad)
PY
)" "0" "no log line continues the progress line"
is "$(grep -c 'rows.*[0-9]\{4\}-[0-9][0-9]-[0-9][0-9] [0-9:.]* INFO' <(tr '\r' '\n' <"$T/tty.log" |
      sed 's/\x1b\[K//g'))" "0" "(read back line by line: no progress text before a log line)"
etl_raw run -c "$T/pipeline.yaml"
unlike "$ETL_ERR" "files \\([0-9]+%\\)" "without a terminal, no progress line"

done_testing
