#!/bin/bash
# 10-config: `ewc-etl check` on broken pipeline YAMLs: each error says
# file:line:col and what is wrong; exit 2.  Usage errors exit 2 too.
# No database or HTTP server is needed.
. "$(dirname "$0")/../lib/env.sh"

C=$REPO/config/catalog
Y=$T/p.yaml
cat >"$Y" <<YAML
catalog: $C
spool: $T/spool
pipelines:
  indicators:
    stages:
      - name: fetch
        kind: http_fetch
        urls: ["http://127.0.0.1:1/a.csv"]
      - name: parse
        kind: parse_csv
        needs: [fetch]
      - name: normalize
        kind: normalize
        needs: [parse]
      - name: validate
        kind: validate
        needs: [normalize]
      - name: load
        kind: pg_load
        needs: [validate]
YAML
etl_raw -c "$Y" check
is_rc 0 "a good pipeline: exit 0"
like "$ETL_OUT" "fetch.*parse.*normalize.*validate.*load" \
   "check prints the graph in order"

# 1. unknown key in a stage (line 8, column 9)
sed 's/^        urls:/        urll:/' "$Y" >"$T/unknown-key.yaml"
etl_raw -c "$T/unknown-key.yaml" check
is_rc 2 "unknown key: exit 2"
like "$ETL_ERR" "$T/unknown-key\.yaml:8:9" "unknown key: file:line:col of the key"
like "$ETL_ERR" "unknown key \"urll\"" "unknown key: names the key"
like "$ETL_ERR" "urls" "unknown key: lists the expected keys"
is "$ETL_OUT" "" "nothing on stdout"

# 2. unknown top-level key (line 3, column 1)
{ echo "catalog: $C"; echo "spool: $T/spool"; echo "pipelinez: {}"; } >"$T/top.yaml"
etl_raw -c "$T/top.yaml" check
is_rc 2 "unknown top-level key: exit 2"
like "$ETL_ERR" "$T/top\.yaml:3:1" "unknown top-level key: file:line:col"
like "$ETL_ERR" "pipelinez" "unknown top-level key: names it"

# 3. a cycle: parse needs validate (line 11)
sed 's/^        needs: \[fetch\]/        needs: [validate]/' "$Y" >"$T/cycle.yaml"
etl_raw -c "$T/cycle.yaml" check
is_rc 2 "cycle in needs: exit 2"
like "$ETL_ERR" "cycle" "cycle: says cycle"
like "$ETL_ERR" "parse" "cycle: names parse"
like "$ETL_ERR" "normalize" "cycle: names normalize"
like "$ETL_ERR" "validate" "cycle: names validate"
like "$ETL_ERR" "$T/cycle\.yaml:[0-9]+:[0-9]+" "cycle: file:line:col"

# 4. unknown stage in needs (line 20, column 17: the item)
sed 's/^        needs: \[validate\]/        needs: [validat]/' "$Y" >"$T/needs.yaml"
etl_raw -c "$T/needs.yaml" check
is_rc 2 "unknown needs: exit 2"
like "$ETL_ERR" "$T/needs\.yaml:20:17" "unknown needs: file:line:col of the item"
like "$ETL_ERR" "unknown stage \"validat\"" "unknown needs: names the stage"

# 5. ${VAR} not set, no default (line 8, column 16: the scalar)
unset EWC_TEST_UNSET_VAR
sed 's|^        urls: .*|        urls: ["${EWC_TEST_UNSET_VAR}/a.csv"]|' "$Y" >"$T/unset.yaml"
etl_raw -c "$T/unset.yaml" check
is_rc 2 "unset \${VAR}: exit 2"
like "$ETL_ERR" "EWC_TEST_UNSET_VAR" "unset \${VAR}: names the variable"
like "$ETL_ERR" "$T/unset\.yaml:8:16" "unset \${VAR}: file:line:col of the scalar"
# ... with a default it is fine
sed 's|^        urls: .*|        urls: ["${EWC_TEST_UNSET_VAR:-http://127.0.0.1:1}/a.csv"]|' \
    "$Y" >"$T/default.yaml"
etl_raw -c "$T/default.yaml" check
is_rc 0 "\${VAR:-default}: exit 0"
EWC_TEST_UNSET_VAR=http://127.0.0.1:1
export EWC_TEST_UNSET_VAR
etl_raw -c "$T/unset.yaml" check
is_rc 0 "the same file with the variable set: exit 0"
unset EWC_TEST_UNSET_VAR

# 6. unknown stage kind (line 7, column 15)
sed 's/^        kind: http_fetch/        kind: http_fetchh/' "$Y" >"$T/kind.yaml"
etl_raw -c "$T/kind.yaml" check
is_rc 2 "unknown kind: exit 2"
like "$ETL_ERR" "$T/kind\.yaml:7:15" "unknown kind: file:line:col of the value"
like "$ETL_ERR" "http_fetchh" "unknown kind: names it"

# 7. wrong type: retries not a number (line 9, column 18)
sed 's|^        urls: .*|&\n        retries: many|' "$Y" >"$T/type.yaml"
etl_raw -c "$T/type.yaml" check
is_rc 2 "retries: many -> exit 2"
like "$ETL_ERR" "$T/type\.yaml:9:18" "wrong type: file:line:col of the value"
like "$ETL_ERR" "retries" "wrong type: names the key"

# 8. two stages with one name (line 9, column 15: the second)
sed 's/^      - name: parse/      - name: fetch/' "$Y" >"$T/dup.yaml"
etl_raw -c "$T/dup.yaml" check
is_rc 2 "duplicate stage name: exit 2"
like "$ETL_ERR" "$T/dup\.yaml:9:15" "duplicate stage name: file:line:col"
like "$ETL_ERR" "fetch" "duplicate stage name: names it"

# 9. YAML syntax error (line 4, an unclosed flow sequence)
printf 'catalog: %s\nspool: /tmp\npipelines:\n  p: { stages: [ }\n' "$C" \
    >"$T/syntax.yaml"
etl_raw -c "$T/syntax.yaml" check
is_rc 2 "YAML syntax error: exit 2"
like "$ETL_ERR" "$T/syntax\.yaml:4:[0-9]+" "syntax error: file:line:col"

# 10. missing config file
etl_raw -c "$T/nonexistent.yaml" check
is_rc 2 "missing config file: exit 2"
like "$ETL_ERR" "$T/nonexistent\.yaml" "missing config file: names it"
like "$ETL_ERR" "[Nn]o such file" "missing config file: says why"

# 11. usage errors
etl_raw -c "$Y" frobnicate
is_rc 2 "unknown command: exit 2"
like "$ETL_ERR" "frobnicate" "unknown command: names it"
etl_raw -c "$Y" run --year notayear
is_rc 2 "run --year notayear: exit 2"
etl_raw --no-such-option
is_rc 2 "unknown option: exit 2"
etl_raw help
is_rc 0 "help: exit 0"
like "$ETL_OUT" "migrate" "help lists the commands"

# 12. EWC_CONFIG is the default for -c
export EWC_CONFIG=$T/unknown-key.yaml
etl_raw check
unset EWC_CONFIG
is_rc 2 "EWC_CONFIG names the config file"
like "$ETL_ERR" "unknown-key\.yaml:8:9" "and is the one checked"

done_testing
