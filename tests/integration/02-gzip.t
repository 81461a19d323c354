#!/bin/bash
# 02-gzip: a gzip'd CSV, and a zlib (deflate) one, load exactly the rows of
# their plain twin; the ledger keeps the compressed file's own sha256/bytes.
. "$(dirname "$0")/../lib/env.sh"

DATA=$REPO/tests/data/http
cp "$DATA/national-2021.csv" "$T/www/plain.csv"
gzip -9 -n -c "$DATA/national-2021.csv" >"$T/www/packed.csv.gz"
python3 -c 'import sys, zlib
sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read(), 9))' \
    <"$DATA/national-2021.csv" >"$T/www/packed.csv.zz"
expected=$(cat "$DATA/national-2021.expected")

setup_all
write_pipeline "$EWC_SOURCE_URL/plain.csv" "$EWC_SOURCE_URL/packed.csv.gz" \
    "$EWC_SOURCE_URL/packed.csv.zz"

etl run
is_rc 0 "run exits 0"

is "$(obs_of "$EWC_SOURCE_URL/plain.csv")" "$expected" "plain file: the expected rows"
is "$(obs_of "$EWC_SOURCE_URL/packed.csv.gz")" "$expected" "gzip file: the same rows"
is "$(obs_of "$EWC_SOURCE_URL/packed.csv.zz")" "$expected" "deflate (zlib) file: the same rows"

for f in plain.csv packed.csv.gz packed.csv.zz; do
    is "$(q "select status, rows_in, rows_loaded, rows_rejected, sha256, bytes
               from ledger.file where url = '$EWC_SOURCE_URL/$f'")" \
       "loaded|10|10|0|$(sha256sum <"$T/www/$f" | cut -d' ' -f1)|$(stat -c %s "$T/www/$f")" \
       "ledger.file of $f: loaded 10 rows; sha256 and bytes of the file as served"
done

is "$(q "select string_agg(distinct line::text, ',' order by line::text)
           from warehouse.observation")" "10,11,2,3,4,5,6,7,8,9" \
   "line numbers are those of the decompressed text"

# A truncated gzip stream is a bad file, not a partial load.
head -c 100 "$T/www/packed.csv.gz" >"$T/www/cut.csv.gz"
write_pipeline "$EWC_SOURCE_URL/cut.csv.gz"
etl run
is_rc 5 "a truncated gzip file fails the run (its only file)"
is "$(q "select status, rows_loaded from ledger.file
          where url = '$EWC_SOURCE_URL/cut.csv.gz'")" "failed|0" \
   "the truncated file is failed in the ledger"
like "$(q "select error from ledger.file
            where url = '$EWC_SOURCE_URL/cut.csv.gz'")" "gzip|inflate|deflate|compress|truncat|unexpected end" \
   "its error says the compressed stream is bad"
is "$(q "select count(*) from warehouse.observation o join ledger.file f
           on f.id = o.file_id where f.url = '$EWC_SOURCE_URL/cut.csv.gz'")" "0" \
   "no rows from the truncated file"

done_testing
