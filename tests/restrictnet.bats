#!/usr/bin/env bats
# --restrict-net=handed|connect=PORTS|bind, and the table's restrict_net:
# after the drop, the command's network is confined with Landlock (and
# seccomp for handed), exactly as portbind(1) documents. tests/netprobe.c
# is the command: it tries each action and prints ACTION=ok or the errno.
# Listeners on 127.0.0.1 (TCP and UDP echo on 7001 and 7002, a named and
# an abstract unix socket) are the test's own, started as root.
load guard
bats_require_minimum_version 1.5.0

NETPROBE=$PB_PREFIX/libexec/netprobe
LIGHTTPD=/usr/sbin/lighttpd

setup_file() {
	cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$NETPROBE" "$BATS_TEST_DIRNAME/netprobe.c"
	build_binder
}

setup() {
	T=$BATS_TEST_TMPDIR
	make_traversable "$T"
	ABS=pbt-restrictnet-$$
	table <<'T'
[plain]
port = 80
protocol = tcp
user = pbt_alice
[dns]
port = 53
protocol = udp
user = pbt_alice
[handed]
port = 81
protocol = tcp
user = pbt_alice
restrict_net = handed
[conn]
port = 82
protocol = tcp
user = pbt_alice
restrict_net = connect=7001,7005-7009
[bindonly]
port = 83
protocol = tcp
user = pbt_alice
restrict_net = bind
T
}

teardown() {
	kill_bgpids
	guard_teardown
}

# This kernel's Landlock ABI, or skip: the modes need 4, handed 6.
need_abi() {
	local abi
	abi=$("$NETPROBE" --abi)
	[ "${abi#abi=}" -ge "$1" ] || skip "this kernel has Landlock ABI ${abi#abi=}, the test needs $1"
}

# The listeners: TCP and UDP echo on 127.0.0.1:7001 and 7002, $T/named.sock
# and @$ABS (unix stream), all started by root outside any confinement.
start_listeners() {
	cat >"$T/listen.py" <<'PY'
import os, socket, sys, threading
def tcp(p):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", p)); s.listen(16); return s
def udp(p):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", p)); return s
def unix(a):
    s = socket.socket(socket.AF_UNIX); s.bind(a); s.listen(16); return s
def accept(s):
    while True:
        s.accept()[0].close()
def echo(s):
    while True:
        d, a = s.recvfrom(64); s.sendto(d, a)
socks = [(accept, tcp(7001)), (accept, tcp(7002)), (echo, udp(7001)), (echo, udp(7002)),
         (accept, unix(sys.argv[1])), (accept, unix("\0" + sys.argv[2]))]
os.chmod(sys.argv[1], 0o777)
for f, s in socks:
    threading.Thread(target=f, args=(s,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait(120)
PY
	bg_as root python3 "$T/listen.py" "$T/named.sock" "$ABS"
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q ready "$out" && return 0
		kill -0 "$bg" 2>/dev/null || break
		sleep 0.025
	done
	fail "the listeners did not start: $(cat "$out")"
}

# Run netprobe as pbt_alice through portbind with the options and SPECs
# "$@" (up to --), the first SPEC TCP on $port (fd 3), trying
# ACTIONS, then accepting one connection on fd 3 from a client on $port:
# $output is netprobe's lines.
probe_through() {
	local port=$1
	shift
	bg_as pbt_alice "$PB" "$@" "$NETPROBE" "${ACTIONS[@]}" accept:3
	local probe=$bg probeout=$out
	wait_bound tcp "$port"
	run timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && head -c 6 <&3' "$port"
	[ "$output" = hello ] || fail "the client on port $port was not served: $(cat "$probeout")"
	wait_pid "$probe" 10
	expect_status 0
	output=$(cat "$probeout")
}

# What each mode lets the command do: ACTION, then the result with no
# mode, --restrict-net=bind, --restrict-net=connect=7001, and handed
# (* : not checked, the kernel's own setting decides).
MATRIX='
bind-tcp:7100        ok      EACCES  EACCES  EAFNOSUPPORT
bind-udp:7101        ok      ok      ok      EAFNOSUPPORT
bind-udp:100         EACCES  EACCES  EACCES  EAFNOSUPPORT
listen-tcp           ok      ok      ok      EAFNOSUPPORT
socket:inet          ok      ok      ok      EAFNOSUPPORT
socket:inet6         ok      ok      ok      EAFNOSUPPORT
socket:inet-hibits   ok      ok      ok      EAFNOSUPPORT
socket:packet        EPERM   EPERM   EPERM   EAFNOSUPPORT
socket:netlink       ok      ok      ok      ok
socket:unix          ok      ok      ok      ok
connect-tcp:7001     ok      ok      ok      EAFNOSUPPORT
connect-tcp:7002     ok      ok      EACCES  EAFNOSUPPORT
udp:7001             ok      ok      ok      EAFNOSUPPORT
udp:7002             ok      ok      ok      EAFNOSUPPORT
udp-handed:7002      ok      ok      ok      ok
unix:@NAMED@         ok      ok      ok      ok
abstract:@ABS@       ok      ok      ok      EPERM
abstract-self:@ABS@x ok      ok      ok      ok
uring                *       *       *       ENOSYS
accept:3             ok      ok      ok      ok
'

# Column $1 of MATRIX (2-5) checked against $output, every row reported.
expect_matrix() {
	local col=$1 row action want got bad=0
	while read -r -a row; do
		[ ${#row[@]} -gt 0 ] || continue
		action=${row[0]//@NAMED@/$T/named.sock}
		action=${action//@ABS@/$ABS}
		want=${row[col - 1]}
		got=$(sed -n "s|^$action=||p" <<<"$output")
		[ "$want" = "*" ] || [ "$got" = "$want" ] || {
			echo "$action: expected $want, got ${got:-nothing}" >&2
			bad=1
		}
	done <<<"$MATRIX"
	[ "$bad" -eq 0 ] || fail "the confinement is not as documented"
}

matrix_actions() {
	local row
	ACTIONS=()
	while read -r -a row; do
		[ ${#row[@]} -gt 0 ] && [ "${row[0]}" != accept:3 ] || continue
		row[0]=${row[0]//@NAMED@/$T/named.sock}
		ACTIONS+=("${row[0]//@ABS@/$ABS}")
	done <<<"$MATRIX"
}

@test "no --restrict-net: the command's network is as without portbind (the baseline of the matrix)" {
	start_listeners
	matrix_actions
	probe_through 80 80,127.0.0.1:53/udp --
	expect_matrix 2
}

@test "--restrict-net=bind: no TCP bind; TCP connect anywhere; UDP bind of unprivileged ports and UDP send stay; accept works" {
	need_abi 4
	start_listeners
	matrix_actions
	probe_through 80 --restrict-net=bind 80,127.0.0.1:53/udp --
	expect_matrix 3
}

@test "--restrict-net=connect=7001: no TCP bind; TCP connect to 7001 only; UDP anywhere; accept works" {
	need_abi 4
	start_listeners
	matrix_actions
	probe_through 80 --restrict-net=connect=7001 80,127.0.0.1:53/udp --
	expect_matrix 4
}

@test "--restrict-net=handed: no new IPv4, IPv6 or packet socket, no io_uring, no foreign abstract unix socket; handed sockets, named unix and netlink work" {
	need_abi 6
	start_listeners
	matrix_actions
	probe_through 80 --restrict-net=handed 80,127.0.0.1:53/udp --
	expect_matrix 5
}

@test "restrict_net = handed in the table confines the command without the flag; a caller asking less is still confined" {
	need_abi 6
	start_listeners
	ACTIONS=(socket:inet bind-tcp:7100 abstract:"$ABS" unix:"$T/named.sock")
	local m
	for m in "" --restrict-net=bind --restrict-net=connect=7001; do
		probe_through 81 $m 81 --
		expect_line "socket:inet=EAFNOSUPPORT"
		expect_line "bind-tcp:7100=EAFNOSUPPORT"
		expect_line "abstract:$ABS=EPERM"
		expect_line "unix:$T/named.sock=ok"
	done
	# a section of a weaker mode granting another SPEC does not weaken it
	probe_through 81 81,83 --
	expect_line "socket:inet=EAFNOSUPPORT"
	# and the caller can ask for more than [bindonly] imposes
	probe_through 83 --restrict-net=handed 83 --
	expect_line "socket:inet=EAFNOSUPPORT"
	probe_through 83 83 --
	expect_line "socket:inet=ok"
	expect_line "bind-tcp:7100=EACCES"
}

@test "restrict_net = connect=PORTS: the caller's list and the table's intersect; bind is weaker and changes nothing" {
	need_abi 4
	start_listeners
	ACTIONS=(connect-tcp:7001 connect-tcp:7002 bind-tcp:7100)
	probe_through 82 82 --
	expect_line "connect-tcp:7001=ok"
	expect_line "connect-tcp:7002=EACCES"
	expect_line "bind-tcp:7100=EACCES"
	probe_through 82 --restrict-net=bind 82 --
	expect_line "connect-tcp:7001=ok"
	expect_line "connect-tcp:7002=EACCES"
	# {7001,7005-7009} and {7002-7003}: no port left, no TCP connect at all
	probe_through 82 --restrict-net=connect=7002-7003 82 --
	expect_line "connect-tcp:7001=EACCES"
	expect_line "connect-tcp:7002=EACCES"
	run --separate-stderr as pbt_alice "$PB" --dry-run --restrict-net=connect=7001-7002,7008 82 -- "$NETPROBE"
	expect_status 0
	expect_line "restrict-net: connect=7001,7008 (needs Landlock ABI 4, this kernel has"
	run --separate-stderr as pbt_alice "$PB" --dry-run --restrict-net=connect=7002-7003 82 -- "$NETPROBE"
	expect_line "restrict-net: connect=none ("
}

@test "--list and --dry-run show restrict_net; a grant without it shows none" {
	run --separate-stderr as pbt_alice "$PB" --list
	expect_status 0
	grep -E '^handed .* restrict_net=handed kernel=' <<<"$output" >/dev/null || fail "[handed] line"
	grep -E '^conn .* restrict_net=connect=7001,7005-7009 kernel=' <<<"$output" >/dev/null || fail "[conn] line"
	grep -E '^bindonly .* restrict_net=bind kernel=' <<<"$output" >/dev/null || fail "[bindonly] line"
	grep -E '^plain ' <<<"$output" | grep -q restrict_net && fail "[plain] has no restrict_net"
	run --separate-stderr as pbt_alice "$PB" --dry-run 81 -- "$NETPROBE"
	expect_status 0
	expect_line "restrict-net: handed (needs Landlock ABI 6, this kernel has"
	expect_no_line "=ok"
	run --separate-stderr as pbt_alice "$PB" --dry-run 80 -- "$NETPROBE"
	expect_status 0
	expect_no_line "restrict-net:"
	run --separate-stderr as pbt_alice "$PB" --dry-run --restrict-net=bind 80 -- "$NETPROBE"
	expect_line "restrict-net: bind (needs Landlock ABI 4"
}

@test "--check rejects a bad restrict_net with file:line; the table is refused whole" {
	local v n=0 bad=(handed,bind "handed bind" Handed none connect connect= connect=0 connect=65536
		connect=80,80 connect=80-90,85 connect=80, connect=,80 "connect=80 443" connect=90-80
		connect=+80 connect=0x50 "connect = 80" bind=80)
	for v in "${bad[@]}"; do
		printf '[a]\nport = 80\nuser = pbt_alice\nrestrict_net = %s\n' "$v" | table
		run "$PB" --check
		[ "$status" -eq 78 ] && grep -qF "$ETC/portbind.conf:4: bad restrict_net" <<<"$output" || {
			echo "restrict_net = $v: status $status: $output" >&2
			n=$((n + 1))
		}
		run as pbt_alice "$PB" 80 -- "$NETPROBE" socket:inet
		[ "$status" -eq 78 ] || { echo "restrict_net = $v: a launch got $status" >&2; n=$((n + 1)); }
	done
	printf '[a]\nport = 80\nuser = pbt_alice\nrestrict_net = bind\nrestrict_net = handed\n' | table
	run "$PB" --check
	expect_status 78
	expect_line "$ETC/portbind.conf:5: duplicate key 'restrict_net'"
	[ "$n" -eq 0 ] || fail "$n bad value(s) accepted"
	printf '[a]\nport = 80\nuser = pbt_alice\nrestrict_net = connect=53,443,8000-8099\n' >"$T/draft.conf"
	run as pbt_alice "$PB" --check "$T/draft.conf"
	expect_status 0
}

@test "--restrict-net: bad values and --allow-new-privs are usage errors (64); modes other than a run take none" {
	local v
	for v in "" handed,bind Handed none connect= connect=0 connect=80,80 connect=1-70000 bind=80; do
		run as pbt_alice "$PB" --restrict-net="$v" 80 -- "$NETPROBE" socket:inet
		expect_refused 64
	done
	run as pbt_alice "$PB" --restrict-net=bind --allow-new-privs 80 -- "$NETPROBE" socket:inet
	expect_refused 64 "--allow-new-privs"
	run as pbt_alice "$PB" --restrict-net handed --restrict-net=bind 80 -- "$NETPROBE"
	expect_refused 64 "twice"
	run as pbt_alice "$PB" --restrict-net=handed --self-bind 80 -- "$NETPROBE"
	expect_refused 64 "--self-bind"
	run as pbt_alice "$PB" --restrict-net=bind --list
	expect_refused 64
	# a table that imposes it on a caller who gives --allow-new-privs: refused, never unconfined
	run as pbt_alice "$PB" --allow-new-privs 81 -- "$NETPROBE" socket:inet
	expect_refused 77 "restrict_net needs no_new_privs"
	expect_unbound 81
}

@test "a kernel without the Landlock ABI a mode needs: exit 71, one line, the command never starts" {
	strace -qq -o /dev/null -e trace=getppid -e inject=getppid:retval=0:when=1 -- true ||
		skip "strace cannot trace or inject faults here"
	local inj=(strace -qq -o /dev/null -e trace=landlock_create_ruleset)
	run "${inj[@]}" -e inject=landlock_create_ruleset:error=ENOSYS \
		"$PB" --restrict-net=bind 80 pbt_alice -- "$NETPROBE" socket:inet
	expect_refused 71 "this kernel has no Landlock enabled, the mode needs Landlock ABI 4"
	expect_no_line "socket:inet="
	run "${inj[@]}" -e inject=landlock_create_ruleset:error=EOPNOTSUPP \
		"$PB" --restrict-net=connect=7001 80 pbt_alice -- "$NETPROBE" socket:inet
	expect_refused 71 "no Landlock enabled"
	run "${inj[@]}" -e inject=landlock_create_ruleset:retval=3:when=1 \
		"$PB" --restrict-net=bind 80 pbt_alice -- "$NETPROBE" socket:inet
	expect_refused 71 "this kernel has Landlock ABI 3, the mode needs 4"
	# handed needs 6, and the table imposes it
	run "${inj[@]}" -e inject=landlock_create_ruleset:retval=5:when=1 \
		"$PB" 81 pbt_alice -- "$NETPROBE" socket:inet
	expect_refused 71 "this kernel has Landlock ABI 5, the mode needs 6"
	# a ruleset the kernel will not create is the same refusal
	need_abi 4
	run "${inj[@]}" -e inject=landlock_create_ruleset:error=EINVAL:when=2 \
		"$PB" --restrict-net=bind 80 pbt_alice -- "$NETPROBE" socket:inet
	expect_refused 71 "landlock_create_ruleset"
	expect_unbound 80
}

@test "lighttpd serves port 80 as www-data under --restrict-net=handed, seccomp filter and no_new_privs on" {
	need_abi 6
	[ -x "$LIGHTTPD" ] || skip "lighttpd is missing: run tests/deps"
	table <<TABLE
[web]
port = 80
protocol = tcp
user = www-data
program = $(readlink -f "$LIGHTTPD")
TABLE
	mkdir "$T/www"
	echo "hello from a confined lighttpd" >"$T/www/index.html"
	chmod 0755 "$T/www"
	chmod 0644 "$T/www/index.html"
	cat >"$T/lighttpd.conf" <<C
server.document-root = "$T/www"
server.port = 80
server.systemd-socket-activation = "enable"
index-file.names = ( "index.html" )
C
	bg_as root "$PB" --restrict-net=handed 80 www-data -- "$LIGHTTPD" -D -f "$T/lighttpd.conf"
	local i
	for ((i = 0; i < 60; i++)); do
		output=$(curl -fsS -g --noproxy '*' --max-time 2 http://127.0.0.1/ 2>&1) && break
		kill -0 "$bg" 2>/dev/null || break
		sleep 0.1
	done
	[ "$output" = "hello from a confined lighttpd" ] || fail "IPv4: wrong page" "$(cat "$out")"
	run curl -fsS -g --noproxy '*' --max-time 2 'http://[::1]/'
	[ "$output" = "hello from a confined lighttpd" ] || fail "IPv6: wrong page"
	output=$(cat "/proc/$bg/status")
	[ "$(readlink "/proc/$bg/exe")" = "$(readlink -f "$LIGHTTPD")" ] || fail "not lighttpd"
	expect_line "$(printf 'Seccomp:\t2')"
	expect_line "$(printf 'NoNewPrivs:\t1')"
	expect_line "$(printf 'CapEff:\t0000000000000000')"
	stop "$bg"
	expect_settled 80
}

@test "portbind-guard loads a table with restrict_net and judges its binds; --self-bind with --restrict-net=bind binds its SPEC and no other TCP port" {
	need_abi 4
	guard_setup
	nsenter -m -t "$holder" -- bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" \
		"$GUARD" --cgroup "$CG" --config "$ETC/portbind.conf" load
	expect_bind ok pbt_alice tcp 127.0.0.1 81
	expect_bind EADDRINUSE pbt_bob tcp 127.0.0.1 81
	run nsenter -m -t "$holder" -- bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" \
		setpriv --reuid=pbt_alice --regid="$(id -g pbt_alice)" --init-groups -- \
		"$PB" --self-bind --restrict-net=bind 127.0.0.1:83 -- "$NETPROBE" bind-tcp:83 bind-tcp:7100 socket:inet
	expect_status 0
	expect_line "bind-tcp:83=ok"
	expect_line "bind-tcp:7100=EACCES"
	expect_line "socket:inet=ok"
	# [handed] imposes handed, which --self-bind cannot keep: refused, never unconfined
	run nsenter -m -t "$holder" -- bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" \
		setpriv --reuid=pbt_alice --regid="$(id -g pbt_alice)" --init-groups -- \
		"$PB" --self-bind 127.0.0.1:81 -- "$NETPROBE" socket:inet
	expect_refused 77 "restrict_net = handed"
}

@test "every call of the confinement failing in turn, root running the command as pbt_alice: 71 and one line, or confined; never run unconfined" {
	need_abi 6
	strace -qq -o /dev/null -e trace=getppid -e inject=getppid:retval=0:when=1 -- true ||
		skip "strace cannot trace or inject faults here"
	local sc n mode want bad=0
	# (with no listener on 7002, an unconfined connect gets ECONNREFUSED)
	for mode in handed connect=7001; do
		want=socket:inet=EAFNOSUPPORT
		[ "$mode" = handed ] || want=connect-tcp:7002=EACCES
		# (the calls only confine.c makes; faults.bats fails the others in turn)
		for sc in landlock_create_ruleset landlock_add_rule landlock_restrict_self seccomp; do
			for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
				run strace -qq -o /dev/null -e trace="$sc" -e inject="$sc:error=EPERM:when=$n" \
					"$PB" --restrict-net="$mode" 80 pbt_alice -- "$NETPROBE" socket:inet connect-tcp:7002
				if [ "$status" -eq 0 ] && grep -qxF "$want" <<<"$output"; then
					continue
				fi
				if [ "$status" -eq 71 ] && [ "$(grep -c . <<<"$output")" -eq 1 ] &&
					[[ $output == "portbind: "* ]]; then
					continue
				fi
				echo "$mode, $sc failing at call $n: status $status: $output" >&2
				bad=$((bad + 1))
			done
		done
	done
	[ "$bad" -eq 0 ] || fail "$bad case(s) ran unconfined or failed unclearly"
	expect_unbound 80
}

@test "libseccomp is loaded for handed only, after the drop; a libseccomp that cannot be loaded is 71, never unconfined" {
	need_abi 6
	command -v strace >/dev/null || skip "strace is not installed (tests/deps installs it)"
	local t=$BATS_TEST_TMPDIR/trace lib empty=$BATS_TEST_TMPDIR/empty.so
	# another mode: not opened at all
	run strace -qq -f -o "$t" -e trace=openat,setresuid \
		"$PB" --restrict-net=bind 80 pbt_alice -- "$NETPROBE" socket:inet
	expect_status 0
	! grep -q 'libseccomp' "$t" || fail "libseccomp opened for --restrict-net=bind: $(grep libseccomp "$t")"
	# handed: opened once the ids are the target's, never before
	run strace -qq -f -o "$t" -e trace=openat,setresuid \
		"$PB" --restrict-net=handed 80 pbt_alice -- "$NETPROBE" socket:inet
	expect_status 0
	expect_line "socket:inet=EAFNOSUPPORT"
	awk '/setresuid\(59001, 59001, 59001\) += 0/ { dropped = 1 }
		/libseccomp/ && /= [0-9]+$/ { if (!dropped) exit 1; seen = 1 }
		END { exit !(seen && dropped) }' "$t" ||
		fail "libseccomp not opened after the drop:" "$(grep -E 'setresuid|libseccomp' "$t")"
	lib=$(sed -n 's/.*openat([^"]*"\([^"]*libseccomp[^"]*\)".*= [0-9][0-9]*$/\1/p' "$t" | head -n 1)
	[ -n "$lib" ] || fail "no path of libseccomp in the trace"
	# an empty file over it, in a mount namespace of this test only
	: >"$empty"
	run unshare -m --propagation private -- sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' _ \
		"$empty" "$lib" "$PB" --restrict-net=handed 80 pbt_alice -- "$NETPROBE" socket:inet
	expect_refused 71 "--restrict-net=handed: libseccomp: "
	expect_no_line "socket:inet="
	expect_unbound 80
}

@test "the log record of a grant names the mode in effect: the caller's, or the table's" {
	need_abi 6
	export LOGFILE=$T/syslog NETPROBE
	run with_private_dev '
		python3 -c "
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(\"/dev/log\"); os.chmod(\"/dev/log\", 0o666); s.settimeout(20)
with open(sys.argv[1], \"a\") as f:
    while True:
        f.write(s.recv(1 << 16).decode(\"ascii\", \"replace\") + \"\\n\"); f.flush()
" "$LOGFILE" 3>&- &
		for i in $(seq 100); do [ "$(stat -c %a /dev/log 2>/dev/null)" = 666 ] && break; sleep 0.05; done
		alice() { setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- "$@"; }
		alice "$PB" --restrict-net=connect=7001-7002 80 -- "$NETPROBE" socket:unix
		alice "$PB" --restrict-net=bind 81 -- "$NETPROBE" socket:unix
		alice "$PB" 80 -- "$NETPROBE" socket:unix
		sleep 0.2
		kill %1'
	output=$(cat "$LOGFILE")
	[ "$(grep -c "granted: .*socket=80/tcp\[plain\] restrict_net=connect=7001-7002 program=" <<<"$output")" -eq 1 ] ||
		fail "the caller's connect= list is not in the record"
	[ "$(grep -c "granted: .*socket=81/tcp\[handed\] restrict_net=handed program=" <<<"$output")" -eq 1 ] ||
		fail "the table's handed is not in the record"
	[ "$(grep -c "granted: .*socket=80/tcp\[plain\] program=" <<<"$output")" -eq 1 ] ||
		fail "a grant without a mode names none"
}
