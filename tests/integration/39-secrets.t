#!/bin/bash
# 39-secrets: credentials in source URLs -- a token from the environment in
# the query, user:password before the host -- reach the server, and nothing
# else: not the log, not `status`, not the ledger, not what ewc_analyst
# reads.  The redacted URL is the source's identity: a rerun is a
# conditional GET, a new token keeps the source.  Migration 010 redacts the
# rows written before it.
. "$(dirname "$0")/../lib/env.sh"

cat >"$T/www/tok.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
全国,,吸纳脱贫劳动力就业,2021,926.3万,人,
全国,,引导企业投资,2022年上半年,1127,家,
CSV
cat >"$T/www/basic.csv" <<'CSV'
地区,结对地区,指标,时期,数值,单位,备注
广东,广西,吸纳脱贫劳动力就业,2021Q3,"12,345",人,
浙江,四川,财政援助资金,2021年6月,3.5亿元,,
CSV

setup_all
export EWC_TOKEN=s3cr3t
host=127.0.0.1:$EWC_HTTP_PORT
# shellcheck disable=SC2016
write_pipeline '${EWC_SOURCE_URL}/tok.csv?year=2021&token=${EWC_TOKEN}' \
    "http://user:pw@$host/basic.csv"

# Everything a person or an analyst could read, as one text.
everything() {
    etl status
    printf '%s\n%s\n' "$ETL_OUT" "$ETL_ERR"
    etl status --json
    printf '%s\n%s\n' "$ETL_OUT" "$ETL_ERR"
    q "select s::text from ledger.source s"
    q "select f::text from ledger.file f"
    q "select t::text from ledger.task t"
    q "select r::text from ledger.run r"
    q "set role ewc_analyst; select o::text from ewc.observation_named o"
}

no_secret() {     # no_secret TEXT NAME
    unlike "$1" "s3cr3t|user:pw|:pw2?@|n3w70k3n" "$2"
}

etl run
is_rc 0 "the run loads both files"
run_err=$ETL_ERR
no_secret "$run_err" "the log names no secret"
like "$run_err" "GET http://127\.0\.0\.1:[0-9]+/tok\.csv\?year=2021&token=\*\*\*: 200" \
    "the log shows the token redacted"
like "$run_err" "GET http://\*\*\*@127\.0\.0\.1:[0-9]+/basic\.csv: 200" \
    "the log shows the userinfo redacted"
is "$(http_count GET "/tok.csv?year=2021&token=s3cr3t" 200)" "1" \
    "the server got the real token"
is "$(q "select count(*) from warehouse.observation")" "4" "the 4 rows loaded"

is "$(q "select url from ledger.source order by url")" \
"$(printf '%s\n' "http://***@$host/basic.csv" "http://$host/tok.csv?year=2021&token=***")" \
    "ledger.source holds the redacted URLs"
is "$(q "select url from ledger.file order by url")" \
"$(printf '%s\n' "http://***@$host/basic.csv" "http://$host/tok.csv?year=2021&token=***")" \
    "ledger.file holds the redacted URLs"
is "$(q "set role ewc_analyst;
         select distinct source from ewc.observation_named order by 1")" \
"$(printf '%s\n' "http://***@$host/basic.csv" "http://$host/tok.csv?year=2021&token=***")" \
    "ewc_analyst sees the redacted sources"
all=$(everything)
like "$all" "token=\*\*\*" "the texts were read"
no_secret "$all" "status, status --json, the ledger and the analyst view hold no secret"

# the redacted URL is the source: a rerun asks with its ETag, and so does a
# run with a new token
etl run
is_rc 0 "a rerun exits 0"
is "$(http_count GET "/tok.csv?year=2021&token=s3cr3t" 304)" "1" \
    "the rerun is a conditional GET (304)"
export EWC_TOKEN=n3w70k3n
etl run
is_rc 0 "a run with a new token exits 0"
is "$(http_count GET "/tok.csv?year=2021&token=n3w70k3n" 304)" "1" \
    "the new token is sent, with the ETag the old one got"
is "$(q "select count(*) from ledger.source")" "2" "a new token keeps the source"
no_secret "$ETL_ERR" "the log names no new secret"

# a failure names the URL redacted, in the log and in the ledger
# shellcheck disable=SC2016
write_pipeline '${EWC_SOURCE_URL}/gone.csv?api_key=${EWC_TOKEN}&v=2'
etl run
is_rc 5 "the only file is a 404: exit 5"
like "$ETL_ERR" "gone\.csv\?api_key=\*\*\*&v=2: HTTP 404" "the 404 names the URL redacted"
no_secret "$ETL_ERR" "the failure's log names no secret"
like "$(q "select error from ledger.file where status = 'failed'")" \
    "api_key=\*\*\*&v=2: HTTP 404" "ledger.file.error names the URL redacted"
no_secret "$(everything)" "no secret anywhere after the failure"

# migration 010 on rows an older version wrote: two tokens of one URL
# become one source, the one loaded last keeping the plain URL
old=$(q "insert into ledger.run (pipeline, kind, status, error)
         values ('old', 'manual', 'failed',
                 'GET https://me:pw@h/a.csv?Token=s3cr3t: HTTP 500') returning id")
q "insert into ledger.source (pipeline, url) values
       ('old', 'https://me:pw@h/a.csv?Token=s3cr3t&y=1'),
       ('old', 'https://you:pw2@h/a.csv?Token=n3w70k3n&y=1'),
       ('old', 'https://h/b.csv?sig=s3cr3t#access_token=s3cr3t&x=1');
   insert into ledger.file (run_id, source_id, url, status, error)
   select $old, id, url, 'failed', 'GET ' || url || ': HTTP 500' from ledger.source
    where pipeline = 'old' order by id;
   update ledger.source s set file_id = f.id from ledger.file f
    where f.source_id = s.id and s.url like '%n3w70k3n%';
   delete from ledger.migration where version = 10"
etl migrate
is_rc 0 "migration 010 runs again"
is "$(q "select url from ledger.source where pipeline = 'old' order by id")" \
"$(printf '%s\n' "https://***@h/a.csv?Token=***&y=1#ledger-source-$(q "select min(id) from ledger.source where pipeline = 'old'")" \
    "https://***@h/a.csv?Token=***&y=1" "https://h/b.csv?sig=***#access_token=***&x=1")" \
    "010 redacts old sources; the one loaded last keeps the URL"
is "$(q "select url || ' ' || error from ledger.file where run_id = $old order by id")" \
"$(printf '%s\n' "https://***@h/a.csv?Token=***&y=1 GET https://***@h/a.csv?Token=***&y=1: HTTP 500" \
    "https://***@h/a.csv?Token=***&y=1 GET https://***@h/a.csv?Token=***&y=1: HTTP 500" \
    "https://h/b.csv?sig=***#access_token=***&x=1 GET https://h/b.csv?sig=***#access_token=***&x=1: HTTP 500")" \
    "010 redacts old files' URLs and errors"
is "$(q "select error from ledger.run where id = $old")" \
    "GET https://***@h/a.csv?Token=***: HTTP 500" "010 redacts old runs' errors"
no_secret "$(everything)" "no secret anywhere after the migration"

done_testing
