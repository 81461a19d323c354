#!/bin/bash
# 34-systemd: the systemd units pass `systemd-analyze verify` without a word
# (a warning is a failure), as shipped and as installed; `make install`
# puts the binary, man page, config, catalog, units (with the installed
# paths) and the sysusers file under DESTDIR; the units carry the
# settings operations rely on; `systemd-analyze security` rates each service
# at or below the exposure it was brought to; a failed run is reported by
# ewc-etl-failure@.service.  Skipped only without systemd-analyze.
#
# The sandbox in action: no systemd runs as PID 1 here (a container), so the
# units themselves are not started.  What the kernel enforces through
# seccomp is rebuilt from the unit file instead (SystemCallFilter=,
# SystemCallErrorNumber=, SystemCallArchitectures=native,
# RestrictAddressFamilies=, MemoryDenyWriteExecute=, one filter each, as
# systemd stacks them) and a run (2 worker processes, an .xls reader child)
# and the daemon (READY=1, a scheduled run, SIGTERM) are made under it.
# Not proved here: the namespaces and mounts (ProtectSystem=, PrivateTmp=,
# PrivateUsers=, ProtectProc=, ProcSubset=, ...), which need systemd.
. "$(dirname "$0")/../lib/env.sh"
. "$TESTS_LIB/proc.sh"

if ! command -v systemd-analyze >/dev/null; then
    skip_all "systemd-analyze not found (tests/install-deps installs systemd)"
fi

UNITS=(ewc-etl.service ewc-etl-nightly.service ewc-etl-nightly.timer
       ewc-etl-backfill@.service ewc-etl-failure@.service)
# the services that run ewc-etl, and the most systemd-analyze security may
# rate them (0 = none, 10 = unprotected); the failure hook, root with a
# command of the site's, is looser
ETL_SERVICES=(ewc-etl.service ewc-etl-nightly.service ewc-etl-backfill@.service)
EXPOSURE_MAX=1.1
FAILURE_EXPOSURE_MAX=3.6

# verify_units DIR FROM: copy DIR's units to a fresh dir with ExecStart's
# binary FROM replaced by the one under test (verify wants it to exist),
# the template as ewc-etl-backfill@2021.service; verify each one.
verify_units() {
    local dir=$1 from=$2 label=$3 v u out rc
    v=$(mktemp -d "$T/verify.XXXXXX")
    for u in "${UNITS[@]}"; do
        sed "s#$from#$EWC_ETL#g" "$dir/$u" >"$v/${u/@./@2021.}"
    done
    for u in "${UNITS[@]}"; do
        u=${u/@./@2021.}
        out=$(cd "$v" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$v/$u" 2>&1)
        rc=$?
        is "$rc|$out" "0|" "$label: systemd-analyze verify $u: exit 0, no output"
    done
}

## the units as shipped
ok "systemd/ has the 5 units and the sysusers file" -- test -f "$REPO/systemd/ewc-etl.service" \
    -a -f "$REPO/systemd/ewc-etl-nightly.service" -a -f "$REPO/systemd/ewc-etl-nightly.timer" \
    -a -f "$REPO/systemd/ewc-etl-backfill@.service" \
    -a -f "$REPO/systemd/ewc-etl-failure@.service" -a -f "$REPO/systemd/ewc-etl.sysusers"
is "$(cd "$REPO/systemd" && ls | sort | tr '\n' ' ')" \
   "ewc-etl-backfill@.service ewc-etl-failure@.service ewc-etl-nightly.service ewc-etl-nightly.timer ewc-etl.service ewc-etl.sysusers " \
   "no other file in systemd/ (each one is verified here)"
verify_units "$REPO/systemd" /usr/local/bin/ewc-etl shipped

## make install
case $EWC_ETL in
"$REPO/ewc-etl") mkargs=(-o ewc-etl) ;;
"$REPO/build-asan/ewc-etl") mkargs=(SANITIZER=address -o build-asan/ewc-etl) ;;
*) mkargs=() ;;
esac
inst=$T/inst
out=$(make -C "$REPO" --no-print-directory "${mkargs[@]}" install \
      DESTDIR="$inst" PREFIX=/usr SYSCONFDIR=/etc 2>&1)
rc=$?
is "$rc" "0" "make install DESTDIR=... PREFIX=/usr SYSCONFDIR=/etc: exit 0" ||
    diag "$out"
ok "the binary: /usr/bin/ewc-etl, executable" -- test -x "$inst/usr/bin/ewc-etl"
is "$(stat -c %a "$inst/usr/bin/ewc-etl")" "755" "the binary is mode 755"
is "$("$inst/usr/bin/ewc-etl" version)" "$("$EWC_ETL" version)" \
   "the installed binary runs: the same version"
ok "the man page: /usr/share/man/man1/ewc-etl.1" -- \
    cmp -s "$REPO/etl/ewc-etl.1" "$inst/usr/share/man/man1/ewc-etl.1"
ok "the config: /etc/ewc-etl/pipeline.yaml" -- \
    cmp -s "$REPO/config/pipeline.yaml" "$inst/etc/ewc-etl/pipeline.yaml"
is "$(cd "$inst/etc/ewc-etl/catalog" && ls | sort)" \
   "$(cd "$REPO/config/catalog" && ls -- *.yaml | sort)" \
   "the catalog: every config/catalog/*.yaml in /etc/ewc-etl/catalog"
etl_raw -c "$inst/etc/ewc-etl/pipeline.yaml" check
is_rc 0 "the installed config checks with the installed catalog"
sd=$inst/usr/lib/systemd/system
is "$(cd "$sd" && ls | sort | tr '\n' ' ')" \
   "ewc-etl-backfill@.service ewc-etl-failure@.service ewc-etl-nightly.service ewc-etl-nightly.timer ewc-etl.service " \
   "the units: in /usr/lib/systemd/system"
is "$(stat -c %a "$sd/ewc-etl.service")" "644" "units are mode 644"
is "$(cat "$inst/usr/lib/sysusers.d/ewc-etl.conf")" "$(cat "$REPO/systemd/ewc-etl.sysusers")" \
   "the sysusers file: /usr/lib/sysusers.d/ewc-etl.conf"
is "$(cd "$sd" && grep -h '^ExecStart=' "${ETL_SERVICES[@]}" | sort)" "$(printf '%s\n' \
    'ExecStart=/usr/bin/ewc-etl backfill --year %i --wait' \
    'ExecStart=/usr/bin/ewc-etl daemon' \
    'ExecStart=/usr/bin/ewc-etl run --kind nightly --wait')" \
   "installed units run /usr/bin/ewc-etl"
is "$(cd "$sd" && grep -h '^Environment=EWC_CONFIG=' "${ETL_SERVICES[@]}" | sort -u)" \
   "Environment=EWC_CONFIG=/etc/ewc-etl/pipeline.yaml" \
   "installed units read /etc/ewc-etl/pipeline.yaml"
is "$(grep -l '/usr/local' "$sd"/* | wc -l)" "0" "no /usr/local path left in the units"
verify_units "$sd" /usr/bin/ewc-etl installed
like "$("$inst/usr/bin/ewc-etl" --help)" "/etc/ewc-etl/pipeline\.yaml\)" \
   "the installed binary's default config is SYSCONFDIR's: /etc/ewc-etl/pipeline.yaml"
unlike "$("$inst/usr/bin/ewc-etl" --help)" "/usr/local/etc" \
   "(and not the build's default /usr/local/etc)"
is "$(stat -c '%a %s' "$inst/etc/ewc-etl/pgpass")" "600 0" \
   "the credential file /etc/ewc-etl/pgpass: created empty, mode 600"
is "$(cd "$sd" && grep -h '^LoadCredential=' "${ETL_SERVICES[@]}" | sort -u)" \
   "LoadCredential=pgpass:/etc/ewc-etl/pgpass" "the units read the credential from there"
ok "the licence: /usr/share/doc/ewc-etl/LICENSE" -- \
    cmp -s "$REPO/LICENSE" "$inst/usr/share/doc/ewc-etl/LICENSE"
# an upgrade keeps the operator's files
echo '# edited by the operator' >>"$inst/etc/ewc-etl/pipeline.yaml"
echo 'db:5432:ewc:ewc:secret' >"$inst/etc/ewc-etl/pgpass"
out=$(make -C "$REPO" --no-print-directory "${mkargs[@]}" install \
      DESTDIR="$inst" PREFIX=/usr SYSCONFDIR=/etc 2>&1)
is "$?" "0" "make install again: exit 0" || diag "$out"
is "$(tail -n 1 "$inst/etc/ewc-etl/pipeline.yaml")" "# edited by the operator" \
   "a second install keeps the operator's pipeline.yaml"
ok "and puts the shipped one next to it as pipeline.yaml.dist" -- \
    cmp -s "$REPO/config/pipeline.yaml" "$inst/etc/ewc-etl/pipeline.yaml.dist"
is "$(cat "$inst/etc/ewc-etl/pgpass")" "db:5432:ewc:ewc:secret" "and keeps the credential file"

## what the units must say
svc=$sd/ewc-etl.service
has() {     # has FILE LINE-REGEX
    grep -Eqx -- "$2" "$1"
}
ok "daemon: Type=notify" -- has "$svc" 'Type=notify'
ok "daemon: WatchdogSec set" -- has "$svc" 'WatchdogSec=[0-9]+(min|s|h)?'
ok "daemon: Restart=on-failure" -- has "$svc" 'Restart=on-failure'
ok "daemon: ExecReload sends SIGHUP" -- has "$svc" 'ExecReload=/bin/kill -HUP \$MAINPID'
for line in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
            'ReadWritePaths=/var/lib/ewc-etl'; do
    for u in ewc-etl.service ewc-etl-nightly.service ewc-etl-backfill@.service; do
        ok "$u: $line" -- has "$sd/$u" "$line"
    done
done
ok "timer: Persistent=true" -- has "$sd/ewc-etl-nightly.timer" 'Persistent=true'
ok "timer: RandomizedDelaySec set" -- \
    has "$sd/ewc-etl-nightly.timer" 'RandomizedDelaySec=[0-9]+(min|s|h)?'
ok "timer: OnCalendar set" -- has "$sd/ewc-etl-nightly.timer" 'OnCalendar=.+'
zone=$(awk '$1 == "timezone:" { print $2; exit }' "$REPO/config/pipeline.yaml")
is "$(sed -n 's/^OnCalendar=.* //p' "$sd/ewc-etl-nightly.timer")" "$zone" \
   "timer: OnCalendar states the pipeline's time zone ($zone)"
ok "nightly and backfill: Type=oneshot" -- \
    test "$(grep -lx 'Type=oneshot' "$sd/ewc-etl-nightly.service" \
            "$sd/ewc-etl-backfill@.service" | wc -l)" -eq 2
ok "exit 3 (rows rejected) is a success of the oneshot units" -- \
    test "$(grep -lx 'SuccessExitStatus=3' "$sd/ewc-etl-nightly.service" \
            "$sd/ewc-etl-backfill@.service" | wc -l)" -eq 2
user=$(awk '$1 == "u" { print $2 }' "$REPO/systemd/ewc-etl.sysusers")
is "$user" "ewc-etl" "sysusers creates the user ewc-etl"
is "$(cd "$sd" && grep -h '^User=' "${ETL_SERVICES[@]}" | sort -u)" "User=$user" \
   "every service of ewc-etl runs as that user"

## the sandbox: what each service of ewc-etl says, and what it is worth
for line in 'CapabilityBoundingSet=' 'AmbientCapabilities=' PrivateDevices=yes \
            DevicePolicy=closed PrivateUsers=yes ProtectClock=yes ProtectHostname=yes \
            ProtectKernelLogs=yes ProtectKernelTunables=yes ProtectKernelModules=yes \
            ProtectControlGroups=yes ProtectProc=invisible ProcSubset=pid \
            'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' RestrictNamespaces=yes \
            RestrictRealtime=yes RestrictSUIDSGID=yes LockPersonality=yes \
            MemoryDenyWriteExecute=yes RemoveIPC=yes KeyringMode=private UMask=0077 \
            SystemCallArchitectures=native SystemCallFilter=@system-service \
            'SystemCallFilter=~@privileged @resources' SystemCallErrorNumber=EPERM; do
    n=0
    for u in "${ETL_SERVICES[@]}"; do
        has "$sd/$u" "$line" && n=$((n + 1))
    done
    is "$n" "${#ETL_SERVICES[@]}" "every service of ewc-etl: $line"
done
for line in 'IPAddressDeny=.*' 'PrivateNetwork=yes'; do
    is "$(cd "$sd" && grep -lEx -- "$line" "${ETL_SERVICES[@]}" | wc -l)" "0" \
       "no service of ewc-etl has $line (it reaches any HTTP host)"
done

# exposure UNIT: the "Overall exposure level" figure of systemd-analyze
# security --offline=yes, e.g. 1.1
exposure() {
    SYSTEMD_COLORS=0 systemd-analyze security --no-pager --offline=yes "$1" 2>&1 |
        sed -n 's/.*Overall exposure level for .*: \([0-9][0-9]*\.[0-9]\) .*/\1/p'
}
at_most() {     # at_most A B: A <= B (decimals)
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 <= b + 0) }'
}
for u in "${ETL_SERVICES[@]}" ewc-etl-failure@.service; do
    max=$EXPOSURE_MAX
    [ "$u" = ewc-etl-failure@.service ] && max=$FAILURE_EXPOSURE_MAX
    e=$(exposure "$REPO/systemd/$u")
    ok "$u: exposure '$e' <= $max (systemd-analyze security)" -- at_most "$e" "$max"
done

## a failed run is reported: ewc-etl-failure@.service
fh=$sd/ewc-etl-failure@.service
for u in ewc-etl-nightly.service ewc-etl-backfill@.service; do
    ok "$u: OnFailure=ewc-etl-failure@%n.service" -- \
        has "$sd/$u" 'OnFailure=ewc-etl-failure@%n\.service'
done
ok "failure hook: Type=oneshot" -- has "$fh" 'Type=oneshot'
ok "failure hook: its output is logged at priority err" -- has "$fh" 'SyslogLevel=err'
ok "failure hook: the failed unit's status into the journal" -- \
    has "$fh" 'ExecStart=-/bin/systemctl status --no-pager --full --lines=[0-9]+ %i'
ok "failure hook: the site's command, from /etc/default/ewc-etl-failure" -- \
    has "$fh" 'EnvironmentFile=-/etc/default/ewc-etl-failure'
ok "failure hook: runs EWC_FAILURE_COMMAND with the unit's name" -- \
    grep -q '^ExecStart=/bin/sh -c .*EWC_FAILURE_COMMAND.* ewc-etl-failure %i$' "$fh"
# the hook's shell line as systemd runs it ("$$" is a "$"), with a command
hook=$(sed -n "s/^ExecStart=\/bin\/sh -c '\(.*\)' ewc-etl-failure %i\$/\1/p" "$fh")
hook=${hook//\$\$/\$}
out=$(EWC_FAILURE_COMMAND="echo failed:" sh -c "$hook" ewc-etl-failure ewc-etl-nightly.service)
is "$out" "failed: ewc-etl-nightly.service" "the hook runs the command with the unit's name"
out=$(unset EWC_FAILURE_COMMAND; sh -c "$hook" ewc-etl-failure x.service; echo "rc=$?")
is "$out" "rc=0" "without a command: nothing, exit 0"

## the seccomp part of the sandbox, rebuilt from the unit and applied
case $EWC_ETL in
*/build-asan/*) sandbox="the sanitizer build maps and reads what a sandbox forbids" ;;
*) sandbox= ;;
esac
if [ -z "$sandbox" ] && ! python3 -c 'import ctypes; ctypes.CDLL("libseccomp.so.2")' \
        2>/dev/null; then
    sandbox="no libseccomp.so.2"
fi
if [ -n "$sandbox" ]; then
    note "skipped: ewc-etl under the units' seccomp filters: $sandbox"
    done_testing
fi
note "PID 1 is $(ps -p 1 -o comm= 2>/dev/null || echo '?'): the units are not started;" \
     "their seccomp filters are rebuilt and applied to ewc-etl"
cat >"$T/sandbox.py" <<'PY'
# sandbox.py UNIT PROGRAM ARGS...: exec PROGRAM under the seccomp filters
# that UNIT's SystemCallFilter=, SystemCallErrorNumber=,
# SystemCallArchitectures=native, RestrictAddressFamilies= and
# MemoryDenyWriteExecute= describe, built as systemd builds them (one
# filter each, stacked; libseccomp, native ABI only; the syscall list is
# loaded last, as loading a filter takes seccomp(), which it may not hold).
import ctypes, errno, os, subprocess, sys

unit, argv = sys.argv[1], sys.argv[2:]
lines = [l.strip() for l in open(unit, encoding="utf-8")]

def setting(key):
    return [l.split("=", 1)[1] for l in lines if l.startswith(key + "=")]

def expand(name, seen=None):
    """A syscall or @group, groups expanded (systemd-analyze syscall-filter)."""
    if not name.startswith("@"):
        return {name}
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager", name],
                         check=True, capture_output=True, text=True).stdout
    names = set()
    for l in out.splitlines()[1:]:
        l = l.strip()
        if not l or l.startswith("#"):
            continue
        names |= expand(l)
    return names

allow = None
for value in setting("SystemCallFilter"):
    deny = value.startswith("~")
    items = set()
    for w in value.lstrip("~").split():
        items |= expand(w)
    if allow is None:
        if deny:
            sys.exit("sandbox.py: only an allow list first is supported")
        allow = set()
    allow = allow - items if deny else allow | items
if allow is None:
    sys.exit("sandbox.py: %s has no SystemCallFilter=" % unit)
errno_name = (setting("SystemCallErrorNumber") or ["EPERM"])[-1]
filter_errno = getattr(errno, errno_name)

lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
lib.seccomp_init.restype = ctypes.c_void_p
lib.seccomp_init.argtypes = [ctypes.c_uint32]
lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]

class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]

lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                       ctypes.c_uint, ctypes.POINTER(ArgCmp)]
lib.seccomp_load.argtypes = [ctypes.c_void_p]
ALLOW = 0x7fff0000
CMP_EQ, CMP_GT, CMP_MASKED_EQ = 4, 6, 7

def act_errno(e):
    return 0x00050000 | (e & 0xffff)

def nr(name):
    n = lib.seccomp_syscall_resolve_name(name.encode())
    return None if n == -1 else n

def rule(ctx, action, name, *cmps):
    n = nr(name)
    if n is None:
        return
    arr = (ArgCmp * max(len(cmps), 1))(*[ArgCmp(*c) for c in cmps])
    # a syscall this ABI lacks is refused by libseccomp: nothing to filter
    lib.seccomp_rule_add_array(ctx, action, n, len(cmps), arr)

def load(ctx):
    rc = lib.seccomp_load(ctx)
    if rc != 0:
        sys.exit("sandbox.py: seccomp_load: %s" % os.strerror(-rc))

# 1. RestrictAddressFamilies=: socket() of another family: EAFNOSUPPORT
families = setting("RestrictAddressFamilies")
if families:
    import socket
    keep = {int(getattr(socket, f)) for f in families[-1].split()}
    ctx = lib.seccomp_init(ALLOW)
    top = max(keep)
    for af in range(0, top):
        if af not in keep:
            rule(ctx, act_errno(errno.EAFNOSUPPORT), "socket", (0, CMP_EQ, af, 0))
    rule(ctx, act_errno(errno.EAFNOSUPPORT), "socket", (0, CMP_GT, top, 0))
    load(ctx)

# 2. MemoryDenyWriteExecute=yes: no W+X mapping, no X added later
if "yes" in setting("MemoryDenyWriteExecute"):
    PROT_WRITE, PROT_EXEC, SHM_EXEC = 2, 4, 0o100000
    ctx = lib.seccomp_init(ALLOW)
    rule(ctx, act_errno(errno.EPERM), "mmap",
         (2, CMP_MASKED_EQ, PROT_WRITE | PROT_EXEC, PROT_WRITE | PROT_EXEC))
    rule(ctx, act_errno(errno.EPERM), "mprotect", (2, CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC))
    rule(ctx, act_errno(errno.EPERM), "pkey_mprotect", (2, CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC))
    rule(ctx, act_errno(errno.EPERM), "shmat", (2, CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC))
    load(ctx)

# 3. SystemCallFilter=: the allow list, anything else fails with the errno
ctx = lib.seccomp_init(act_errno(filter_errno))
for name in sorted(allow):
    rule(ctx, ALLOW, name)
load(ctx)

os.execv(argv[0], argv)
PY
cat >"$T/probe.py" <<'PY'
# one denied call of each filter, and one allowed: the errno, or "ok"
import errno, mmap, os, socket
def t(name, f):
    try:
        f()
        print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode.get(e.errno, e.errno))
t("setpriority", lambda: os.setpriority(os.PRIO_PROCESS, 0,
                                        os.getpriority(os.PRIO_PROCESS, 0)))
t("netlink", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close())
t("inet", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close())
t("wx-mmap", lambda: mmap.mmap(-1, 4096, prot=7).close())
PY
unit=$REPO/systemd/ewc-etl.service
is "$(python3 "$T/probe.py" | tr '\n' ' ')" "setpriority ok netlink ok inet ok wx-mmap ok " \
   "control: outside the sandbox, the probe's calls succeed"
is "$(python3 "$T/sandbox.py" "$unit" /usr/bin/python3 "$T/probe.py" | tr '\n' ' ')" \
   "setpriority EPERM netlink EAFNOSUPPORT inet ok wx-mmap EPERM " \
   "inside: @resources EPERM, AF_NETLINK EAFNOSUPPORT, AF_INET ok, W+X EPERM"

# ewc-etl under the daemon unit's filters (the three units' are the same)
printf '#!/bin/sh\nexec python3 "%s" "%s" "%s" "$@"\n' "$T/sandbox.py" "$unit" "$EWC_ETL" \
    >"$T/ewc-etl-sandboxed"
chmod +x "$T/ewc-etl-sandboxed"
real_etl=$EWC_ETL
# seccomp's refusals as ewc-etl or libc would word them
DENIED_RE='Operation not permitted|Address family not supported|Bad system call'

cp "$REPO/tests/data/http/national-2021.csv" "$T/www/a.csv"
printf '%s\n' '地区,结对地区,指标,时期,数值,单位,备注' \
    '全国,,结对学校,2021,824,所,sandbox' '全国,,结对医院,2021,582,所,sandbox' >"$T/www/b.csv"
files=("$T/www/a.csv" "$T/www/b.csv")
if /usr/bin/python3 -c 'import xlwt' 2>/dev/null; then
    /usr/bin/python3 - "$T/www/old.xls" <<'PY'
import sys, xlwt
wb = xlwt.Workbook(encoding="utf-8")
ws = wb.add_sheet("数据")
for r, row in enumerate([["地区", "指标", "时期", "数值", "单位"],
                         ["全国", "无偿援助资金", "1996—2011", 78.6, "亿元"],
                         ["全国", "组织劳务输出", "1996—2011", 265, "万人次"]]):
    for c, v in enumerate(row):
        ws.write(r, c, v)
wb.save(sys.argv[1])
PY
    files+=("$T/www/old.xls")
else
    note "no python3-xlwt: the .xls reader child is not exercised"
fi
setup_all
urls=()
for f in "${files[@]}"; do
    urls+=("$EWC_SOURCE_URL/${f##*/}")
done

write_pipeline_ops "${urls[@]}"
EWC_ETL=$T/ewc-etl-sandboxed
etl run --workers 2
EWC_ETL=$real_etl
is_rc 0 "sandboxed: a run with 2 worker processes: exit 0"
is "$(q "select count(*) from ledger.file where status = 'loaded'
          and run_id = (select max(id) from ledger.run)")" "${#files[@]}" \
   "sandboxed: every file fetched over HTTP and loaded (csv; .xls by its reader child)"
unlike "$ETL_ERR" "$DENIED_RE" "sandboxed: no call refused in its log"

# the daemon: READY=1, a scheduled run that loads every file again, SIGTERM
write_pipeline_ops --set 'schedule: "@every 2s"' "${urls[@]}"
q "set client_min_messages = warning; truncate ledger.source cascade" >/dev/null
notify_start || bail_out "could not start the notify listener"
before=$(q "select coalesce(max(id), 0) from ledger.run")
EWC_ETL=$T/ewc-etl-sandboxed
bg_etl daemon daemon
EWC_ETL=$real_etl
pd=$BG_PID
ok "sandboxed daemon: READY=1" -- wait_until 20 notify_has READY=1 ||
    diag "$(cat "$T/daemon.err")"
ok "sandboxed daemon: a scheduled run ends ok" -- \
    wait_until 30 eval '[ "$(q "select count(*) from ledger.run
                                 where id > $before and status = '\''ok'\''")" -ge 1 ]' ||
    diag "$(cat "$T/daemon.err")"
bg_signal_wait TERM "$pd" 20
is "$BG_RC" "0" "sandboxed daemon: SIGTERM: exit 0"
unlike "$(cat "$T/daemon.err")" "$DENIED_RE" "sandboxed daemon: no call refused in its log"
notify_stop

done_testing
