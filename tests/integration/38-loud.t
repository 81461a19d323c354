#!/bin/bash
# 38-loud: a failed night is loud in the journal.  With JOURNAL_STREAM
# naming stderr (as systemd sets it), every line has a "<N>" priority
# prefix; a file that fails -- at the fetch (404) or at the load (not a
# table) -- gives an ERR ("<3>") line with its URL and the reason, and a run
# that ends failed or partial one ERR line that sums it up; a good run has
# no ERR line.  And a statement the server cancels (statement_timeout, in
# a COPY) is stored with its parts apart: "(SQLSTATE 57014; context: ...)".
. "$(dirname "$0")/../lib/env.sh"

cp "$REPO/tests/data/http/national-2021.csv" "$T/www/a.csv"
printf '<!DOCTYPE html>\n<html><body>请登录</body></html>\n' >"$T/www/login.csv"
cat >"$T/www/slow.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
全国,,引导企业投资,2018,200,家,slow
全国,,共建产业园区,2018,202,个,SLEEP-HERE
CSV

setup_all
a=$EWC_SOURCE_URL/a.csv
gone=$EWC_SOURCE_URL/gone.csv
login=$EWC_SOURCE_URL/login.csv
slow=$EWC_SOURCE_URL/slow.csv

# journal_run ARGS...: "etl ARGS" with JOURNAL_STREAM naming its stderr
# (the file etl writes it to: same device and inode, as log.c checks)
journal_run() {
    : >"$T/.stderr"
    JOURNAL_STREAM=$(stat -L -c '%d:%i' "$T/.stderr") etl "$@"
}
# the lines of ETL_ERR at priority N ("<N>" prefix)
at_prio() {
    printf '%s\n' "$ETL_ERR" | grep -F "<$1>"
}
re() {      # a URL as an ERE
    printf '%s' "$1" | sed 's/[.[\*^$()+?{|]/\\&/g'
}

## every file fails: one at the fetch (404), one at the load (HTML)
write_pipeline --name loud "$gone" "$login"
journal_run run
is_rc 5 "every file failed: exit 5"
is "$(printf '%s\n' "$ETL_ERR" | grep -cvE '^<[3-7]>')" "0" \
   "under the journal every line has a priority prefix"
unlike "$ETL_ERR" "(^|$'\n')[0-9]{4}-[0-9]{2}-[0-9]{2} " "and no timestamp (journald adds it)"
like "$(at_prio 3)" "^<3>\[loud/fetch\] [^"$'\n'"]*$(re "$gone")[^"$'\n'"]*404" \
     "ERR: the file that failed at the fetch, with its URL and the 404"
like "$(at_prio 3)" "(^|"$'\n'")<3>\[loud/parse\] $(re "$login")[,:] [^"$'\n'"]*HTML page" \
     "ERR: the file that failed at the load, with its URL and the reason"
run_id=$(q "select max(id) from ledger.run")
is "$(at_prio 3 | grep -c "\] run $run_id ")" "1" "one ERR line for the run"
like "$(at_prio 3 | grep "\] run $run_id ")" \
     "^<3>\[loud\] run $run_id failed: 2 files \(0 loaded, 0 unchanged, 2 failed\)" \
     "it says failed, and counts the files"

## without the journal: a timestamp and the word ERROR
etl run
is_rc 5 "again, on a plain stderr: exit 5"
like "$ETL_ERR" "[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} ERROR: \[loud\] run [0-9]+ failed: " \
     "the run's line: a timestamp and ERROR"
unlike "$ETL_ERR" "<[0-9]>" "no priority prefix"

## one file of two fails: partial, still an ERR line for the run
write_pipeline --name loud "$a" "$gone"
journal_run run
is_rc 4 "one 404 of two files: exit 4"
run_id=$(q "select max(id) from ledger.run")
like "$(at_prio 3 | grep "\] run $run_id ")" \
     "^<3>\[loud\] run $run_id partial: 2 files \(1 loaded, 0 unchanged, 1 failed\)" \
     "ERR: the partial run"
like "$(at_prio 3)" "$(re "$gone")" "ERR: the file, named"

## all loaded (or unchanged): no ERR line, the summary a NOTICE
write_pipeline --name loud "$a"
journal_run run
is_rc 0 "a good run: exit 0"
is "$(at_prio 3)" "" "no ERR line"
like "$(at_prio 5)" "^<5>\[loud\] run [0-9]+ ok: " "the summary at NOTICE"

## a cancelled COPY: the error's parts stored apart
q "create function public.test_sleep() returns trigger language plpgsql as \$\$
   begin
       if new.note = 'SLEEP-HERE' then
           perform pg_sleep(30);
       end if;
       return new;
   end \$\$;
   create trigger test_sleep before insert on warehouse.observation
       for each row execute function public.test_sleep();" >/dev/null ||
    bail_out "could not create the test trigger"
write_pipeline --name slow "$slow"
PGOPTIONS="-c statement_timeout=1s" journal_run run
is_rc 5 "the COPY cancelled by statement_timeout: exit 5"
q "drop trigger test_sleep on warehouse.observation" >/dev/null
error=$(q "select error from ledger.file where url = '$slow'
            order by id desc limit 1")
like "$error" "canceling statement due to statement timeout \(SQLSTATE 57014; context: " \
     "stored: the message, then SQLSTATE; context: with a separator"
like "$error" "; context: [^;]*; PL/pgSQL function test_sleep\(\) line [0-9]+ at PERFORM; COPY observation, line 2\)" \
     "stored: the context's lines joined by '; ', innermost first, the COPY's line last"
unlike "$error" "57014[^;]" "no part glued to the SQLSTATE"
like "$(at_prio 3)" "$(re "$slow"): .*\(SQLSTATE 57014; context: .*; COPY observation, line 2\)" \
     "ERR: the log line says the same"

done_testing
