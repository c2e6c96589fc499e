#!/usr/bin/env bats
# The README's "My daemon runs but does not answer": real commands started
# through the installed setuid portbind, some using their sockets and some
# not, and what contrib/portbind-fds says about each running process. A
# socket portbind handed over stays listening whether the daemon uses it or
# not, so `ss` alone cannot tell them apart; portbind-fds must.
load lib

FDS_SRC=$BATS_TEST_DIRNAME/../contrib/portbind-fds
FDS=$PB_PREFIX/libexec/portbind-fds
SERVER=$PB_PREFIX/libexec/troubleshoot-server.py
PYTHON=/usr/bin/python3

setup_file() {
	# In the private prefix, where the test users can run them too.
	install -m 0755 "$FDS_SRC" "$FDS"
	# A tiny server on the handed fd 3 (or not), as the cases need.
	cat >"$SERVER" <<'PY'
import select, selectors, socket, sys
mode = sys.argv[1]
wait = mode
if mode in ("epoll", "poll", "select"):  # waits on fd 3 so, answers "hello"
    s = socket.socket(fileno=3)
elif mode == "own":      # ignores fd 3, selects on a port of its own
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", int(sys.argv[2])))
    s.listen()
    wait = "select"
elif mode == "bind4":    # ignores fd 3 and binds 0.0.0.0:PORT itself
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("0.0.0.0", int(sys.argv[2])))
    except OSError as e:
        print("bind 0.0.0.0:%s: %s" % (sys.argv[2], e.strerror), flush=True)
        sys.exit(1)
    print("bind 0.0.0.0:%s: ok" % sys.argv[2], flush=True)
    sys.exit(0)
if wait == "epoll":
    sel = selectors.EpollSelector()
    sel.register(s, selectors.EVENT_READ)
elif wait == "poll":
    p = select.poll()
    p.register(s, select.POLLIN)
while True:
    if wait == "epoll":
        sel.select()
    elif wait == "poll":
        p.poll()
    else:
        select.select([s], [], [])
    c, _ = s.accept()
    c.sendall(b"hello\n")
    c.close()
PY
	chmod 0644 "$SERVER"
}

teardown_file() {
	rm -f "$FDS" "$SERVER"
}

setup() {
	bgpids=()
	table <<'T'
[web]
port = 80 8000
protocol = tcp
user = pbt_alice
[dns]
port = 53
protocol = udp
user = pbt_alice
T
	# A client left waiting in an accept queue must not leave TIME_WAIT
	# entries on port 80 for later suites.
	set_sysctl net.ipv4.tcp_max_tw_buckets 0
}

teardown() {
	[ -z "${client:-}" ] || exec {client}>&-
	kill_bgpids
	restore_sysctls
}

# portbind-fds on PID $1 until its output has a line containing $2, 5 s at
# most while $bg lives (a server may still be starting); $output and $status
# are those of the last run.
fds_until() {
	local i
	for ((i = 0; i < 50; i++)); do
		run "$FDS" --wait 0 "$1"
		grep -qF -- "$2" <<<"$output" && return 0
		kill -0 "$bg" 2>/dev/null || break
		sleep 0.1
	done
	fail "portbind-fds never said: $2" "--- command output:" "$(cat "$out")"
}

# A client connects to 127.0.0.1 port $1 (the kernel completes the
# handshake for a listening socket, accepted or not) and waits at most 1 s
# for a line; $client is its fd, $reply what came.
connect() {
	exec {client}<>"/dev/tcp/127.0.0.1/$1"
	reply=
	read -r -t 1 -u "$client" reply || true
}

@test "a server waiting on its socket in epoll: used, exit 0; it answers and stays used" {
	bg_as pbt_alice "$PB" 80=web -- "$PYTHON" "$SERVER" epoll
	fds_until "$bg" "used"
	expect_status 0
	expect_line "pid $bg (python3): LISTEN_FDS=1 LISTEN_PID=$bg LISTEN_FDNAMES=web"
	[[ $output =~ fd\ 3\ +\*:80/tcp=web\ +epoll:\ yes\ +queue\ 0\ +used ]] || fail "fd 3: used, in epoll"
	connect 80
	[ "$reply" = hello ] || fail "the server did not answer: '$reply'"
	run "$FDS" "$bg"
	expect_status 0
	expect_line "queue 0"
	expect_no_line "NOT USED"
}

@test "a server blocked in accept() on fd 3, or in recvfrom() on a UDP fd 3: used" {
	bg_as pbt_alice "$PB" 80 -- "$PROBE" --serve-once
	fds_until "$bg" "accept: yes"
	expect_status 0
	[[ $output =~ fd\ 3\ +\*:80/tcp(=[a-z]+)?\ +accept:\ yes\ +queue\ 0\ +used ]] || fail "fd 3: used, accept"
	stop "$bg"
	bg_as pbt_alice "$PB" 127.0.0.1:53/udp -- "$PROBE" --serve-once
	fds_until "$bg" "recv: yes"
	expect_status 0
	[[ $output =~ fd\ 3\ +127\.0\.0\.1:53/udp(=[a-z]+)?\ +recv:\ yes\ +queue\ 0\ +used ]] || fail "fd 3: used, recv"
}

@test "a command that ignores fd 3: the port looks held, nobody waits on it, a client hangs in the queue: exit 1" {
	bg_as pbt_alice "$PB" 80 -- "$PROBE" --sleep 30
	wait_bound tcp 80
	# what ss shows looks healthy: port 80 listening, held by the daemon
	[[ $(ss -Hltnp "sport = :80") == *"pid=$bg,fd=3"* ]] || fail "ss: port 80 not held by $bg"
	fds_until "$bg" "nobody is waiting"
	expect_status 1
	[[ $output =~ fd\ 3\ +\*:80/tcp(=[a-z]+)?\ +epoll:\ no\ +queue\ 0\ +NOT\ USED:\ nobody\ is\ waiting\ on\ it ]] ||
		fail "fd 3: nobody waiting"
	connect 80
	[ -z "$reply" ] || fail "nobody should have answered: '$reply'"
	# the client waits in the accept queue, and still does after --wait 1
	run "$FDS" --wait 1 "$bg"
	expect_status 1
	[[ $output =~ fd\ 3\ +\*:80/tcp(=[a-z]+)?\ +epoll:\ no\ +queue\ 1\ +NOT\ USED:\ 1\ connection\(s\)\ wait\ to\ be\ accepted ]] ||
		fail "fd 3: one connection waiting"
	# the README's example is this very line
	local example
	example=$(awk '/^## / { sec = ($0 == "## My daemon runs but does not answer"); next }
		sec && /^    fd 3 / { sub(/^    /, ""); print; exit }' "$BATS_TEST_DIRNAME/../README.md")
	[ -n "$example" ] || fail "no example line in the README's section"
	grep -qxF -- "$example" <<<"$output" || fail "the README's example differs: $example"
	# the daemon's own user may ask too
	run as pbt_alice "$FDS" --wait 0 "$bg"
	expect_status 1
	expect_line "queue 1"
	expect_line "NOT USED: 1 connection(s) wait to be accepted"
}

@test "a UDP command that never reads: the datagram waits in the receive buffer: NOT USED" {
	bg_as pbt_alice "$PB" 127.0.0.1:53/udp -- "$PROBE" --sleep 30
	wait_bound udp 53
	echo query >/dev/udp/127.0.0.1/53
	fds_until "$bg" "datagrams wait"
	expect_status 1
	[[ $output =~ fd\ 3\ +127\.0\.0\.1:53/udp(=[a-z]+)?\ +epoll:\ no\ +queue\ [1-9][0-9]*\ +NOT\ USED:\ datagrams\ wait\ to\ be\ read ]] ||
		fail "fd 3: a datagram waiting"
}

@test "a server in poll() or select() with fd 3 in its set: used (the set is read from its memory)" {
	local m
	for m in poll select; do
		bg_as pbt_alice "$PB" 80 -- "$PYTHON" "$SERVER" "$m"
		fds_until "$bg" "used"
		expect_status 0
		[[ $output =~ fd\ 3\ +\*:80/tcp(=[a-z]+)?\ +poll:\ yes\ +queue\ 0\ +used ]] || fail "$m: fd 3 used, poll"
		connect 80
		[ "$reply" = hello ] || fail "$m: the server did not answer: '$reply'"
		exec {client}>&-
		client=
		stop "$bg"
	done
}

@test "a wrapper that forks the daemon: the child's LISTEN_PID is the wrapper's, and both are told so" {
	bg_as pbt_alice "$PB" 80 -- sh -c 'sleep 30 & wait'
	local child= i
	for ((i = 0; i < 100; i++)); do
		child=$(pgrep -P "$bg" sleep) && break
		sleep 0.05
	done
	[ -n "$child" ] || fail "the wrapper started no child"
	bgpids+=("$child") # it holds port 80 too
	# the child inherited fd 3 and the variables meant for the wrapper's pid
	[ "$(tr '\0' '\n' <"/proc/$child/environ" | sed -n 's/^LISTEN_PID=//p')" = "$bg" ] ||
		fail "the child's LISTEN_PID is not the wrapper's pid $bg"
	run "$FDS" --wait 0 "$child"
	expect_status 1
	expect_line "pid $child (sleep): LISTEN_FDS=1 LISTEN_PID=$bg LISTEN_FDNAMES=web"
	expect_line "pid $child: LISTEN_PID is not this process: a process that received the sockets forked it (a wrapper that runs the daemon without exec), and sd_listen_fds() returns 0 here"
	expect_line "also open in pid $bg (sh) as fd 3"
	fds_until "$bg" "nobody is waiting"
	expect_status 1
	expect_no_line "LISTEN_PID is not this process"
	expect_line "NOT USED: nobody is waiting on it"
	expect_line "also open in pid $child (sleep) as fd 3, whose LISTEN_PID=$bg is not its own pid: sd_listen_fds() returns 0 there"
}

@test "a wrapper that execs the daemon keeps LISTEN_PID: nothing to point out, used" {
	bg_as pbt_alice "$PB" 80 -- sh -c 'exec "$0" "$1" epoll' "$PYTHON" "$SERVER"
	fds_until "$bg" "used"
	expect_status 0
	expect_line "LISTEN_PID=$bg "
	expect_no_line "LISTEN_PID is not this process"
	expect_no_line "also open in"
}

@test "a daemon that ignores LISTEN_FDS and selects on a port of its own: that socket is named, fd 3 is not used" {
	bg_as pbt_alice "$PB" 80 -- "$PYTHON" "$SERVER" own 8080
	wait_bound tcp 8080
	fds_until "$bg" "NOT USED"
	expect_status 1
	expect_line "127.0.0.1:8080/tcp: not handed by portbind: the process bound it itself"
	[[ $output =~ fd\ 3\ +\*:80/tcp(=[a-z]+)?\ +epoll:\ no\ +queue\ 0\ +NOT\ USED ]] || fail "fd 3: not used"
}

@test "dual stack: a SPEC without address is one socket for IPv4 too (*), a daemon set up for 0.0.0.0 collides with it" {
	# 8000 is above ip_unprivileged_port_start: only portbind's socket can stop the daemon's own bind
	run as pbt_alice "$PB" 8000 -- "$PYTHON" "$SERVER" bind4 8000
	expect_status 1
	expect_line "bind 0.0.0.0:8000: Address already in use"
	run as pbt_alice "$PB" '[::]:8000' -- "$PYTHON" "$SERVER" bind4 8000
	expect_status 0
	expect_line "bind 0.0.0.0:8000: ok"
	local spec want
	for spec in 8000 '[::]:8000' 0.0.0.0:8000; do
		case $spec in
		8000) want="*:8000/tcp" ;;
		'[::]:8000') want="[::]:8000/tcp" ;;
		*) want="0.0.0.0:8000/tcp" ;;
		esac
		bg_as pbt_alice "$PB" "$spec" -- "$PROBE" --sleep 30
		fds_until "$bg" "fd 3"
		[[ $output == *"fd 3   $want=web "* ]] || fail "SPEC $spec: expected $want"
		stop "$bg"
	done
}

@test "--inetd: no LISTEN_* variables, so every listening socket is shown, fd 0 included" {
	bg_as pbt_alice "$PB" --inetd 80 -- "$PROBE" --sleep 30
	fds_until "$bg" "NOT USED"
	expect_status 1
	expect_line "pid $bg (probe): no LISTEN_FDS in its environment: showing every listening socket"
	[[ $output =~ fd\ 0\ +\*:80/tcp(=[a-z]+)?\ +epoll:\ no ]] || fail "fd 0: the socket"
}

@test "portbind-fds: usage and a missing process exit 2" {
	run "$FDS"
	expect_status 2
	expect_line "usage: portbind-fds [--wait SECONDS] PID"
	run "$FDS" --wait x 1
	expect_status 2
	run "$FDS" 4194305
	expect_status 2
	expect_line "portbind-fds: no process 4194305"
}
