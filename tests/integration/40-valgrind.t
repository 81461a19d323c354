#!/bin/bash
# 40-valgrind: the bundled sample end to end -- fetch, parse (CSV, GB18030,
# gzip, SDMX-CSV, a printed wide table, an .xlsx workbook, JSON), normalize,
# validate, load -- with ewc-etl under valgrind: no memory error, no
# definite leak, in the parent and in the children it forks (workers).
# The sanitizer build runs the same sample under ASan+UBSan in 20-domain
# (make asan); this file is skipped there, as valgrind and ASan exclude
# each other.
. "$(dirname "$0")/../lib/env.sh"

case $EWC_ETL in
*build-asan*) skip_all "an AddressSanitizer build: 20-domain runs the sample under ASan" ;;
esac
command -v valgrind >/dev/null || skip_all "valgrind is not installed (tests/install-deps)"

cp "$REPO"/config/sample/* "$T/www/"
sed -e "s|^catalog: catalog\$|catalog: $REPO/config/catalog|" \
    "$REPO/config/pipeline.yaml" >"$T/pipeline.yaml"
setup_all

VG_LOG=$T/valgrind.%p.log
real=$EWC_ETL
EWC_ETL="valgrind --quiet --error-exitcode=99 --leak-check=full
         --errors-for-leak-kinds=definite --show-leak-kinds=definite
         --suppressions=$REPO/tests/valgrind.supp
         --trace-children=no --child-silent-after-fork=no --log-file=$VG_LOG $real"
# shellcheck disable=SC2086
etl_vg() {
    ETL_CMD="valgrind ewc-etl $*"
    ETL_OUT=$($EWC_ETL -c "$T/pipeline.yaml" "$@" 2>"$T/.stderr")
    ETL_RC=$?
    ETL_ERR=$(cat "$T/.stderr")
}

etl_vg run --workers 2
is_rc 3 "the sample loads under valgrind (exit 3: its bad rows rejected)"
is "$(q "select count(*) from ledger.file where status = 'loaded'")" \
   "$(ls "$REPO"/config/sample | grep -vc README)" "every sample file loaded"
errors=$(cat "$T"/valgrind.*.log 2>/dev/null)
is "$errors" "" "no memory error and no definite leak in any process"
ok "valgrind wrote a log per process (parent and workers)" -- \
    test "$(ls "$T"/valgrind.*.log | wc -l)" -ge 2

etl_vg status
is_rc 0 "status under valgrind"
is "$(cat "$T"/valgrind.*.log)" "" "still no error after status"

done_testing
