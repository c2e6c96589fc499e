#!/usr/bin/env bats
# File descriptors: what the command finds on fds 0-2 when the caller closed
# them, that nothing the caller or portbind opened leaks to it, where the
# sockets land, and running out of fds or processes.
load lib

setup() {
	table <<'T'
[web]
port = 80 443
protocol = tcp
user = pbt_alice
[high]
port = 8000-8099
user = pbt_alice
T
	bgpids=()
}

teardown() {
	kill_bgpids
}

# The fds of process $1, one "N=TARGET:MODE" each, sorted, space separated:
# TARGET is the link in /proc (socket:[..] and pipe:[..] without inode),
# MODE the access mode it was opened with (r, w or rw).
fd_table() {
	local f t fl
	for f in /proc/"$1"/fd/*; do
		t=$(readlink "$f" 2>/dev/null) || continue
		fl=$(sed -n 's/^flags:[[:space:]]*//p' "/proc/$1/fdinfo/${f##*/}" 2>/dev/null)
		[ -n "$fl" ] || continue
		case $t in socket:*) t=socket ;; pipe:*) t=pipe ;; esac
		case $((8#$fl & 3)) in 0) t+=:r ;; 1) t+=:w ;; *) t+=:rw ;; esac
		printf '%s=%s\n' "${f##*/}" "$t"
	done | sort -n | paste -sd ' '
}

# Closing every fd above 2 of a bash -c, then the rest of the script.
CLOSE_ABOVE_2='for f in /proc/$$/fd/*; do f=${f##*/}; [ "$f" -gt 2 ] && eval "exec $f>&-"; done; '

# closed_std WHO FDS: portbind started with the fds FDS (e.g. "0 2") closed,
# by pbt_alice for herself (WHO=alice) or by root naming pbt_alice
# (WHO=root); the probe sleeps 1 s. Seen from outside in /proc: a closed fd
# stays unusable, as the C library makes it for set-user-ID programs:
# /dev/full write-only on 0, /dev/null read-only on 1 and 2 (so nothing
# portbind opens lands there, and nothing written there goes anywhere); the
# granted socket is on fd 3 and no other fd is open. With fd 1 open, the
# probe's report goes to $out and it exits 0.
closed_std() {
	local who=$1 close='' f want='^' seen='' prev='' prev2='' i
	for f in $2; do close+=" $f>&-"; done
	for f in 0 1 2; do
		if [[ " $2 " == *" $f "* ]]; then
			[ "$f" = 0 ] && want+="0=/dev/full:w " || want+="$f=/dev/null:r "
		else
			want+="$f=[^ ]+ "
		fi
	done
	want+='3=socket:rw$'
	# The probe cannot report without a usable stdout: then sleep(1) is
	# the command, and /proc alone tells what it got.
	local -a cmd=("$PROBE" --sleep 1)
	[[ " $2 " != *" 1 "* ]] || cmd=(sleep 1)
	if [ "$who" = root ]; then
		bg_as root bash -c "exec \"\$@\" $close" _ "$PB" 80 pbt_alice -- "${cmd[@]}"
	else
		bg_as pbt_alice bash -c "exec \"\$@\" $close" _ "$PB" 80 -- "${cmd[@]}"
	fi
	# Until the fds are as wanted, or the same in three looks in a row
	# (the probe asleep: what it got is what it has).
	for ((i = 0; i < 150; i++)); do
		if [ "$(readlink "/proc/$bg/exe" 2>/dev/null)" = "$(command -v "${cmd[0]}")" ]; then
			prev2=$prev prev=$seen
			seen=$(fd_table "$bg")
			[[ $seen =~ $want ]] && break
			[ -n "$seen" ] && [ "$seen" = "$prev" ] && [ "$seen" = "$prev2" ] && break
		fi
		kill -0 "$bg" 2>/dev/null || break
		sleep 0.02
	done
	wait_pid "$bg" 10
	output=$(cat "$out")
	[[ $seen =~ $want ]] || fail "fds of the command: '$seen', expected /^${want#^}/"
	if [[ " $2 " != *" 1 "* ]]; then
		expect_status 0
		[ "$(field fds)" = "0,1,2,3" ] || fail "fds= should be 0,1,2,3"
		expect_line "fd.3=socket cloexec=0 type=stream family=inet6 addr=:: port=80 listening=1"
		[ "$(field uid)" = "59001,59001,59001" ] || fail "uid"
	fi
	expect_unbound 80
}

@test "fd 0 closed by a user: the command gets /dev/full, write-only, on it" {
	closed_std alice 0
}

@test "fd 1 closed by a user: the command gets /dev/null, read-only, on it" {
	closed_std alice 1
}

@test "fd 2 closed by a user: the command gets /dev/null, read-only, on it" {
	closed_std alice 2
}

@test "fds 0, 1 and 2 closed by a user: each stays unusable for the command" {
	closed_std alice "0 1 2"
}

@test "fd 0 closed by root: the command gets /dev/full, write-only, on it" {
	closed_std root 0
}

@test "fd 1 closed by root: the command gets /dev/null, read-only, on it" {
	closed_std root 1
}

@test "fd 2 closed by root: the command gets /dev/null, read-only, on it" {
	closed_std root 2
}

@test "fds 0, 1 and 2 closed by root: each stays unusable for the command" {
	closed_std root "0 1 2"
}

@test "fds 1 and 2 closed: a refusal still exits with its status and runs nothing" {
	run as pbt_alice bash -c 'exec "$@" 1>&- 2>&-' _ "$PB" 81 -- "$PROBE"
	expect_status 77
	[ -z "$output" ] || fail "nothing can be written anywhere visible"
	run as pbt_bob bash -c 'exec "$@" 0<&- 1>&- 2>&-' _ "$PB" 80 -- "$PROBE"
	expect_status 77
}

# Opens files, a pipe from each side, a UDP socket, a directory-free mix
# on 3..9 and a few high fds, then runs "$@".
OPEN_JUNK='exec 3</etc/passwd 4>>/dev/null 5< <(echo pipe) 6> >(cat >/dev/null)
exec 7<>/dev/udp/127.0.0.1/9 8</dev/zero 9<"$0" 42</etc/group 200</etc/hosts 1000<&0
exec "$@"'

@test "fds 3..9 and higher that a user left open are not passed to the command" {
	run as pbt_alice bash -c "$OPEN_JUNK" "$PROBE" "$PB" 80 -- "$PROBE"
	expect_status 0
	[ "$(field fds)" = "0,1,2,3" ] || fail "fds= should be exactly 0,1,2,3"
	expect_line "fd.3=socket cloexec=0 type=stream family=inet6 addr=:: port=80 listening=1 v6only=0 owner=59001"
	expect_no_line "path=/etc"
	expect_no_line "family=inet addr=127.0.0.1 port=9"
	[ "$(field env.LISTEN_FDS)" = 1 ] || fail "LISTEN_FDS"
}

@test "fds 3..9 and higher that root left open are not passed to the command" {
	run bash -c "$OPEN_JUNK" "$PROBE" "$PB" 80 pbt_alice -- "$PROBE"
	expect_status 0
	[ "$(field fds)" = "0,1,2,3" ] || fail "fds= should be exactly 0,1,2,3"
	expect_line "fd.3=socket cloexec=0 type=stream family=inet6 addr=:: port=80 listening=1 v6only=0 owner=59001"
	expect_no_line "path=/etc"
}

@test "open fds with close-on-exec cleared are not passed either (F_SETFD done by the caller)" {
	# bash opens redirections without close-on-exec, so this is the same
	# as above for fds the caller meant to pass: LISTEN_FDS is not a way in.
	run as pbt_alice env LISTEN_FDS=3 LISTEN_PID=1 bash -c "$OPEN_JUNK" "$PROBE" "$PB" 8001 -- "$PROBE"
	expect_status 0
	[ "$(field fds)" = "0,1,2,3" ] || fail "fds= should be exactly 0,1,2,3"
	[ "$(field env.LISTEN_FDS)" = 1 ] || fail "LISTEN_FDS"
	expect_line "fd.3=socket cloexec=0 type=stream family=inet6 addr=:: port=8001"
}

@test "the caller's fds 3 and above are closed before portbind opens anything: close_range(3), then fd 3" {
	# Traced as root (a traced setuid program runs unprivileged), with the
	# caller's fds 3..9 and higher open. Before close_range come only the
	# opens that precede main(): the dynamic loader's (ld.so.cache, shared
	# libraries). main()'s first
	# open or socket must come after it and get fd 3. The sockets are
	# placed later by another close_range, which cannot stand in. (No
	# process substitution here: strace would wait for its child.)
	command -v strace >/dev/null || skip "strace is not installed"
	local log=$BATS_TEST_TMPDIR/strace calls before
	local junk='exec 3</etc/passwd 4>>/dev/null 5</dev/zero 6</etc/hosts 7<>/dev/udp/127.0.0.1/9
exec 8</dev/zero 9<"$0" 42</etc/group 200</etc/hosts 1000<&0; exec "$@"'
	run timeout 20 bash -c "$junk" "$PROBE" strace -f -o "$log" -e trace=close_range,openat,socket \
		"$PB" 80 pbt_alice -- "$PROBE"
	expect_status 0
	[ "$(field fds)" = "0,1,2,3" ] || fail "fds= should be exactly 0,1,2,3"
	calls=$(sed -E 's/^[0-9]+ +//' "$log" | grep -E '^(openat|close_range|socket)\(') ||
		fail "no calls traced: $(cat "$log")"
	before=$(awk '/^close_range\(/ { exit } { print }' <<<"$calls")
	grep -q '"/etc/ld.so.cache"' <<<"$before" || fail "the loader's opens were not seen:" "$calls"
	! grep -vE '^openat\(AT_FDCWD, "([^"]*(/ld\.so\.cache|\.so(\.[0-9]+)*))", ' \
		<<<"$before" || fail "portbind opened something before closing the caller's fds:" "$calls"
	grep -m1 '^close_range(' <<<"$calls" | grep -qE '^close_range\(3, [^,]+, 0\) += 0$' ||
		fail "the first close_range is not close_range(3, ~0, 0) = 0:" "$calls"
	awk 'f { print; exit } /^close_range\(/ { f = 1 }' <<<"$calls" | grep -qE '^(openat|socket)\(.* = 3$' ||
		fail "main()'s first open after close_range did not get fd 3:" "$calls"
}

@test "one socket lands on fd 3 without close-on-exec" {
	run as pbt_alice "$PB" 127.0.0.1:8001/udp -- "$PROBE"
	expect_status 0
	[ "$(field fds)" = "0,1,2,3" ] || fail "fds"
	expect_line "fd.3=socket cloexec=0 type=dgram family=inet addr=127.0.0.1 port=8001 listening=0 v6only=- owner=59001"
}

@test "two sockets land on fds 3 and 4 in SPEC order without close-on-exec" {
	run as pbt_alice "$PB" '127.0.0.1:8002/udp,[::1]:8001=b' -- "$PROBE"
	expect_status 0
	[ "$(field fds)" = "0,1,2,3,4" ] || fail "fds"
	expect_line "fd.3=socket cloexec=0 type=dgram family=inet addr=127.0.0.1 port=8002 listening=0 v6only=- owner=59001"
	expect_line "fd.4=socket cloexec=0 type=stream family=inet6 addr=::1 port=8001 listening=1 v6only=1 owner=59001"
	[ "$(field env.LISTEN_FDS)" = 2 ] || fail "LISTEN_FDS"
	[ "$(field env.LISTEN_FDNAMES)" = "high:b" ] || fail "LISTEN_FDNAMES"
}

# Ten SPECs, not sorted, and the probe line each must give (fd 3 first).
TEN='8009,8003/udp,127.0.0.1:8007,[::1]:8001/udp,8005=five,0.0.0.0:8002/udp,[::]:8008,8004/udp,127.0.0.1:8006/udp,80'
TEN_LINES=(
	"type=stream family=inet6 addr=:: port=8009 listening=1 v6only=0"
	"type=dgram family=inet6 addr=:: port=8003 listening=0 v6only=0"
	"type=stream family=inet addr=127.0.0.1 port=8007 listening=1 v6only=-"
	"type=dgram family=inet6 addr=::1 port=8001 listening=0 v6only=1"
	"type=stream family=inet6 addr=:: port=8005 listening=1 v6only=0"
	"type=dgram family=inet addr=0.0.0.0 port=8002 listening=0 v6only=-"
	"type=stream family=inet6 addr=:: port=8008 listening=1 v6only=1"
	"type=dgram family=inet6 addr=:: port=8004 listening=0 v6only=0"
	"type=dgram family=inet addr=127.0.0.1 port=8006 listening=0 v6only=-"
	"type=stream family=inet6 addr=:: port=80 listening=1 v6only=0"
)

expect_ten() {
	local i
	expect_status 0
	[ "$(field fds)" = "0,1,2,3,4,5,6,7,8,9,10,11,12" ] || fail "fds= should be 0..12"
	for i in "${!TEN_LINES[@]}"; do
		expect_line "fd.$((i + 3))=socket cloexec=0 ${TEN_LINES[$i]} owner=59001"
	done
	[ "$(field env.LISTEN_FDS)" = 10 ] || fail "LISTEN_FDS"
	[ "$(field env.LISTEN_FDNAMES)" = "high:high:high:high:five:high:high:high:high:web" ] ||
		fail "LISTEN_FDNAMES"
}

@test "ten sockets land on fds 3..12 in SPEC order without close-on-exec" {
	run as pbt_alice "$PB" "$TEN" -- "$PROBE"
	expect_ten
}

@test "ten sockets land in order when the caller had fds 3..15 open (no clash while moving)" {
	run as pbt_alice bash -c 'for f in {3..15}; do eval "exec $f</dev/null"; done; exec "$@"' _ \
		"$PB" "$TEN" -- "$PROBE"
	expect_ten
	run bash -c 'for f in {3..15}; do eval "exec $f</dev/null"; done; exec "$@"' _ \
		"$PB" "$TEN" pbt_alice -- "$PROBE"
	expect_ten
}

@test "64 sockets (the maximum) land on fds 3..66 in SPEC order" {
	local specs='' i fds=0,1,2
	for ((i = 0; i < 64; i++)); do
		specs+="${specs:+,}127.0.0.1:$((8000 + i))/udp"
		fds+=",$((3 + i))"
	done
	run as pbt_alice "$PB" "$specs" -- "$PROBE"
	expect_status 0
	[ "$(field fds)" = "$fds" ] || fail "fds= should be 0..66"
	for ((i = 0; i < 64; i++)); do
		expect_line "fd.$((3 + i))=socket cloexec=0 type=dgram family=inet addr=127.0.0.1 port=$((8000 + i)) listening=0"
	done
	[ "$(field env.LISTEN_FDS)" = 64 ] || fail "LISTEN_FDS"
}

@test "no table file, drop-in, passwd/group database or syslog fd reaches the command" {
	dropin 10-more.conf <<'T'
[more]
port = 443
group = pbt_web
T
	dropin 20-ids.conf <<'T'
[ids]
port = 8050
uid = 59001-59003
gid = 59050
T
	# root naming a user: passwd, group and getgrouplist lookups; -v: the
	# decision is explained (more lookups) before exec.
	run "$PB" -v 80,443,8050/udp pbt_alice -- "$PROBE"
	expect_status 0
	[ "$(field fds)" = "0,1,2,3,4,5" ] || fail "fds= should be 0..5"
	expect_no_line "path=$ETC"
	expect_no_line "path=/etc"
	expect_no_line "family=unix"
	run as pbt_alice "$PB" -v 80,443,8050/udp -- "$PROBE"
	expect_status 0
	[ "$(field fds)" = "0,1,2,3,4,5" ] || fail "fds= should be 0..5"
	run "$PB" 80 pbt_alice:pbt_web -- "$PROBE"
	expect_status 0
	[ "$(field fds)" = "0,1,2,3" ] || fail "fds= should be 0..3"
}

@test "with a syslog daemon on /dev/log, the log line is sent and its socket does not reach the command" {
	local py
	py=$(command -v python3) || skip "python3 is not installed (needed for a /dev/log listener)"
	export LOGFILE=$BATS_TEST_TMPDIR/syslog PY=$py
	run with_private_dev '
		"$PY" -c "
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(\"/dev/log\"); os.chmod(\"/dev/log\", 0o666)
s.settimeout(10)
with open(sys.argv[1], \"ab\") as f:
    while True:
        f.write(s.recv(65536) + b\"\\n\"); f.flush()
" "$LOGFILE" 3>&- &
		py=$!
		for i in $(seq 100); do [ "$(stat -c %a /dev/log 2>/dev/null)" = 666 ] && break; sleep 0.05; done
		setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- "$PB" 80 -- "$PROBE"
		echo "status1=$?"
		"$PB" 443 pbt_alice -- "$PROBE"
		echo "status2=$?"
		sleep 0.3
		kill $py'
	grep -q '^status1=0$' <<<"$output" || fail "alice's run failed"
	grep -q '^status2=0$' <<<"$output" || fail "root's run failed"
	[ "$(grep -c '^fds=0,1,2,3$' <<<"$output")" = 2 ] || fail "fds= should be 0,1,2,3 both times"
	expect_no_line "family=unix"
	local log pids
	log=$(cat "$LOGFILE")
	pids=$(sed -n 's/^pid=//p' <<<"$output")
	for p in $pids; do
		# LOG_AUTHPRIV|LOG_NOTICE = <85>, ident portbind, LOG_PID: the pid
		# the command kept.
		grep -q "^<85>.*portbind\[$p\]: .*granted" <<<"$log" ||
			fail "no 'granted' line from portbind[$p] at authpriv.notice in: $log"
	done
}

# Running portbind with RLIMIT_NOFILE N (soft), every fd above 2 closed
# first (bats keeps some open). The dynamic loader needs an fd to map
# libraries before portbind's code runs at all: with none free it fails
# (127, "error while loading shared libraries"); that is not portbind's
# doing, but it is also one line and nothing bound.
nofile_run() {
	local n=$1 who=$2 specs=$3
	status=0
	if [ "$who" = root ]; then
		output=$(bash -c "$CLOSE_ABOVE_2"'ulimit -Sn "$0"; exec "$@"' "$n" "$PB" "$specs" pbt_alice -- "$PROBE" 2>&1) || status=$?
	else
		output=$(as pbt_alice bash -c "$CLOSE_ABOVE_2"'ulimit -Sn "$0"; exec "$@"' "$n" "$PB" "$specs" -- "$PROBE" 2>&1) || status=$?
	fi
}

# Either the command ran with the sockets in place and a full drop, or
# portbind refused with 71 and one line, and ran and left nothing.
expect_ok_or_71() {
	local nsock=$1 fds=0,1,2 i
	for ((i = 0; i < nsock; i++)); do fds+=",$((3 + i))"; done
	case $status in
	0)
		[ "$(field fds)" = "$fds" ] || fail "fds= should be $fds"
		[ "$(field uid)" = "59001,59001,59001" ] || fail "uid not dropped"
		[ "$(field cap_prm)" = 0000000000000000 ] || fail "capabilities not dropped"
		[ "$(field setuid0)" = fail ] || fail "setuid(0) possible"
		;;
	127)
		grep -q "error while loading shared libraries" <<<"$output" ||
			fail "127 is only acceptable from the dynamic loader"
		[ "$(grep -c . <<<"$output")" -eq 1 ] || fail "expected one line"
		echo "# RLIMIT_NOFILE: the dynamic loader failed before portbind ran" >&3
		;;
	*)
		expect_refused 71
		;;
	esac
	expect_unbound 80
	expect_unbound 443
}

@test "RLIMIT_NOFILE 3, 4, 5: a user gets exit 71 (or a clean success) and nothing bound" {
	local n
	for n in 3 4 5; do
		nofile_run "$n" alice 80
		expect_ok_or_71 1
		nofile_run "$n" alice 80,443
		expect_ok_or_71 2
	done
}

@test "RLIMIT_NOFILE 3, 4, 5: root naming a user gets exit 71 (or a clean success) and nothing bound" {
	local n
	for n in 3 4 5; do
		nofile_run "$n" root 80
		expect_ok_or_71 1
		nofile_run "$n" root 80,443
		expect_ok_or_71 2
	done
}

@test "RLIMIT_NOFILE 4 leaves portbind no fd for its work: exit 71, one line, nothing bound" {
	nofile_run 4 alice 80
	expect_refused 71
	nofile_run 4 root 80
	expect_refused 71
	expect_unbound 80
}

@test "RLIMIT_NOFILE with room to spare: the grant works" {
	nofile_run 16 alice 80,443
	expect_status 0
	expect_ok_or_71 2
	nofile_run 16 root 80,443
	expect_status 0
	expect_ok_or_71 2
}

@test "RLIMIT_NPROC 0 for a user: success with a full drop, or 71" {
	run as pbt_alice bash -c 'ulimit -u 0; exec "$@"' _ "$PB" 80 -- "$PROBE"
	expect_ok_or_71 1
}

@test "RLIMIT_NPROC 0 for root naming a user who has no process: success with a full drop, or 71" {
	run bash -c 'ulimit -u 0; exec "$@"' _ "$PB" 80 pbt_alice -- "$PROBE"
	expect_ok_or_71 1
}

@test "RLIMIT_NPROC 0 for root naming a user who already runs a process: success or 71, never a half-done run" {
	bg_as pbt_alice sleep 30
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(stat -c %u "/proc/$bg" 2>/dev/null)" = 59001 ] &&
			[[ $(readlink "/proc/$bg/exe") == */sleep ]] && break
		sleep 0.01
	done
	[[ $(readlink "/proc/$bg/exe") == */sleep ]] || fail "pbt_alice's sleep did not start"
	# The target is over RLIMIT_NPROC when portbind switches to it: the
	# kernel then refuses its execve (EAGAIN). That is a resource limit:
	# exit 71, not "command not executable".
	run bash -c 'ulimit -u 0; exec "$@"' _ "$PB" 80 pbt_alice -- "$PROBE"
	expect_ok_or_71 1
}

# One run under RLIMIT_AS of $2 KiB (soft and hard: ulimit -v) by $1 (alice
# or root naming pbt_alice), granting 80 and 443: status, output.
as_run() {
	status=0
	if [ "$1" = root ]; then
		output=$(bash -c 'ulimit -v "$0"; exec "$@"' "$2" "$PB" 80,443 pbt_alice -- "$PROBE" 2>&1) || status=$?
	else
		output=$(as pbt_alice bash -c 'ulimit -v "$0"; exec "$@"' "$2" "$PB" 80,443 -- "$PROBE" 2>&1) || status=$?
	fi
}

# Which way a run under a tiny address-space limit ended, or "BAD: ...":
#   full     the command ran fully dropped, with both sockets
#   71       portbind refused, one "portbind: " line
#   loader   the dynamic loader of portbind or of the command could not map
#            or set up the process (127, one line), or crashed doing so
#            (SIGSEGV, no output: glibc's init_tls takes no failure of
#            its first allocation)
#   command  the command itself (the probe) ran out of memory after the
#            exec: one "probe: " line
as_outcome() {
	local lines
	lines=$(grep -c . <<<"$output")
	if [ "$status" = 0 ]; then
		if [ "$(field uid)" = 59001,59001,59001 ] && [ "$(field cap_prm)" = 0000000000000000 ] &&
			[ "$(field cap_bnd)" = 0000000000000000 ] && [ "$(field no_new_privs)" = 1 ] &&
			[ "$(field setuid0)" = fail ] && [ "$(field fds)" = 0,1,2,3,4 ]; then
			echo full
		else
			echo "BAD: ran, but not fully dropped with both sockets"
		fi
	elif [ "$status" = 71 ] && [ "$lines" = 1 ] && [[ $output == "portbind: "* ]]; then
		echo 71
	elif [ "$status" = 127 ] && [ "$lines" = 1 ] &&
		grep -qE 'error while loading shared libraries|cannot allocate TLS|cannot allocate memory' <<<"$output"; then
		echo loader
	elif [ "$status" = 139 ] && [ -z "$output" ]; then
		echo loader
	elif [ "$status" = 1 ] && [ "$lines" = 1 ] && [[ $output == "probe: "* ]]; then
		echo command
	else
		echo "BAD: status $status, $lines line(s)"
	fi
}

@test "tiny address-space limits (ulimit -v): a full run, 71 or the loader's error; nothing bound, never half-dropped" {
	local who v lo ok outcome seen bad=()
	for who in alice root; do
		# the smallest limit (in steps of 512 KiB) under which it all works
		ok=
		for ((v = 512; v <= 262144; v += 512)); do
			as_run "$who" "$v"
			[ "$(as_outcome)" = full ] && { ok=$v; break; }
		done
		[ -n "$ok" ] || fail "$who: no run worked under any limit up to 256 MiB"
		# every limit from 1 MiB below that up to it, in steps of 16 KiB:
		# that is where each allocation in turn is the first to fail
		lo=$((ok > 1536 ? ok - 1024 : 512))
		seen=
		for ((v = lo; v <= ok; v += 16)); do
			as_run "$who" "$v"
			outcome=$(as_outcome)
			case $outcome in
			BAD*) bad+=("$who, ulimit -v $v: $outcome: $output") ;;
			*) [[ " $seen " == *" $outcome "* ]] || seen+=" $outcome" ;;
			esac
			expect_unbound 80
			expect_unbound 443
		done
		echo "# $who: everything works from $ok KiB; below it:$seen" >&3
	done
	status='' output=''
	[ ${#bad[@]} -eq 0 ] || fail "${bad[@]}"
}
