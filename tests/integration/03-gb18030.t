#!/bin/bash
# 03-gb18030: a GB18030 (Excel on Chinese Windows) CSV and a UTF-8 CSV with
# a BOM load the rows of their UTF-8 twin, Chinese names resolved and notes
# stored as UTF-8.
. "$(dirname "$0")/../lib/env.sh"

DATA=$REPO/tests/data/http
cp "$DATA/national-2021.csv" "$T/www/utf8.csv"
iconv -f UTF-8 -t GB18030 "$DATA/national-2021.csv" >"$T/www/gb.csv"
{ printf '\357\273\277'; cat "$DATA/national-2021.csv"; } >"$T/www/bom.csv"
# CRLF line ends too (Excel), with a BOM and GB18030 together is impossible;
# this one is GB18030 + CRLF.
iconv -f UTF-8 -t GB18030 "$DATA/national-2021.csv" | sed 's/$/\r/' \
    >"$T/www/gbcrlf.csv"
expected=$(cat "$DATA/national-2021.expected")

if cmp -s "$T/www/utf8.csv" "$T/www/gb.csv"; then
    bail_out "iconv did not re-encode the file"
fi

setup_all
write_pipeline "$EWC_SOURCE_URL/utf8.csv" "$EWC_SOURCE_URL/gb.csv" \
    "$EWC_SOURCE_URL/bom.csv" "$EWC_SOURCE_URL/gbcrlf.csv"

etl run
is_rc 0 "run exits 0"

is "$(obs_of "$EWC_SOURCE_URL/utf8.csv")" "$expected" "UTF-8 file: the expected rows"
is "$(obs_of "$EWC_SOURCE_URL/gb.csv")" "$expected" "GB18030 file: the same rows"
is "$(obs_of "$EWC_SOURCE_URL/bom.csv")" "$expected" "UTF-8 file with BOM: the same rows"
is "$(obs_of "$EWC_SOURCE_URL/gbcrlf.csv")" "$expected" "GB18030 file with CRLF: the same rows"

is "$(q "select count(*) from ledger.file where status = 'loaded'
            and rows_in = 10 and rows_loaded = 10 and rows_rejected = 0")" "4" \
   "four files loaded, 10 rows each, none rejected"

is "$(q "select distinct raw_value from warehouse.observation
          where indicator = 'enterprises_guided' and region = '320000'")" "１２８" \
   "raw value of a GB18030 row is stored as UTF-8 (full-width digits)"
is "$(q "select count(*) from warehouse.observation
          where note = '比上年增长12%'")" "4" \
   "the note decodes to the same UTF-8 text from every encoding"

# A file in neither UTF-8 nor GB18030: bytes invalid in both.
{ head -n 1 "$DATA/national-2021.csv"; printf '\xff\xfe\xff,,\x80\x80,2021,1,,\n'; } \
    >"$T/www/junk.csv"
write_pipeline "$EWC_SOURCE_URL/junk.csv"
etl run
is_rc 5 "a file that decodes in no known encoding fails the run"
is "$(q "select status from ledger.file where url = '$EWC_SOURCE_URL/junk.csv'")" \
   "failed" "and is failed in the ledger"

done_testing
