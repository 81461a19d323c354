#!/bin/bash
# 34-systemd: the systemd units pass `systemd-analyze verify` without a word
# (a warning is a failure), as shipped and as installed; `make install`
# puts the binary, man page, config, catalog, units (with the installed
# paths) and the sysusers file under DESTDIR; the units carry the
# settings operations rely on.  Skipped only without systemd-analyze.
. "$(dirname "$0")/../lib/env.sh"

if ! command -v systemd-analyze >/dev/null; then
    skip_all "systemd-analyze not found (tests/install-deps installs systemd)"
fi

UNITS=(ewc-etl.service ewc-etl-nightly.service ewc-etl-nightly.timer
       ewc-etl-backfill@.service)

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
ok "systemd/ has the 4 units and the sysusers file" -- test -f "$REPO/systemd/ewc-etl.service" \
    -a -f "$REPO/systemd/ewc-etl-nightly.service" -a -f "$REPO/systemd/ewc-etl-nightly.timer" \
    -a -f "$REPO/systemd/ewc-etl-backfill@.service" -a -f "$REPO/systemd/ewc-etl.sysusers"
is "$(cd "$REPO/systemd" && ls | sort | tr '\n' ' ')" \
   "ewc-etl-backfill@.service ewc-etl-nightly.service ewc-etl-nightly.timer ewc-etl.service ewc-etl.sysusers " \
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
   "ewc-etl-backfill@.service ewc-etl-nightly.service ewc-etl-nightly.timer ewc-etl.service " \
   "the units: in /usr/lib/systemd/system"
is "$(stat -c %a "$sd/ewc-etl.service")" "644" "units are mode 644"
is "$(cat "$inst/usr/lib/sysusers.d/ewc-etl.conf")" "$(cat "$REPO/systemd/ewc-etl.sysusers")" \
   "the sysusers file: /usr/lib/sysusers.d/ewc-etl.conf"
is "$(grep -h '^ExecStart=' "$sd"/*.service | sort)" "$(printf '%s\n' \
    'ExecStart=/usr/bin/ewc-etl backfill --year %i --wait' \
    'ExecStart=/usr/bin/ewc-etl daemon' \
    'ExecStart=/usr/bin/ewc-etl run --kind nightly --wait')" \
   "installed units run /usr/bin/ewc-etl"
is "$(grep -h '^Environment=EWC_CONFIG=' "$sd"/*.service | sort -u)" \
   "Environment=EWC_CONFIG=/etc/ewc-etl/pipeline.yaml" \
   "installed units read /etc/ewc-etl/pipeline.yaml"
is "$(grep -l '/usr/local' "$sd"/* | wc -l)" "0" "no /usr/local path left in the units"
verify_units "$sd" /usr/bin/ewc-etl installed

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
ok "nightly and backfill: Type=oneshot" -- \
    test "$(grep -lx 'Type=oneshot' "$sd/ewc-etl-nightly.service" \
            "$sd/ewc-etl-backfill@.service" | wc -l)" -eq 2
ok "exit 3 (rows rejected) is a success of the oneshot units" -- \
    test "$(grep -lx 'SuccessExitStatus=3' "$sd/ewc-etl-nightly.service" \
            "$sd/ewc-etl-backfill@.service" | wc -l)" -eq 2
user=$(awk '$1 == "u" { print $2 }' "$REPO/systemd/ewc-etl.sysusers")
is "$user" "ewc-etl" "sysusers creates the user ewc-etl"
is "$(grep -h '^User=' "$sd"/*.service | sort -u)" "User=$user" \
   "every service runs as that user"

done_testing
