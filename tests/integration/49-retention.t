#!/bin/bash
# 49-retention: a version refused for its content is asked for again with
# its own validators and, unchanged (304, or 200 with the same SHA-256),
# recorded failed without a parse; a changed version is parsed, and a good
# one loads.  Then `ewc-etl prune` (and --dry-run, which deletes nothing and
# says the same) deletes the old runs with their files, rejects and tasks,
# keeping every file the warehouse or an as-of answer needs, whose
# answers stay the same; the spool loses its old files nobody names and
# keeps the named ones, the young ones and what is not its own.  status
# shows the sizes; a run prunes at its end.
. "$(dirname "$0")/../lib/env.sh"

HEAD='地区,结对地区,指标,时期,数值,单位,备注'
cat >"$T/www/a.csv" <<CSV
$HEAD
全国,,引导企业投资,2021,2193,家,
全国,,共建产业园区,2021,482,个,
全国,,互派干部,2022年上半年,2448,人,
全国,,引导企业投资,明年,1,家,
CSV
cat >"$T/www/b.csv" <<CSV
$HEAD
广东,,引导企业投资,2021,100,家,
火星,,引导企业投资,2021,5,家,
广东,,共建产业园区,2021,abc,个,
CSV
touch -d '2024-01-01 00:00:00 UTC' "$T/www/a.csv" "$T/www/b.csv"

setup_all
a=$EWC_SOURCE_URL/a.csv
b=$EWC_SOURCE_URL/b.csv
c=$EWC_SOURCE_URL/c.csv
write_pipeline --ratio 0.3 "$a" "$b" "$c"
cat >>"$T/pipeline.yaml" <<'EOF2'
retention: { ledger: 30d, spool: 30d }
EOF2
src() { q "select $1 from ledger.source where url = '$2'"; }
file_of() { q "select $1 from ledger.file where url = '$2' and run_id = $3"; }

# --- run 1: b.csv refused (2 of 3 rows rejected) -------------------------
etl run
is_rc 4 "run 1: partial (b.csv refused, c.csv missing)"
is "$(file_of "status || '|' || rows_in || '|' || rows_rejected" "$b" 1)" "failed|3|2" \
   "run 1: b.csv refused after its 3 rows were read"
refused1=$(file_of id "$b" 1)
is "$(src "refused_file_id = $refused1 and refused_etag is not null" "$b")" "t" \
   "the source remembers the refused version and its ETag"
is "$(src "file_id is null" "$b")" "t" "b.csv has no loaded version"

# --- run 2: unchanged: a conditional GET with the refused ETag, 304 ------
etl run
is_rc 4 "run 2: still partial"
is "$(http_count GET /b.csv 304)" "1" "run 2: b.csv asked conditionally, 304"
is "$(http_count GET /b.csv 200)" "1" "b.csv downloaded once so far"
is "$(file_of "status || '|' || http_status || '|' || rows_in" "$b" 2)" "failed|304|0" \
   "run 2: b.csv recorded failed, 304, nothing read"
like "$(file_of error "$b" 2)" "^unchanged since it was refused: .*reject.*\(ledger file $refused1; not parsed again" \
   "run 2: the error says unchanged since refused, the reason and the refused file"
is "$(q "select count(*) from ledger.reject r join ledger.file f on f.id = r.file_id
           where f.run_id = 2")" "0" "run 2: no rejects written: not parsed again"
is "$(q "select count(*) from ledger.task where run_id = 2 and url = '$b'")" "0" \
   "run 2: no task to load b.csv"
like "$ETL_ERR" "b.csv failed: unchanged since it was refused" "run 2: the log says so"
is "$(file_of "status" "$a" 2)" "unchanged" "run 2: a.csv unchanged"

# --- run 3: a server without validators: 200, the same SHA-256 -----------
q "update ledger.source set refused_etag = null, refused_last_modified = null where url = '$b'"
etl run
is "$(http_count GET /b.csv 200)" "2" "run 3: b.csv downloaded (nothing to ask with)"
is "$(file_of "status || '|' || http_status || '|' || rows_in" "$b" 3)" "failed|200|0" \
   "run 3: the same SHA-256: failed, nothing read"
like "$(file_of error "$b" 3)" "^unchanged since it was refused" "run 3: unchanged since refused"
is "$(src "refused_file_id = $refused1 and refused_etag is not null" "$b")" "t" \
   "run 3: the response's ETag is kept for the next GET"

# --- run 4: a.csv re-published with a new note only (no revision), b.csv
# changed but still refused: parsed again, the new version remembered ----
sed -i 's/^全国,,共建产业园区,2021,482,个,$/全国,,共建产业园区,2021,482,个,新注/' "$T/www/a.csv"
printf '%s\n' "$HEAD" '广东,,引导企业投资,2021,100,家,' '火星,,引导企业投资,2021,6,家,' \
    '广东,,共建产业园区,2021,x,个,' >"$T/www/b.csv"
etl run
is "$(file_of "status || '|' || rows_in || '|' || rows_rejected" "$b" 4)" "failed|3|2" \
   "run 4: the changed b.csv is parsed and refused"
is "$(src "refused_file_id" "$b")" "$(file_of id "$b" 4)" "the source remembers the new refused version"
is "$(file_of "status || '|' || rows_changed || '|' || rows_added" "$a" 4)" "loaded|0|0" \
   "run 4: a.csv v2 loaded, no figure revised"

# --- run 5: a.csv changes a figure; b.csv becomes good -------------------
sed -i 's/2193/2200/' "$T/www/a.csv"
printf '%s\n' "$HEAD" '广东,,引导企业投资,2021,100,家,' >"$T/www/b.csv"
etl run
is_rc 4 "run 5: c.csv is still missing"
is "$(file_of "status || '|' || rows_loaded" "$b" 5)" "loaded|1" "run 5: the good b.csv loads"
is "$(src "file_id = $(file_of id "$b" 5) and refused_file_id is null and refused_etag is null" "$b")" \
   "t" "the source's version is the loaded one; the refusal is forgotten"
is "$(q "select count(*) from warehouse.revision")" "1" "run 5: a.csv's one change is a revision"

# --- run 6: nothing changed -----------------------------------------------
etl run
is "$(q "select string_agg(status, ',' order by url) from ledger.file where run_id = 6")" \
   "unchanged,unchanged,failed" "run 6: a and b unchanged, c missing"

# --- backdate runs 1..5 by 60 days (and the start of revisions with them) -
q "update ledger.run set started_at = started_at - interval '60 days',
                         finished_at = finished_at - interval '60 days' where id <= 5;
   update ledger.file set started_at = started_at - interval '60 days',
                          finished_at = finished_at - interval '60 days' where run_id <= 5;
   update warehouse.history_start set started_at = started_at - interval '60 days'"
# halfway between two loads of a.csv: runs follow each other within a second
a_done() { q "select finished_at from ledger.file where url = '$a' and run_id = $1"; }
t_between=$(q "select timestamptz '$(a_done 1)' + (timestamptz '$(a_done 4)' - timestamptz '$(a_done 1)') / 2")
t_v2=$(q "select timestamptz '$(a_done 4)' + (timestamptz '$(a_done 5)' - timestamptz '$(a_done 4)') / 2")
asof_all() {
    for t in "$t_between" "$t_v2" "now()"; do
        [ "$t" = "now()" ] || t="'$t'"
        q "select indicator, region, period_start, trim_scale(value), qualifier, source, file_id
             from ewc.observation_asof($t) order by 1, 2, 3, 6"
        echo --
    done
}
asof_before=$(asof_all)
like "$asof_before" "2193" "as of before run 5 a.csv said 2193"
a_files=$(q "select string_agg(id::text, ',' order by id) from ledger.file
              where url = '$a' and status = 'loaded'")

# the spool: the four bodies the ledger names, two refused ones nobody
# names any more, an old temporary file, a young unknown body, and things
# that are not the spool's: a foreign file, a symlink and a directory with
# hash names (the symlink pointing outside)
spool=$T/spool
hash_of() { sha256sum "$1" | cut -d' ' -f1; }
old_refused=$(q "select string_agg(sha256, ' ' order by id) from ledger.file
                  where url = '$b' and rows_in > 0 and status = 'failed'")
is "$(echo $old_refused | wc -w)" "2" "two refused versions of b.csv were spooled"
echo x >"$spool/.tmp-Ab12Cd"
young=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
echo young >"$spool/$young"
echo foreign >"$spool/README"
mkdir -p "$T/outside"
echo keep >"$T/outside/target"
link=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
ln -s "$T/outside/target" "$spool/$link"
mkdir "$spool/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
for f in "$spool"/*  "$spool/.tmp-Ab12Cd"; do
    [ "$(basename "$f")" = "$young" ] || touch -h -d '90 days ago' "$f"
done
spool_before=$(ls -A "$spool" | LC_ALL=C sort)

counts() {
    q "select (select count(*) from ledger.run) || ' runs, ' ||
              (select count(*) from ledger.file) || ' files, ' ||
              (select count(*) from ledger.reject) || ' rejects, ' ||
              (select count(*) from ledger.task) || ' tasks'"
}
counts_before=$(counts)
is "$counts_before" "6 runs, 18 files, 7 rejects, 6 tasks" "before: 6 runs, 18 files, 7 rejects, 6 tasks"

# --- prune --dry-run: nothing deleted, the counts printed -----------------
etl prune --dry-run
is_rc 0 "prune --dry-run exits 0"
dry=$ETL_OUT
is "$(counts)" "$counts_before" "--dry-run deleted no ledger row"
is "$(ls -A "$spool" | LC_ALL=C sort)" "$spool_before" "--dry-run deleted no spool file"
is "$(sed -n 1p <<<"$dry")" \
   "ledger, older than 30d: would delete 2 runs, 11 files, 4 rejects, 0 reconciliations, 6 tasks; kept 4 old files the warehouse needs" \
   "--dry-run: what the ledger would lose"
like "$(sed -n 2p <<<"$dry")" \
   "^spool $spool, older than 30d: would delete 3 files \([0-9.]+ [kM]?B\); kept 4 old files the ledger names$" \
   "--dry-run: what the spool would lose"

# --- prune ------------------------------------------------------------------
etl prune
is_rc 0 "prune exits 0"
is "$ETL_OUT" "${dry//would delete/deleted}" "prune prints what --dry-run said, done"
is "$(counts)" "4 runs, 7 files, 3 rejects, 0 tasks" \
   "after: 4 runs, 7 files, 3 rejects (of the kept files), no task (all of old runs)"
is "$(q "select string_agg(id::text, ',' order by id) from ledger.run")" "1,4,5,6" \
   "kept: runs 1, 4 and 5 (they hold a.csv's and b.csv's versions); run 6 is young"
is "$(q "select string_agg(id::text, ',' order by id) from ledger.file
           where url = '$a' and status = 'loaded'")" "$a_files" \
   "every loaded version of a.csv is kept (current, revised, and the one only as-of needs)"
is "$(q "select count(*) from ledger.file where run_id <= 5 and url <> '$a'")" "1" \
   "of the old runs' other files only b.csv's current version is kept"
is "$(q "select count(*) from warehouse.observation o
           where not exists (select 1 from ledger.file f where f.id = o.file_id)")" "0" \
   "every observation's file is kept"
is "$(q "select count(*) from warehouse.revision v
           where not exists (select 1 from ledger.file f where f.id = v.file_id)
              or not exists (select 1 from ledger.file f where f.id = v.old_file_id)")" "0" \
   "every revision's files are kept"
is "$(q "select count(*) from ledger.reject r join ledger.file f on f.id = r.file_id
           where f.url = '$a' and f.run_id = 1")" "1" "the kept a.csv v1 keeps its reject"
is "$(q "select count(*) from ledger.file where run_id = 6")" "3" "the young run keeps its files"
is "$(asof_all)" "$asof_before" "ewc.observation_asof answers the same before and after"

# the spool
for s in $old_refused; do
    ok "the old refused body ${s:0:8} is deleted" -- test ! -e "$spool/$s"
done
ok "the old temporary file is deleted" -- test ! -e "$spool/.tmp-Ab12Cd"
for s in $(q "select distinct sha256 from ledger.file where sha256 is not null"); do
    ok "the named body ${s:0:8} is kept" -- test -f "$spool/$s"
done
is "$(q "select count(distinct sha256) from ledger.file where sha256 is not null")" "4" \
   "four bodies are still named"
ok "the young unknown body is kept" -- test -f "$spool/$young"
ok "the foreign file is kept" -- test -f "$spool/README"
ok "the symlink with a hash name is kept" -- test -L "$spool/$link"
ok "its target outside the spool is kept" -- test -f "$T/outside/target"
ok "the directory with a hash name is kept" -- test -d "$spool/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

etl prune
is "$(sed -n 1p <<<"$ETL_OUT")" \
   "ledger, older than 30d: deleted 0 runs, 0 files, 0 rejects, 0 reconciliations, 0 tasks; kept 4 old files the warehouse needs" \
   "a second prune finds nothing more"

# --- backfill --offline still finds its bodies --------------------------------
# (the year-less sources are not a backfill's: the current versions' bodies are checked instead)
for s in $(q "select sha256 from ledger.source where sha256 is not null"); do
    ok "the current version ${s:0:8} is in the spool for backfill --offline" -- test -f "$spool/$s"
done

# --- status: the sizes ----------------------------------------------------
own=$(find "$spool" -maxdepth 1 -type f -regextype posix-extended \
        \( -regex '.*/[0-9a-f]{64}' -o -name '.tmp-*' \) | wc -l)
is "$own" "5" "the spool holds 5 files of its own: 4 named, 1 young"
bytes=$(find "$spool" -maxdepth 1 -type f -regextype posix-extended \
        \( -regex '.*/[0-9a-f]{64}' -o -name '.tmp-*' \) -printf '%s\n' |
        awk '{ n += $1 } END { print n + 0 }')
etl status
is_rc 0 "status exits 0"
like "$(sed -n 1p <<<"$ETL_OUT")" \
     "^ledger [0-9.]+ (B|kB|MB) \(4 runs, 7 files\); spool [0-9.]+ (B|kB) in $own files \($spool\)$" \
     "status's first line: the ledger's size, runs and files; the spool's size and files"
etl status --json
is_rc 0 "status --json exits 0"
is "$(python3 -c 'import json,sys; d = json.load(sys.stdin)
print(d["ledger"]["runs"], d["ledger"]["files"], d["ledger"]["bytes"] > 100000,
      d["spool"]["files"], d["spool"]["bytes"], d["spool"]["dir"], len(d["runs"]))' <<<"$ETL_OUT")" \
   "4 7 True $own $bytes $spool 4" "status --json: ledger and spool sizes, and the runs"
ledger_bytes=$(q "select sum(pg_total_relation_size(c.oid)) from pg_class c
                   join pg_namespace n on n.oid = c.relnamespace
                  where n.nspname = 'ledger' and c.relkind = 'r'")
is "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["ledger"]["bytes"])' <<<"$ETL_OUT")" \
   "$ledger_bytes" "the ledger's bytes are pg_total_relation_size of its tables"

# --- a run prunes at its end -------------------------------------------------
q "update ledger.run set finished_at = finished_at - interval '60 days' where id = 6;
   update ledger.file set finished_at = finished_at - interval '60 days' where run_id = 6"
etl run
like "$ETL_ERR" "prune: deleted 1 runs, 3 files, 0 rejects, 0 reconciliations, 0 tasks" \
     "run 7 pruned the old run 6 at its end, and said so"
is "$(q "select string_agg(id::text, ',' order by id) from ledger.run")" "1,4,5,7" \
   "run 6 is gone, run 7 is there"

# --- retention off: nothing is pruned ------------------------------------
sed -i 's/^retention: .*/retention: { ledger: off, spool: off }/' "$T/pipeline.yaml"
q "update ledger.run set finished_at = finished_at - interval '60 days' where id = 7"
etl prune
is "$ETL_OUT" "ledger: retention off, nothing deleted
spool: retention off, nothing deleted" "retention off: prune deletes nothing"
is "$(q "select count(*) from ledger.run")" "4" "all four runs are still there"

# --- a bad retention is a configuration error --------------------------------
sed -i 's/^retention: .*/retention: { ledger: 90 }/' "$T/pipeline.yaml"
etl prune
is_rc 2 "a duration without a unit: exit 2"
is "$ETL_ERR" "ewc-etl: $T/pipeline.yaml:13:22: retention \"ledger\": duration \"90\" needs a unit (s, min, h, d or w), e.g. \"90d\"" \
   "the error names file:line:col and the duration"

done_testing
