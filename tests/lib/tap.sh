# tests/lib/tap.sh -- sourced: minimal TAP producer for bash test files, so
# that `prove` runs them.  Failures print the mismatch as "# " diagnostics
# on stderr (prove shows stderr even without -v).
#
#   plan N | done_testing        the plan, before or after the tests
#   ok NAME -- CMD ARGS...       passes when CMD exits 0
#   is GOT EXPECTED NAME         string equality
#   isnt GOT UNEXPECTED NAME
#   like GOT ERE NAME            bash [[ =~ ]] match (extended regex)
#   unlike GOT ERE NAME
#   pass NAME | fail NAME
#   diag TEXT... | note TEXT...  comments on stderr / stdout
#   skip_all REASON | bail_out REASON
#
# The script's exit status is the number of failed tests (at most 254), or
# 255 when the plan was not met.

TAP_N=0
TAP_FAILED=0
TAP_PLANNED=
TAP_DONE=
TAP_ON_FAIL=        # optional: a function name called after each failure

plan() {
    TAP_PLANNED=$1
    echo "1..$1"
}

# Each argument on its own line(s), every line prefixed "# ".
diag() {
    printf '%s\n' "$@" | sed 's/^/# /' >&2
}

note() {
    printf '%s\n' "$@" | sed 's/^/# /'
}

tap_result() {     # tap_result 0|1 NAME
    TAP_N=$((TAP_N + 1))
    local name=${2//#/\\#}
    if [ "$1" -eq 0 ]; then
        echo "ok $TAP_N - $name"
        return 0
    fi
    echo "not ok $TAP_N - $name"
    TAP_FAILED=$((TAP_FAILED + 1))
    local caller=${BASH_SOURCE[2]:-?}:${BASH_LINENO[1]:-?}
    diag "  Failed test '$2'" "  at $caller"
    return 1
}

tap_fail_hook() {
    if [ -n "$TAP_ON_FAIL" ]; then
        "$TAP_ON_FAIL"
    fi
    return 1
}

pass() { tap_result 0 "$1"; }
fail() { tap_result 1 "$1"; tap_fail_hook; }

ok() {              # ok NAME -- CMD ARGS...
    local name=$1
    shift
    [ "${1:-}" = "--" ] && shift
    if "$@"; then
        tap_result 0 "$name"
    else
        tap_result 1 "$name"
        diag "    command failed: $*"
        tap_fail_hook
    fi
}

is() {
    if [ "$1" == "$2" ]; then
        tap_result 0 "$3"
    else
        tap_result 1 "$3"
        if [[ $1 == *$'\n'* || $2 == *$'\n'* ]]; then
            diag "    diff -u expected got:" \
                 "$(diff -u --label expected --label got \
                        <(printf '%s\n' "$2") <(printf '%s\n' "$1"))"
        else
            diag "         got: '$1'" "    expected: '$2'"
        fi
        tap_fail_hook
    fi
}

isnt() {
    if [ "$1" != "$2" ]; then
        tap_result 0 "$3"
    else
        tap_result 1 "$3"
        diag "         got: '$1'" "    expected: anything else"
        tap_fail_hook
    fi
}

like() {
    if [[ $1 =~ $2 ]]; then
        tap_result 0 "$3"
    else
        tap_result 1 "$3"
        diag "                  '$1'" "    doesn't match '$2'"
        tap_fail_hook
    fi
}

unlike() {
    if ! [[ $1 =~ $2 ]]; then
        tap_result 0 "$3"
    else
        tap_result 1 "$3"
        diag "                  '$1'" "          matches '$2'"
        tap_fail_hook
    fi
}

skip_all() {
    echo "1..0 # SKIP $*"
    TAP_DONE=1
    exit 0
}

bail_out() {
    echo "Bail out! $*"
    TAP_DONE=1
    exit 255
}

done_testing() {
    if [ -z "$TAP_PLANNED" ]; then
        echo "1..$TAP_N"
    elif [ "$TAP_PLANNED" -ne "$TAP_N" ]; then
        diag "Looks like you planned $TAP_PLANNED tests but ran $TAP_N."
        TAP_DONE=1
        exit 255
    fi
    TAP_DONE=1
    if [ "$TAP_FAILED" -gt 0 ]; then
        diag "Looks like you failed $TAP_FAILED test(s) of $TAP_N."
        exit $((TAP_FAILED > 254 ? 254 : TAP_FAILED))
    fi
    exit 0
}
