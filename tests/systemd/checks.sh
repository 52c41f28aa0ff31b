#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The checks of tests/systemd/run-boot-test, run inside the booted
# container as root by corral-boot-test.service, with the real systemctl,
# systemd-cgls and journalctl, the way a user would use them.
#
# Writes to /results: checks.txt (one "ok NAME: detail" or
# "FAIL NAME: why" line per check), log.txt (what was run), cgls.txt and
# status.txt (systemd-cgls and systemctl status of corral.service while
# every unit runs), journal-entry.txt (one corrald entry, verbose),
# journal.txt (the whole boot's journal), failed-units.txt, and done once
# every check has run.
#
# The units of the configuration carry CORRAL_BOOT_TEST=1 in their
# environment: survivors are found by that marker in /proc/*/environ,
# never by name or PID.
set -uo pipefail
export LANG=C.UTF-8 SYSTEMD_COLORS=0 SYSTEMD_PAGER=cat

R=/results
exec >>"$R/log.txt" 2>&1
touch "$R/booted"
# The test ends with the machine, whatever happens here.
trap 'journalctl -b --no-pager >"$R/journal.txt" 2>&1; systemctl --no-block poweroff' EXIT

CONF=/etc/corral/conf.d/boot-test.conf
DROPIN=/etc/systemd/system/corral.service.d/50-boot-test.conf
CGROOT=$(findmnt -n -t cgroup2 -o TARGET | head -n1)
CG="$CGROOT/system.slice/corral.service"

# ---- helpers

REASON=""
MAIN=""
run_check() { # NAME FUNCTION: one result line
        local name=$1
        shift
        echo "== $name $(date +%T.%N)"
        REASON=""
        if "$@"; then
                echo "ok $name${REASON:+: $REASON}" | tee -a "$R/checks.txt"
        else
                echo "FAIL $name: ${REASON:-failed}" | tee -a "$R/checks.txt"
        fi
}

no() { # WHY...: sets the reason of a failure, returns 1
        REASON="$*"
        return 1
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

wait_until() { # SECONDS COMMAND...: 0 once COMMAND succeeds, 1 at the deadline
        local deadline=$(($(now_ms) + $1 * 1000))
        shift
        until "$@"; do
                [ "$(now_ms)" -ge "$deadline" ] && return 1
                sleep 0.1
        done
}

prop() { systemctl show -P "$1" corral.service; }

# "R F S T" from "R running, F failed, S starting, T stopping".
counts() {
        prop StatusText | sed -nE 's/^([0-9]+) running, ([0-9]+) failed, ([0-9]+) starting, ([0-9]+) stopping.*/\1 \2 \3 \4/p'
}

all_running() { # N: StatusText says N running, nothing else
        [ "$(counts)" = "$1 0 0 0" ]
}

procs() { sort -n "$CG/$1/cgroup.procs" 2>/dev/null; }

populated() { grep -qx 'populated 1' "$CG/$1/cgroup.events" 2>/dev/null; }

# "PID:STARTTIME" of every process with the marker: identity across PID reuse.
marked() {
        local f pid
        for f in $(grep -l -a -z -x 'CORRAL_BOOT_TEST=1' /proc/[0-9]*/environ 2>/dev/null); do
                pid=${f#/proc/}
                pid=${pid%/environ}
                echo "$pid:$(cut -d' ' -f22 "/proc/$pid/stat" 2>/dev/null)"
        done | sort
}

cgroup_of() { sed -n 's/^0:://p' "/proc/$1/cgroup" 2>/dev/null; }

env_of() { tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null; }

journal_sync() { journalctl --sync; }

# Entries of corrald's own journal (by its PID), matches as arguments.
corrald_journal() {
        local pid=$1
        shift
        journalctl --no-pager -o cat _SYSTEMD_UNIT=corral.service _PID="$pid" "$@"
}

reloads_above() { # MAINPID N: corrald has logged more than N reloads
        journal_sync
        [ "$(corrald_journal "$1" CORRAL_EVENT=reload | wc -l)" -gt "$2" ]
}

write_config() { # v1 | v2 | bad | v3: the services of the test
        local tmp="$CONF.tmp"
        {
                cat <<'EOF'
# Written by tests/systemd/checks.sh.
[program:keep]
command = /bin/sh -c 'echo "keep: hello from $(id -un)"; exec sleep 1000000'
user = nobody
stop_signal = SIGINT
environment = CORRAL_BOOT_TEST=1

[program:web]
instances = 2
command = /bin/sh -c 'sleep 1000000 & echo "web: instance ${INSTANCE} up"; wait'
environment = CORRAL_BOOT_TEST=1

[program:notifier]
ready = notify
command = /bin/sh -c 'echo "notifier: starting"; sleep 3; systemd-notify --ready; echo "notifier: notified"; exec sleep 1000000'
environment = CORRAL_BOOT_TEST=1
EOF
                case $1 in
                v1)
                        cat <<'EOF'

[program:change]
command = /bin/sh -c 'echo "change: version $VERSION"; exec sleep 1000000'
environment = CORRAL_BOOT_TEST=1 VERSION=1

[program:gone]
command = /bin/sleep 1000000
environment = CORRAL_BOOT_TEST=1
EOF
                        ;;
                v2 | bad | v3)
                        cat <<'EOF'

[program:change]
command = /bin/sh -c 'echo "change: version $VERSION"; exec sleep 1000000'
environment = CORRAL_BOOT_TEST=1 VERSION=2

[program:added]
command = /bin/sh -c 'echo "added: here"; exec sleep 1000000'
environment = CORRAL_BOOT_TEST=1
EOF
                        [ "$1" = bad ] && printf '\n[program:broken]\ncomand = /bin/true\n'
                        [ "$1" = v3 ] && cat <<'EOF'

[program:stubborn]
command = /bin/sh -c 'trap "" TERM; echo "stubborn: ignoring SIGTERM"; exec sleep 1000000'
stop_timeout = 6s
environment = CORRAL_BOOT_TEST=1
EOF
                        ;;
                esac
        } >"$tmp"
        chmod 0644 "$tmp"
        mv "$tmp" "$CONF"
}

# Units of each configuration and how many processes each has once running.
# shellcheck disable=SC2034 # read through check_placement's nameref
declare -A EXPECT_V1=([keep]=1 [web@0]=2 [web@1]=2 [notifier]=1 [change]=1 [gone]=1)
# shellcheck disable=SC2034
declare -A EXPECT_V2=([keep]=1 [web@0]=2 [web@1]=2 [notifier]=1 [change]=1 [added]=1)

# Every marked process is in the cgroup of one expected unit, and each
# unit has exactly its expected number: nothing outside, nothing twice.
check_placement() { # NAME of an associative array of expectations
        local -n expect=$1
        local -A seen=()
        local entry pid cg unit n
        for entry in $(marked); do
                pid=${entry%%:*}
                cg=$(cgroup_of "$pid")
                [ -z "$cg" ] && continue # exited meanwhile
                unit=${cg#/system.slice/corral.service/}
                [ "$unit" != "$cg" ] && [ -n "${expect[$unit]+x}" ] ||
                        no "process $pid ($(tr '\0' ' ' </proc/"$pid"/cmdline)) is in $cg, outside every unit" || return
                seen[$unit]=$((${seen[$unit]:-0} + 1))
        done
        for unit in "${!expect[@]}"; do
                n=${seen[$unit]:-0}
                [ "$n" -eq "${expect[$unit]}" ] ||
                        no "$unit has $n processes, expected ${expect[$unit]}: $(procs "$unit" | tr '\n' ' ')" || return
        done
}

# ---- the checks

check_unit_file() {
        local out
        out=$(systemd-analyze verify --man=no corral.service 2>&1) || no "systemd-analyze verify: $out" || return
        [ -z "$out" ] || no "systemd-analyze verify says: $out" || return
        local exe
        exe=$(systemctl show -P ExecStart corral.service | sed -nE 's/.*path=([^ ;]+).*/\1/p')
        [ -x "$exe" ] || no "ExecStart= $exe is not an executable" || return
        REASON="ExecStart=$exe, systemd-analyze verify is silent"
}

# An invalid configuration: systemctl start fails at once (no READY=1),
# the error with file and line is in the journal, and the unit is failed
# without restarts (corrald exits 6, RestartPreventExitStatus=6).
check_start_invalid() {
        write_config bad
        local t0 t1 err
        t0=$(now_ms)
        if systemctl start corral.service; then
                no "systemctl start succeeded with an invalid configuration" || return
        fi
        t1=$(now_ms)
        wait_until 20 eval '[ "$(prop ActiveState)" = failed ]' ||
                no "not failed after 20s: $(prop ActiveState)/$(prop SubState)" || return
        journal_sync
        # By the main process's PID (journald has it from the socket's
        # credentials): _SYSTEMD_UNIT is read from /proc when the entry
        # arrives, and a corrald that exits at once may be gone by then.
        local pid
        pid=$(prop ExecMainPID)
        err=$(journalctl --no-pager -o cat _PID="$pid" SYSLOG_IDENTIFIER=corrald | grep -m1 'boot-test.conf:[0-9]*: unknown key')
        [ -n "$err" ] || no "the error is not in journalctl -u corral" || return
        [ "$(prop NRestarts)" = 0 ] || no "systemd restarted corrald $(prop NRestarts) times for an invalid configuration" || return
        REASON="failed in $((t1 - t0)) ms with '$err'; $(prop NRestarts) restarts, then $(prop Result)"
        systemctl reset-failed corral.service
        rm -f "$CONF"
}

check_start() {
        [ "$(prop ActiveState)" = inactive ] || no "corral.service is $(prop ActiveState) before the test starts it" || return
        write_config v1
        systemctl enable corral.service || no "systemctl enable failed" || return
        [ "$(systemctl is-enabled corral.service)" = enabled ] || no "not enabled after systemctl enable" || return
        local t0 t1 state main st c
        t0=$(now_ms)
        systemctl start corral.service || no "systemctl start failed: $(systemctl status corral --no-pager | tail -5)" || return
        t1=$(now_ms)
        # What systemd says right when start returns: active, with the counts.
        state=$(prop ActiveState)/$(prop SubState)
        st=$(prop StatusText)
        main=$(prop MainPID)
        [ "$state" = active/running ] || no "right after start: $state" || return
        c=$(counts)
        [ -n "$c" ] || no "StatusText '$st' has no counts" || return
        set -- $c
        [ $(($1 + $3)) -eq 6 ] && [ "$2" -eq 0 ] && [ "$4" -eq 0 ] ||
                no "StatusText '$st': expected 6 units running or starting" || return
        # READY=1 came after corrald moved into its leaf and started every unit.
        [ "$(cgroup_of "$main")" = /system.slice/corral.service/supervisor ] ||
                no "corrald ($main) is in $(cgroup_of "$main"), not supervisor" || return
        local u
        for u in "${!EXPECT_V1[@]}"; do
                populated "$u" || no "unit $u has no populated cgroup when start returned" || return
        done
        MAIN=$main
        REASON="returned after $((t1 - t0)) ms: ActiveState=active, StatusText=\"$st\", corrald $main in supervisor, 6 unit cgroups populated"
}

check_notify() {
        local st
        st=$(prop StatusText)
        case $st in *" 1 starting"* | *" 2 starting"*) ;; *) no "notifier not starting before it notifies: '$st'" || return ;; esac
        wait_until 20 all_running 6 || no "not all running after 20s: '$(prop StatusText)'" || return
        journal_sync
        local t_start t_ready n
        t_start=$(corrald_journal "$MAIN" -o short-unix CORRAL_UNIT=notifier CORRAL_EVENT=start | awk 'NR==1 {print $1}')
        t_ready=$(corrald_journal "$MAIN" -o short-unix CORRAL_UNIT=notifier CORRAL_EVENT=ready | awk 'NR==1 {print $1}')
        n=$(corrald_journal "$MAIN" CORRAL_UNIT=notifier CORRAL_EVENT=ready | wc -l)
        [ -n "$t_start" ] && [ -n "$t_ready" ] || no "no start/ready journal entry for notifier" || return
        [ "$n" -eq 1 ] || no "$n ready entries for notifier" || return
        local ms
        ms=$(awk -v a="$t_start" -v b="$t_ready" 'BEGIN {printf "%d", (b - a) * 1000}')
        [ "$ms" -ge 2800 ] || no "notifier was ready ${ms} ms after its start, before it notified (sleep 3)" || return
        journalctl --no-pager -o cat -t notifier | grep -qx 'notifier: notified' ||
                no "'notifier: notified' not in journalctl -t notifier" || return
        REASON="StatusText said starting until systemd-notify --ready; CORRAL_EVENT=ready ${ms} ms after start"
}

check_cgls() {
        systemd-cgls --no-pager -u corral.service >"$R/cgls.txt" 2>&1 || no "systemd-cgls failed: $(cat "$R/cgls.txt")" || return
        systemctl status --no-pager -l corral.service >"$R/status.txt" 2>&1
        head -n1 "$R/cgls.txt" | grep -q '^Unit corral.service (/system.slice/corral.service):' ||
                no "systemd-cgls header: $(head -n1 "$R/cgls.txt")" || return
        # Process lines are "PID command"; the others name a cgroup
        # ("web@0", or "web@0 (#1234)" with its ID).
        local -A listed=()
        local line word group=""
        while IFS= read -r line; do
                # "→ user.corral: main=…" is the unit's state kept with its cgroup
                [[ $line == *"→"* ]] && continue
                line=$(sed -E 's/^[^[:alnum:]]*//' <<<"$line")
                word=${line%% *}
                if [[ $word =~ ^[0-9]+$ ]]; then
                        [ -n "$group" ] && listed[$group]="${listed[$group]:-}$word "
                else
                        group=$word
                fi
        done < <(tail -n +2 "$R/cgls.txt")
        [ "${listed[supervisor]:-}" = "$MAIN " ] || no "supervisor lists '${listed[supervisor]:-}', corrald is $MAIN" || return
        local u want got
        for u in "${!EXPECT_V1[@]}"; do
                want=$(procs "$u" | tr '\n' ' ')
                got=$(tr ' ' '\n' <<<"${listed[$u]:-}" | sed '/^$/d' | sort -n | tr '\n' ' ')
                [ -n "$want" ] && [ "$want" = "$got" ] || no "$u: systemd-cgls lists '$got', cgroup.procs has '$want'" || return
        done
        grep -q 'Active: active (running)' "$R/status.txt" || no "systemctl status: $(grep Active: "$R/status.txt")" || return
        grep -q 'Status: "6 running, 0 failed, 0 starting, 0 stopping"' "$R/status.txt" ||
                no "systemctl status has no 'Status: \"6 running, …\"' line" || return
        REASON="supervisor holds corrald $MAIN; keep, web@0, web@1, change, gone, notifier list exactly their cgroup.procs"
}

check_journal_fields() {
        journal_sync
        local keep n
        keep=$(procs keep)
        n=$(journalctl --no-pager -o cat _SYSTEMD_UNIT=corral.service SYSLOG_IDENTIFIER=corrald \
                CORRAL_UNIT=keep CORRAL_EVENT=start CORRAL_PID="$keep" | wc -l)
        [ "$n" -ge 1 ] || no "no corrald entry with CORRAL_UNIT=keep CORRAL_EVENT=start CORRAL_PID=$keep" || return
        journalctl --no-pager -o verbose -n 1 CORRAL_UNIT=keep CORRAL_EVENT=start >"$R/journal-entry.txt"
        n=$(journalctl --no-pager -o cat CORRAL_UNIT=web@0 | wc -l)
        [ "$n" -ge 1 ] || no "journalctl CORRAL_UNIT=web@0 is empty" || return
        n=$(journalctl --no-pager -o cat CORRAL_EVENT=start _SYSTEMD_UNIT=corral.service | wc -l)
        [ "$n" -ge 6 ] || no "journalctl CORRAL_EVENT=start has $n entries, expected 6" || return
        REASON="journalctl CORRAL_UNIT=keep CORRAL_EVENT=start CORRAL_PID=$keep finds corrald's entry; CORRAL_EVENT=start has $n"
}

check_journal_output() {
        journal_sync
        journalctl --no-pager -o cat -t keep | grep -qx 'keep: hello from nobody' ||
                no "journalctl -t keep: $(journalctl --no-pager -o cat -t keep | head -3)" || return
        journalctl --no-pager -o cat -t web@1 | grep -qx 'web: instance 1 up' ||
                no "journalctl -t web@1: $(journalctl --no-pager -o cat -t web@1 | head -3)" || return
        journalctl --no-pager -o cat -u corral.service | grep -qx 'web: instance 0 up' ||
                no "journalctl -u corral has no line of web@0" || return
        # corralctl status UNIT, as systemctl status: processes and journal lines
        local st keep
        keep=$(main_pid keep)
        st=$(/opt/corral/bin/corralctl status keep 2>&1)
        printf '%s\n' "$st" >"$R/corralctl-status.txt"
        grep -q "^ *$keep sleep" <<<"$st" || no "corralctl status keep lists no process $keep: $st" || return
        grep -q 'keep\[[0-9]*\]: keep: hello from nobody' <<<"$st" ||
                no "corralctl status keep shows no journal line of keep: $st" || return
        grep -q 'corrald\[[0-9]*\]: keep: started, main PID' <<<"$st" ||
                no "corralctl status keep shows no journal entry of corrald about keep: $st" || return
        # corralctl logs reads a journal unit's lines on its side
        local lg
        lg=$(/opt/corral/bin/corralctl logs -n 3 web@1 2>&1)
        printf '%s\n' "$lg" >"$R/corralctl-logs.txt"
        grep -q 'web@1 | web: instance 1 up' <<<"$lg" || no "corralctl logs web@1 shows no journal line: $lg" || return
        REASON="journalctl -t keep / -t web@1 show the units' lines, journalctl -u corral too; corralctl status keep shows its process and its journal lines; corralctl logs web@1 reads them from the journal"
}

# Every unit's main PID: the first process of its cgroup that corrald
# started (one process per unit here, but web has two: its sh is the oldest).
main_pid() { procs "$1" | head -n1; }

check_reload() {
        local keep web0 web1 notifier change
        keep=$(main_pid keep) web0=$(main_pid web@0) web1=$(main_pid web@1)
        notifier=$(main_pid notifier) change=$(main_pid change)
        local gone_pids
        gone_pids=$(procs gone)
        write_config v2
        local t0 t1
        t0=$(now_ms)
        systemctl reload corral.service || no "systemctl reload failed: $(journalctl -u corral -n 5 --no-pager -o cat)" || return
        t1=$(now_ms)
        # Applied when reload returns: the added unit is there already.
        populated added || no "when reload returned, unit added has no populated cgroup" || return
        [ "$(prop ActiveState)" = active ] || no "after reload: $(prop ActiveState)" || return
        journal_sync
        local msg
        msg=$(corrald_journal "$MAIN" CORRAL_EVENT=reload | tail -n1)
        [[ $msg == *"1 added, 1 removed, 1 changed"* ]] || no "reload entry: '$msg'" || return
        wait_until 20 all_running 6 || no "not all running 20s after reload: '$(prop StatusText)'" || return
        wait_until 20 test ! -e "$CG/gone" || no "cgroup of removed unit gone still exists" || return
        local p
        for p in $gone_pids; do
                [ ! -e "/proc/$p" ] || no "process $p of removed unit gone still exists" || return
        done
        local newchange
        newchange=$(main_pid change)
        [ -n "$newchange" ] && [ "$newchange" != "$change" ] || no "change kept PID $change" || return
        env_of "$newchange" | grep -qx VERSION=2 || no "change ($newchange) runs without VERSION=2" || return
        [ "$(main_pid keep)" = "$keep" ] || no "keep's PID changed: $keep -> $(main_pid keep)" || return
        [ "$(main_pid web@0)" = "$web0" ] && [ "$(main_pid web@1)" = "$web1" ] || no "web's PIDs changed" || return
        [ "$(main_pid notifier)" = "$notifier" ] || no "notifier's PID changed" || return
        check_placement EXPECT_V2 || return
        REASON="returned in $((t1 - t0)) ms with added running; '$msg'; keep $keep, web@0 $web0, web@1 $web1, notifier $notifier unchanged; change $change -> $newchange"
}

check_reload_invalid() {
        local before after st
        before=$(marked)
        write_config bad
        if systemctl reload corral.service; then
                no "systemctl reload succeeded with an invalid configuration" || return
        fi
        st=$(prop StatusText)
        [ "$(prop ActiveState)" = active ] || no "after a failed reload: $(prop ActiveState)" || return
        [[ $st == *"reload failed"*"comand"* ]] || no "StatusText after a failed reload: '$st'" || return
        write_config v2
        systemctl reload corral.service || no "reload of the valid configuration failed" || return
        st=$(prop StatusText)
        [ "$st" = "6 running, 0 failed, 0 starting, 0 stopping" ] || no "StatusText after fixing: '$st'" || return
        after=$(marked)
        [ "$before" = "$after" ] || no "processes changed across a failed and an empty reload" || return
        REASON="systemctl reload fails, every unit keeps running, StatusText names the error until the next good reload"
}

# SIGHUP (what a plain `kill -HUP` or newer systemd's Type=notify-reload
# sends): RELOADING=1 puts the unit in "reloading", READY=1 ends it.
check_reload_sighup() {
        local main before n
        main=$(prop MainPID)
        before=$(marked)
        journal_sync
        n=$(corrald_journal "$main" CORRAL_EVENT=reload | wc -l)
        kill -HUP "$main"
        wait_until 10 reloads_above "$main" "$n" || no "no reload entry after SIGHUP" || return
        wait_until 10 eval '[ "$(prop ActiveState)/$(prop SubState)" = active/running ]' ||
                no "after SIGHUP: $(prop ActiveState)/$(prop SubState)" || return
        [ "$(prop MainPID)" = "$main" ] || no "corrald changed: $main -> $(prop MainPID)" || return
        [ "$(marked)" = "$before" ] || no "processes changed across a reload without changes" || return
        REASON="reloaded, back to active/running, no unit touched"
}

check_stop() {
        local before t0 t1 main result
        main=$(prop MainPID)
        before=$(marked | wc -l)
        t0=$(now_ms)
        systemctl stop corral.service || no "systemctl stop failed" || return
        t1=$(now_ms)
        local left
        left=$(marked)
        [ -z "$left" ] || no "after stop, marked processes remain: $left" || return
        [ ! -e "$CG" ] || no "$CG still exists after stop" || return
        result=$(prop Result)/$(prop ExecMainCode)/$(prop ExecMainStatus)
        # ExecMainCode 1 = CLD_EXITED.
        [ "$result" = success/1/0 ] || no "Result/ExecMainCode/ExecMainStatus = $result" || return
        journal_sync
        corrald_journal "$main" | grep -qx 'every unit is stopped' || no "corrald did not log 'every unit is stopped'" || return
        [ "$(corrald_journal "$main" CORRAL_EVENT=kill | wc -l)" -eq 0 ] ||
                no "a unit needed cgroup.kill: $(corrald_journal "$main" CORRAL_EVENT=kill)" || return
        # KillMode=mixed: systemd's SIGTERM went to corrald alone; keep got
        # its own stop_signal from corrald.
        corrald_journal "$main" CORRAL_UNIT=keep | grep -q 'killed by signal SIGINT' ||
                no "keep did not die of its stop_signal SIGINT: $(corrald_journal "$main" CORRAL_UNIT=keep | tail -n 2)" || return
        REASON="$before processes stopped by corrald in $((t1 - t0)) ms (keep by its stop_signal SIGINT), exit status 0, no cgroup left"
}

start_and_settle() {
        systemctl start corral.service || return 1
        wait_until 20 all_running 6
}

check_crash() {
        start_and_settle || no "restart for the crash test: '$(prop StatusText)'" || return
        local main restarts before
        main=$(prop MainPID) restarts=$(prop NRestarts)
        before=$(marked)
        kill -KILL "$main"
        wait_until 30 eval '[ "$(prop MainPID)" != "$main" ] && [ "$(prop MainPID)" != 0 ] && [ "$(prop ActiveState)" = active ]' ||
                no "corrald not restarted: $(prop ActiveState)/$(prop SubState) MainPID=$(prop MainPID)" || return
        [ "$(prop NRestarts)" -eq $((restarts + 1)) ] || no "NRestarts $(prop NRestarts), was $restarts" || return
        wait_until 20 all_running 6 || no "after the restart: '$(prop StatusText)'" || return
        local old
        old=$(comm -12 <(echo "$before") <(marked))
        [ -z "$old" ] || no "processes of the killed corrald survived: $old" || return
        check_placement EXPECT_V2 || return
        journal_sync
        journalctl --no-pager -o cat _PID=1 UNIT=corral.service | grep -q 'Main process exited, code=killed, status=9/KILL' ||
                no "systemd did not log the SIGKILL of corrald" || return
        REASON="corrald $main killed, systemd restarted it as $(prop MainPID) (NRestarts $(prop NRestarts)); every unit started once again, none of the $(wc -w <<<"$before") old processes left"
}

# A unit that outlives a crash of corrald and writes: with a drop-in
# KillMode=process (the shipped KillMode=mixed kills every unit with
# corrald, see check_crash), units survive kill -9 of corrald and the
# restarted corrald adopts them. The read ends of the ticker's pipes
# waited in systemd's fd store (FileDescriptorStoreMax=): the ticker gets
# no SIGPIPE, keeps its PID, and what it writes after the restart reaches
# corralctl logs and its file. Without the fd store it dies of SIGPIPE at
# its next line and is restarted with a new PID.
FDSTORE_DROPIN=/etc/systemd/system/corral.service.d/60-boot-test-fdstore.conf
TICKER_CONF=/etc/corral/conf.d/boot-test-ticker.conf
TICKER_LOG=/run/corral-ticker.log

last_tick() { grep -o 'tick [0-9]*' | tail -n1 | cut -d' ' -f2; }

ticker_pid() { # the ticker's sh, not its sleeps
        local pid
        for pid in $(procs ticker); do
                [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sh ] && echo "$pid" && return
        done
}

ticks_in_logs_above() { # N: corralctl logs ticker shows a tick above N
        local t
        t=$(/opt/corral/bin/corralctl logs -n 20 ticker 2>/dev/null | last_tick)
        [ -n "$t" ] && [ "$t" -gt "$1" ]
}

fdstore_cleanup() {
        rm -f "$FDSTORE_DROPIN" "$TICKER_CONF"
        systemctl daemon-reload
        systemctl restart corral.service
        wait_until 20 all_running 6 || return
        rm -f "$TICKER_LOG"*
}

check_fdstore() {
        mkdir -p "${FDSTORE_DROPIN%/*}"
        printf '[Service]\nKillMode=process\n' >"$FDSTORE_DROPIN"
        printf '%s\n' "# Written by tests/systemd/checks.sh (check_fdstore)." "[program:ticker]" \
                "command = /bin/sh -c 'i=0; while :; do i=\$((i + 1)); echo \"tick \$i\"; sleep 0.1; done'" \
                "output = file:$TICKER_LOG" "environment = CORRAL_BOOT_TEST=1" >"$TICKER_CONF"
        chmod 0644 "$TICKER_CONF"
        systemctl daemon-reload
        local r=0 why
        if [ "$(prop KillMode)" != process ]; then
                no "KillMode=$(prop KillMode) with the drop-in"
                r=1
        elif ! systemctl restart corral.service; then
                no "restart with KillMode=process failed"
                r=1
        elif ! wait_until 20 all_running 7; then
                no "with the ticker: '$(prop StatusText)'"
                r=1
        else
                check_fdstore_crash || r=1
        fi
        why=$REASON
        if ! fdstore_cleanup; then
                [ $r = 1 ] || why="after the test: '$(prop StatusText)'"
                r=1
        fi
        REASON=$why
        return $r
}

check_fdstore_crash() {
        local main tick at_kill after t0 t1 new
        main=$(prop MainPID)
        wait_until 10 ticks_in_logs_above 5 || no "no tick in corralctl logs ticker before the crash" || return
        tick=$(ticker_pid)
        [ -n "$tick" ] || no "no ticker process: $(procs ticker | tr '\n' ' ')" || return
        kill -KILL "$main"
        at_kill=$(last_tick <"$TICKER_LOG")
        t0=$(now_ms)
        wait_until 30 eval '[ "$(prop MainPID)" != "$main" ] && [ "$(prop MainPID)" != 0 ] && [ "$(prop ActiveState)" = active ]' ||
                no "corrald not restarted: $(prop ActiveState)/$(prop SubState) MainPID=$(prop MainPID)" || return
        new=$(prop MainPID)
        wait_until 20 all_running 7 || no "after the restart: '$(prop StatusText)'" || return
        t1=$(now_ms)
        # 2 s of ticks (about 20) after the restart, read by the new corrald
        wait_until 10 ticks_in_logs_above $((at_kill + 20)) ||
                no "corralctl logs ticker shows no tick above $((at_kill + 20)) (tick $at_kill at the kill): $(/opt/corral/bin/corralctl logs -n 3 ticker 2>&1 | tr '\n' ' ')" || return
        [ "$(ticker_pid)" = "$tick" ] && [ -e "/proc/$tick" ] ||
                no "the ticker was PID $tick, is now '$(ticker_pid)': it did not survive the crash ($(journal_sync; corrald_journal "$new" CORRAL_UNIT=ticker | grep -m1 -o 'killed by signal SIG[A-Z]*'))" || return
        after=$(last_tick <"$TICKER_LOG")
        [ "$after" -gt $((at_kill + 20)) ] || no "$TICKER_LOG stops at tick $after (tick $at_kill at the kill)" || return
        journal_sync
        corrald_journal "$new" CORRAL_UNIT=ticker | grep -q 'reading its output again: systemd kept its 2 pipes' ||
                no "corrald $new did not take the kept pipes: $(corrald_journal "$new" CORRAL_UNIT=ticker | tr '\n' ' ')" || return
        if corrald_journal "$new" CORRAL_UNIT=ticker | grep -q 'exited\|killed\|EPIPE'; then
                no "the ticker ended: $(corrald_journal "$new" CORRAL_UNIT=ticker | tr '\n' ' ')"
                return
        fi
        # every line once in the file: none lost while corrald was away
        local gaps
        gaps=$(grep -o 'tick [0-9]*' "$TICKER_LOG" | awk '{ if (NR > 1 && $2 != p + 1) g++; p = $2 } END { print g + 0 }')
        REASON="KillMode=process: corrald $main killed at tick $at_kill, $new adopted the ticker (PID $tick, the same) with its pipes from the fd store, all running again $((t1 - t0)) ms after the kill; $TICKER_LOG at tick $after, $gaps gaps"
}

check_watchdog() {
        mkdir -p "${DROPIN%/*}"
        # SIGABRT would leave a core dump; not of interest here.
        printf '[Service]\nWatchdogSec=3s\nTimeoutAbortSec=3s\nLimitCORE=0\n' >"$DROPIN"
        systemctl daemon-reload
        systemctl restart corral.service || no "restart with WatchdogSec=3s failed" || return
        wait_until 20 all_running 6 || no "after restart: '$(prop StatusText)'" || return
        local main restarts
        main=$(prop MainPID) restarts=$(prop NRestarts)
        [ "$(prop WatchdogUSec)" = 3s ] || no "WatchdogUSec=$(prop WatchdogUSec)" || return
        # A corrald that answers survives several watchdog periods.
        sleep 8
        [ "$(prop MainPID)" = "$main" ] && [ "$(prop NRestarts)" = "$restarts" ] ||
                no "a running corrald was restarted by the watchdog" || return
        local before t0 t1
        before=$(marked)
        t0=$(now_ms)
        kill -STOP "$main"
        wait_until 40 eval '[ "$(prop MainPID)" != "$main" ] && [ "$(prop MainPID)" != 0 ] && [ "$(prop ActiveState)" = active ]' ||
                no "stopped corrald not restarted: $(prop ActiveState)/$(prop SubState) MainPID=$(prop MainPID)" || return
        t1=$(now_ms)
        [ "$(prop NRestarts)" -eq $((restarts + 1)) ] || no "NRestarts $(prop NRestarts), was $restarts" || return
        journal_sync
        journalctl --no-pager -o cat _PID=1 UNIT=corral.service | grep -q 'Watchdog timeout' ||
                no "systemd did not log a watchdog timeout" || return
        [ ! -e "/proc/$main" ] || no "the stopped corrald $main still exists" || return
        wait_until 20 all_running 6 || no "after the watchdog restart: '$(prop StatusText)'" || return
        local old
        old=$(comm -12 <(echo "$before") <(marked))
        [ -z "$old" ] || no "processes of the hung corrald survived: $old" || return
        check_placement EXPECT_V2 || return
        rm -f "$DROPIN"
        systemctl daemon-reload
        REASON="alive 8s with WatchdogSec=3s; SIGSTOPped corrald $main replaced by $(prop MainPID) after $((t1 - t0)) ms ('Watchdog timeout'), units started afresh"
}

check_final_stop() {
        systemctl stop corral.service || no "systemctl stop failed" || return
        [ -z "$(marked)" ] || no "after stop, marked processes remain: $(marked)" || return
        [ ! -e "$CG" ] || no "$CG still exists" || return
        REASON="nothing left"
}

# TimeoutStopSec= shorter than a unit's stop_timeout: corrald's
# EXTEND_TIMEOUT_USEC keeps systemd from killing everything early.
check_stop_extend() {
        mkdir -p "${DROPIN%/*}"
        printf '[Service]\nTimeoutStopSec=3s\n' >"$DROPIN"
        systemctl daemon-reload
        [ "$(prop TimeoutStopUSec)" = 3s ] || no "TimeoutStopUSec=$(prop TimeoutStopUSec) with the drop-in" || return
        write_config v3
        systemctl start corral.service || no "start failed" || return
        wait_until 20 all_running 7 || no "after start: '$(prop StatusText)'" || return
        local main t0 t1 ms result
        main=$(prop MainPID)
        t0=$(now_ms)
        systemctl stop corral.service || no "systemctl stop failed" || return
        t1=$(now_ms)
        ms=$((t1 - t0))
        result=$(prop Result)
        rm -f "$DROPIN"
        systemctl daemon-reload
        [ "$result" = success ] || no "Result=$result after ${ms} ms: systemd did not wait for stop_timeout = 6s" || return
        [ "$ms" -ge 5500 ] || no "stopped in ${ms} ms, before stubborn's stop_timeout" || return
        [ -z "$(marked)" ] || no "after stop, marked processes remain: $(marked)" || return
        [ ! -e "$CG" ] || no "$CG still exists" || return
        journal_sync
        [ "$(corrald_journal "$main" CORRAL_UNIT=stubborn CORRAL_EVENT=kill | wc -l)" -eq 1 ] ||
                no "no cgroup.kill entry for stubborn" || return
        REASON="TimeoutStopSec=3s, stop_timeout = 6s: corrald stopped everything in ${ms} ms (cgroup.kill for stubborn), Result=success"
}

check_settings() {
        local want got
        want="Type=notify NotifyAccess=main Delegate=yes KillMode=mixed Restart=on-failure FileDescriptorStoreMax=16384 TimeoutStopUSec=30s WatchdogUSec=30s TasksMax=infinity OOMPolicy=continue LogRateLimitIntervalUSec=10s LogRateLimitBurst=20000 LockPersonality=yes RestrictSUIDSGID=yes LimitNOFILE=524288"
        got=$(for kv in $want; do k=${kv%%=*}; echo -n "$k=$(prop "$k") "; done)
        [ "$got" = "$want " ] || no "systemctl show: $got" || return
        # The filters are in place for corrald and its children alike.
        grep -q '^Seccomp:[[:space:]]*2' "/proc/$(prop MainPID)/status" || no "corrald has no seccomp filter" || return
        grep -q '^Seccomp:[[:space:]]*2' "/proc/$(main_pid keep)/status" || no "keep has no seccomp filter" || return
        grep -q '^NoNewPrivs:[[:space:]]*0' "/proc/$(main_pid keep)/status" || no "keep runs with no_new_privs" || return
        # corrald's soft limit of open files is its hard one (524288, or less
        # where systemd may not raise it that far); a unit's is 1024 again.
        local own unit hard
        own=$(awk '/^Max open files/ { print $4 "/" $5 }' "/proc/$(prop MainPID)/limits")
        unit=$(awk '/^Max open files/ { print $4 "/" $5 }' "/proc/$(main_pid keep)/limits")
        hard=${own#*/}
        [ "$own" = "$hard/$hard" ] && [ "$hard" -gt 1024 ] || no "corrald's limit of open files is $own" || return
        [ "$unit" = "1024/$hard" ] || no "keep's limit of open files is $unit, corrald's $own" || return
        REASON="systemctl show: $want; seccomp on corrald and units, no no_new_privs; open files: corrald $own, keep $unit"
}

systemctl --failed --plain --no-legend >"$R/failed-units.txt" 2>&1
run_check unit-file check_unit_file
run_check start-invalid check_start_invalid
run_check start check_start
run_check notify check_notify
run_check cgls check_cgls
run_check journal-fields check_journal_fields
run_check journal-output check_journal_output
run_check settings check_settings
run_check reload check_reload
run_check reload-invalid check_reload_invalid
run_check reload-sighup check_reload_sighup
run_check stop check_stop
run_check crash check_crash
run_check fdstore check_fdstore
run_check watchdog check_watchdog
run_check final-stop check_final_stop
run_check stop-extend check_stop_extend
systemctl --failed --plain --no-legend >>"$R/failed-units.txt" 2>&1
touch "$R/done"
