#!/bin/bash
# 48-check: `ewc-etl check` as a linter: every error of the file in one
# pass, each "file:line:col: message" at the start of its line on stderr
# (no "ewc-etl: " before it), then "N errors", exit 2; "did you mean" for
# a misspelt key, stage kind, stage name in needs and indicator code; a
# pipeline without a load stage and a spool that cannot be created are
# errors.  Run still stops at the first error.  No database is needed.
. "$(dirname "$0")/../lib/env.sh"

C=$REPO/config/catalog
NL=$'\n'

# The line of the first line of file $1 matching $2, and the column where
# $3 starts on it.
line_of() { grep -n -m1 -- "$2" "$1" | cut -d: -f1; }
col_of() { local l; l=$(grep -m1 -- "$2" "$1"); l=${l%%"$3"*}; echo $(( ${#l} + 1 )); }

# The error lines of check: those that start with the file's path.
errors_of() { printf '%s\n' "$ETL_ERR" | grep -c -- "^$1:[0-9]*:[0-9]*: "; }

# 1. three independent errors in three pipelines: all three, one pass
Y=$T/three.yaml
cat >"$Y" <<YAML
catalog: $C
spool: $T/spool
pipelines:
  first:
    stages:
      - { name: fetch, kind: http_fetch, urls: ["http://127.0.0.1:1/a.csv"] }
      - { name: parse, kind: parse_csv, needs: [fetch] }
      - { name: normalize, kind: normalize, needs: [parse] }
      - name: validate
        kind: validate
        needs: [normalize]
        max_rejct_ratio: 0.25
      - { name: load, kind: pg_load, needs: [validate] }
  second:
    stages:
      - name: fetch
        kind: http_fetch
        urls: ["http://127.0.0.1:1/b.csv"]
        retries: many
      - { name: parse, kind: parse_csv, needs: [fetch] }
      - { name: load, kind: pg_load, needs: [parse] }
  third:
    stages:
      - { name: fetch, kind: http_fetch, urls: ["http://127.0.0.1:1/c.csv"] }
      - { name: parse, kind: parse_csv, needs: [fetch] }
      - name: load
        kind: pg_lod
        needs: [parse]
YAML
l1=$(line_of "$Y" max_rejct_ratio); c1=$(col_of "$Y" max_rejct_ratio max_rejct_ratio)
l2=$(line_of "$Y" 'retries: many'); c2=$(col_of "$Y" 'retries: many' many)
l3=$(line_of "$Y" 'kind: pg_lod'); c3=$(col_of "$Y" 'kind: pg_lod' pg_lod)
is "$l1:$c1 $l2:$c2 $l3:$c3" "12:9 19:18 27:15" "the expected places, computed from the file"
etl_raw -c "$Y" check
is_rc 2 "three errors: exit 2"
is "$(errors_of "$Y")" 3 "three errors: three file:line:col lines"
is "$(printf '%s\n' "$ETL_ERR" | wc -l)" 4 "three errors: and nothing else but the summary"
is "$(printf '%s\n' "$ETL_ERR" | tail -n 1)" "3 errors" "the summary line: 3 errors"
is "$(printf '%s\n' "$ETL_ERR" | sed -n 1p)" \
   "$Y:$l1:$c1: unknown key \"max_rejct_ratio\" in stage \"validate\" (validate); hint: did you mean \"max_reject_ratio\"?" \
   "the misspelt key: at the key, did you mean max_reject_ratio"
is "$(printf '%s\n' "$ETL_ERR" | sed -n 2p)" \
   "$Y:$l2:$c2: expected an integer, found \"many\" (key \"retries\")" \
   "the bad value type: at the value"
is "$(printf '%s\n' "$ETL_ERR" | sed -n 3p)" \
   "$Y:$l3:$c3: unknown stage kind \"pg_lod\"; hint: did you mean \"pg_load\"?" \
   "the misspelt kind: at the value, did you mean pg_load"
unlike "$ETL_ERR" "ewc-etl: " "no program name before check's errors"
is "$ETL_OUT" "" "nothing on stdout"

# run refuses the same file as before: the first error only, after "ewc-etl: "
etl_raw -c "$Y" run
is_rc 2 "run refuses it: exit 2"
is "$ETL_ERR" "ewc-etl: $Y:$l1:$c1: unknown key \"max_rejct_ratio\" in stage \"validate\" (validate); hint: did you mean \"max_reject_ratio\"?" \
   "run: the first error, as before, with the program's name"

# 2. a misspelt stage name in needs, and a misspelt indicator code; listed
#    by line although the code is found first (when validate is configured)
Y=$T/names.yaml
cat >"$Y" <<YAML
catalog: $C
spool: $T/spool
pipelines:
  indicators:
    stages:
      - { name: fetch, kind: http_fetch, urls: ["http://127.0.0.1:1/a.csv"] }
      - { name: parse, kind: parse_csv, needs: [fetch] }
      - { name: normalize, kind: normalize, needs: [parse] }
      - name: validate
        kind: validate
        needs: [normalise]
        ranges:
          fiscl_aid_funds: { min: 0, max: 1e12 }
      - { name: load, kind: pg_load, needs: [validate] }
YAML
l1=$(line_of "$Y" normalise); c1=$(col_of "$Y" normalise normalise)
l2=$(line_of "$Y" fiscl_aid_funds); c2=$(col_of "$Y" fiscl_aid_funds fiscl_aid_funds)
etl_raw -c "$Y" check
is_rc 2 "needs and code: exit 2"
is "$(errors_of "$Y")" 2 "needs and code: two errors"
like "$ETL_ERR" "(^|$NL)$Y:$l2:$c2: unknown indicator code \"fiscl_aid_funds\" in ranges; hint: did you mean \"fiscal_aid_funds\"\\?" \
     "the misspelt indicator code: at the key of ranges, did you mean fiscal_aid_funds"
like "$ETL_ERR" "(^|$NL)$Y:$l1:$c1: pipeline \"indicators\": unknown stage \"normalise\" in needs of \"validate\"; hint: did you mean \"normalize\"\\?" \
     "the misspelt needs: at the item, did you mean normalize"
is "$(printf '%s\n' "$ETL_ERR" | grep -o '^[^:]*:[0-9]*' | cut -d: -f2 | tr '\n' ' ')" \
   "$l1 $l2 " "listed in the order of their lines"
is "$(printf '%s\n' "$ETL_ERR" | tail -n 1)" "2 errors" "the summary line: 2 errors"

# 3. no load stage: rows that go nowhere, files that go nowhere
Y=$T/noload.yaml
cat >"$Y" <<YAML
catalog: $C
spool: $T/spool
pipelines:
  rows:
    stages:
      - { name: fetch, kind: http_fetch, urls: ["http://127.0.0.1:1/a.csv"] }
      - { name: parse, kind: parse_csv, needs: [fetch] }
      - { name: validate, kind: validate, needs: [parse] }
  files:
    stages:
      - { name: fetch, kind: http_fetch, urls: ["http://127.0.0.1:1/b.csv"] }
  views:
    stages:
      - { name: refresh, kind: sql, sql: "select 1" }
YAML
l1=$(line_of "$Y" 'name: validate'); c1=$(col_of "$Y" 'name: validate' '{')
l2=$(line_of "$Y" 'b.csv'); c2=$(col_of "$Y" 'b.csv' '{')
etl_raw -c "$Y" check
is_rc 2 "no load stage: exit 2"
is "$(errors_of "$Y")" 2 "no load stage: one error per chain that goes nowhere"
like "$ETL_ERR" "(^|$NL)$Y:$l1:$c1: pipeline \"rows\" has no load stage: the rows of stage \"validate\" \\(validate\\) go nowhere; hint: .*pg_load" \
     "rows that go nowhere: at the last stage, naming the sink kinds"
like "$ETL_ERR" "(^|$NL)$Y:$l2:$c2: pipeline \"files\" has no load stage: the files of stage \"fetch\" \\(http_fetch\\) go nowhere; hint: .*parse_csv" \
     "files that go nowhere: at the fetch stage, naming the kinds that read files"
unlike "$ETL_ERR" "views" "a pipeline of run stages only (sql) needs no load"

# 4. a spool that cannot be created: under a regular file
Y=$T/spool.yaml
touch "$T/plain"
cat >"$Y" <<YAML
catalog: $C
spool: $T/plain/spool
pipelines:
  indicators:
    stages:
      - { name: fetch, kind: http_fetch, urls: ["http://127.0.0.1:1/a.csv"] }
      - { name: parse, kind: parse_csv, needs: [fetch] }
      - { name: load, kind: pg_load, needs: [parse] }
YAML
etl_raw -c "$Y" check
is_rc 2 "unwritable spool: exit 2"
is "$ETL_ERR" "$Y:2:8: spool directory \"$T/plain/spool\" cannot be created: $T/plain is not a directory
1 error" "unwritable spool: at the value, says why; 1 error"
ok "check creates no spool" -- test ! -e "$T/spool-new"
sed "s|^spool: .*|spool: $T/spool-new/a/b|" "$Y" >"$T/spool-new.yaml"
etl_raw -c "$T/spool-new.yaml" check
is_rc 0 "a spool that does not exist yet but can be created: exit 0"
ok "and check did not create it" -- test ! -e "$T/spool-new"

# 5. a valid file: exit 0, no error lines, the graph on stdout
Y=$T/good.yaml
cat >"$Y" <<YAML
catalog: $C
spool: $T/spool
pipelines:
  indicators:
    stages:
      - { name: fetch, kind: http_fetch, urls: ["http://127.0.0.1:1/a.csv"] }
      - { name: parse, kind: parse_csv, needs: [fetch] }
      - { name: normalize, kind: normalize, needs: [parse] }
      - { name: validate, kind: validate, needs: [normalize], max_reject_ratio: 0.25,
          ranges: { fiscal_aid_funds: { min: 0, max: 1e12 } } }
      - { name: load, kind: pg_load, needs: [validate] }
YAML
etl_raw -c "$Y" check
is_rc 0 "a valid file: exit 0"
is "$ETL_ERR" "" "a valid file: nothing on stderr"
like "$ETL_OUT" "fetch.*parse.*normalize.*validate.*load" "a valid file: the graph"

# 6. a YAML syntax error stops the file: one error, at its line
printf 'catalog: %s\nspool: %s\npipelines:\n  p: { stages: [ }\n  q: { stages: 5 }\n' \
    "$C" "$T/spool" >"$T/syntax.yaml"
etl_raw -c "$T/syntax.yaml" check
is_rc 2 "syntax error: exit 2"
like "$ETL_ERR" "^$T/syntax\.yaml:4:[0-9]+: invalid YAML" "syntax error: file:line:col"
is "$(printf '%s\n' "$ETL_ERR" | tail -n 1)" "1 error" "syntax error: the file stops there"

# 7. a missing file: placed at the file alone
etl_raw -c "$T/none.yaml" check
is_rc 2 "missing file: exit 2"
like "$ETL_ERR" "^$T/none\.yaml: could not open \"$T/none\.yaml\": No such file" \
     "missing file: file: message"

done_testing
