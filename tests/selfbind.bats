#!/usr/bin/env bats
# Daemons from Debian that bind() for themselves, started by
# `portbind --self-bind` under portbind-guard, each answering a real client
# while it runs as an unprivileged user with every capability set empty:
#
#   named (BIND 9)      53/udp+tcp on 127.0.0.1 and ::1, 953/tcp (rndc)   bind        dig, rndc
#   caddy               80/tcp, one dual-stack socket                      caddy       curl (IPv4, IPv6)
#   dnsmasq             53/udp+tcp on 127.0.0.1                            dnsmasq     dig
#   python3 http.server 80/tcp on 127.0.0.1                                pbt_alice   curl
#
# named, caddy and dnsmasq run as the users their Debian packages made for
# them, the ones they run as when Debian starts them; python3 has none, so
# a test user.
# The table section and the command line of each come from the README's
# "Daemons that bind for themselves", as written there; DIR, the daemon's
# files, is under the test's temporary directory. The guard is loaded at
# its default pin directory, which is the test's own bpf filesystem in the
# test's mount namespace (tests/guard.bash), and attached to the test's
# cgroup; portbind and the daemon run in both.
load guard

README=$BATS_TEST_DIRNAME/../README.md
NAMED=/usr/sbin/named
CADDY=/usr/bin/caddy
DNSMASQ=/usr/sbin/dnsmasq
PYTHON=/usr/bin/python3

setup_file() {
	local f
	for f in "$NAMED" "$CADDY" "$DNSMASQ" "$PYTHON" /usr/sbin/rndc /usr/sbin/tsig-keygen; do
		[ -x "$f" ] || { echo "$f is missing: run tests/deps" >&2; return 1; }
	done
	for f in curl dig ss; do
		command -v "$f" >/dev/null || { echo "$f is missing: run tests/deps" >&2; return 1; }
	done
	# Every port below is privileged here: no daemon could bind it itself.
	[ "$(sysctl -n net.ipv4.ip_unprivileged_port_start)" -gt 953 ] || {
		echo "net.ipv4.ip_unprivileged_port_start is too low for these tests" >&2
		return 1
	}
	build_binder
}

setup() {
	guard_setup
	make_traversable "$BATS_TEST_TMPDIR"
	T=$BATS_TEST_TMPDIR
}

# Block $2 (table or command) of section [$1] in the README's "Daemons that
# bind for themselves": the indented lines from "[$1]" to the blank line,
# or the command line after them (with its continuation lines), unindented.
readme_block() {
	awk -v label="    [$1]" -v want="$2" '
		/^## / { sec = ($0 == "## Daemons that bind for themselves"); next }
		!sec { next }
		$0 == label { state = "table" }
		state == "table" && /^$/ { state = "after"; next }
		state == "after" && /portbind --self-bind/ { state = "command" }
		state == want { sub(/^    /, ""); print }
		state == "command" && !/\\$/ { exit }' "$README"
}

# The README's section [$1] is the table, and portbind --check accepts it.
readme_table() {
	local t
	t=$(readme_block "$1" table)
	[ -n "$t" ] || fail "no table [$1] in the README"
	table <<<"$t"
	run "$PB" --check
	expect_status 0
}

# Run "$@" as root in the test's cgroup and in the mount namespace of its
# bpf filesystem, where the guard's default pin directory is the test's.
in_guard_ns() {
	nsenter -m -t "$holder" -- bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$@"
}

# portbind-guard at its default pin directory, on the test's cgroup and table.
load_guard() {
	run in_guard_ns "$GUARD" --cgroup "$CG" --config "$ETC/portbind.conf" load
	expect_status 0
}

# Start the README's command line for section [$1] in the background, with
# DIR=$2 and the installed portbind first in PATH: $bg is its pid (portbind's,
# then the daemon's), $out its output.
start_readme() {
	local cmd
	cmd=$(readme_block "$1" command)
	[ -n "$cmd" ] || fail "no command line for [$1] in the README"
	out=$T/out.$1
	# (as in_guard_ns, but not through a function: a function run with & is
	# a subshell, and $! would be its pid, not the daemon's)
	nsenter -m -t "$holder" -- env PATH="$PB_PREFIX/bin:$PATH" DIR="$2" \
		bash -c 'echo $$ >"$0/cgroup.procs" && eval "exec env $1"' "$CG" "$cmd" >"$out" 2>&1 3>&- &
	bg=$!
	bgpids+=("$bg")
}

# expect_unprivileged (lib.bash), and no LISTEN_* variables: portbind
# set none, the daemon bound its ports itself.
expect_self_bound() {
	expect_unprivileged "$@"
	! tr '\0' '\n' <"/proc/$1/environ" | grep -q '^LISTEN_' || fail "process $1 has LISTEN_* variables"
}

# PROTO $1 (tcp: listening, udp: bound) port $2 has a socket on local
# address $3 (as ss prints it: 127.0.0.1:53, [::1]:53, *:80) held by process $4.
expect_holds() {
	local opt=-Hltnpe
	[ "$1" = udp ] && opt=-Hlunpe
	output=$(ss $opt "sport = :$2")
	grep -F " $3 " <<<"$output" | grep -qF "pid=$4," || fail "$1 $3 is not held by process $4"
}

# Neither pbt_bob nor root may bind any of the (PROTO ADDR PORT) triples
# given, free as they are: the guard says EADDRINUSE.
expect_guarded() {
	while [ $# -gt 0 ]; do
		expect_bind EADDRINUSE pbt_bob "$1" "$2" "$3"
		expect_bind EADDRINUSE root "$1" "$2" "$3"
		shift 3
	done
}

ask() {
	dig +short +time=1 +tries=1 "$@"
}

# HTTP GET $1 with curl, never through a proxy, 2 s at most.
get() {
	curl -fsS -g --noproxy '*' --max-time 2 "$1"
}

# The daemon $bg ends on SIGTERM and leaves port $1 free.
stop_daemon() {
	stop "$bg"
	expect_settled "$1"
}

@test "named binds 53 (UDP, TCP, IPv4, IPv6) and 953 itself as bind and answers dig and rndc; others, root too, get EADDRINUSE" {
	readme_table named
	load_guard
	expect_guarded udp 127.0.0.1 53 tcp 127.0.0.1 53 udp ::1 53 tcp ::1 53 tcp 127.0.0.1 953
	# The pin: bind's own binder is not named.
	expect_bind EADDRINUSE bind udp 127.0.0.1 53
	local d=$T/named
	install -d -m 0755 -o bind -g bind "$d"
	cat >"$d/portbind.test.zone" <<'Z'
$TTL 300
@	IN SOA	ns.portbind.test. hostmaster.portbind.test. 1 3600 600 86400 300
@	IN NS	ns.portbind.test.
ns	IN A	127.0.0.1
www	IN A	192.0.2.53
www	IN TXT	"named bound its own sockets"
Z
	/usr/sbin/tsig-keygen -a hmac-sha256 rndc-key >"$d/rndc.key"
	chown root:bind "$d/rndc.key"
	chmod 0640 "$d/rndc.key"
	: >"$d/bind.keys"
	cat >"$d/named.conf" <<C
include "$d/rndc.key";
options {
	directory "$d";
	pid-file "$d/named.pid";
	session-keyfile "$d/session.key";
	managed-keys-directory "$d";
	bindkeys-file "$d/bind.keys";
	listen-on port 53 { 127.0.0.1; };
	listen-on-v6 port 53 { ::1; };
	recursion no;
	notify no;
	dnssec-validation no;
};
controls { inet 127.0.0.1 port 953 allow { 127.0.0.1; } keys { "rndc-key"; }; };
zone "portbind.test" { type primary; file "$d/portbind.test.zone"; };
C
	chmod 0644 "$d/named.conf" "$d/portbind.test.zone" "$d/bind.keys"
	start_readme named "$d"
	eventually ask @127.0.0.1 www.portbind.test A
	[ "$output" = 192.0.2.53 ] || fail "UDP over IPv4: wrong answer"
	run ask +tcp @127.0.0.1 www.portbind.test TXT
	[ "$output" = '"named bound its own sockets"' ] || fail "TCP over IPv4: wrong answer"
	run ask @::1 www.portbind.test TXT
	[ "$output" = '"named bound its own sockets"' ] || fail "UDP over IPv6: wrong answer"
	run ask +tcp @::1 www.portbind.test A
	[ "$output" = 192.0.2.53 ] || fail "TCP over IPv6: wrong answer"
	eventually /usr/sbin/rndc -s 127.0.0.1 -p 953 -k "$d/rndc.key" status
	expect_line "server is up and running"
	expect_self_bound "$bg" bind "$NAMED"
	expect_holds udp 53 127.0.0.1:53 "$bg"
	expect_holds tcp 53 127.0.0.1:53 "$bg"
	expect_holds udp 53 '[::1]:53' "$bg"
	expect_holds tcp 53 '[::1]:53' "$bg"
	expect_holds tcp 953 127.0.0.1:953 "$bg"
	# Held by named, and refused to everyone else on another address.
	expect_guarded udp 127.0.0.2 53 tcp 127.0.0.2 53
	stop_daemon 53
	expect_settled 953
}

@test "caddy binds 80 itself as caddy and serves a page over IPv4 and IPv6; others, root too, get EADDRINUSE" {
	readme_table caddy
	load_guard
	expect_guarded tcp 0.0.0.0 80 tcp dual 80
	expect_bind EADDRINUSE caddy tcp 0.0.0.0 80
	local d=$T/caddy
	install -d -m 0755 -o caddy -g caddy "$d"
	cat >"$d/Caddyfile" <<'C'
{
	admin off
	auto_https off
}
http://:80 {
	respond "caddy bound its own socket"
}
C
	chmod 0644 "$d/Caddyfile"
	start_readme caddy "$d"
	eventually get http://127.0.0.1/
	[ "$output" = "caddy bound its own socket" ] || fail "IPv4: wrong page"
	run get 'http://[::1]/'
	expect_status 0
	[ "$output" = "caddy bound its own socket" ] || fail "IPv6: wrong page"
	expect_self_bound "$bg" caddy "$CADDY"
	expect_holds tcp 80 '*:80' "$bg"
	# Its state went to DIR, not to the package's /var/lib/caddy.
	[ -f "$d/caddy/autosave.json" ] || fail "no autosave.json in DIR"
	stop_daemon 80
}

@test "dnsmasq binds 53 (UDP, TCP) itself as dnsmasq and answers dig; others, root too, get EADDRINUSE" {
	readme_table dnsmasq
	load_guard
	expect_guarded udp 127.0.0.1 53 tcp 127.0.0.1 53
	expect_bind EADDRINUSE dnsmasq udp 127.0.0.1 53
	local d=$T/dnsmasq
	install -d -m 0755 -o dnsmasq "$d"
	start_readme dnsmasq "$d"
	eventually ask @127.0.0.1 www.portbind.test A
	[ "$output" = 192.0.2.54 ] || fail "UDP: wrong answer"
	run ask +tcp @127.0.0.1 www.portbind.test A
	[ "$output" = 192.0.2.54 ] || fail "TCP: wrong answer"
	expect_self_bound "$bg" dnsmasq "$DNSMASQ"
	expect_holds udp 53 127.0.0.1:53 "$bg"
	expect_holds tcp 53 127.0.0.1:53 "$bg"
	expect_guarded udp 127.0.0.2 53 tcp 127.0.0.2 53
	[ "$(cat "$d/dnsmasq.pid")" = "$bg" ] || fail "dnsmasq.pid is not $bg"
	output=$(cat "$out")
	expect_line "started, version"
	expect_no_line "failed"
	stop_daemon 53
}

@test "python3 -m http.server binds 127.0.0.1:80 itself as pbt_alice and serves a file; others, root too, get EADDRINUSE" {
	readme_table http
	# Without the guard the port is the kernel's, and privileged.
	expect_bind EACCES pbt_alice tcp 127.0.0.1 80
	load_guard
	expect_bind ok pbt_alice tcp 127.0.0.1 80
	expect_guarded tcp 127.0.0.1 80
	local d=$T/www
	install -d -m 0755 "$d"
	echo "python bound its own socket" >"$d/index.txt"
	chmod 0644 "$d/index.txt"
	start_readme http "$d"
	eventually get http://127.0.0.1/index.txt
	[ "$output" = "python bound its own socket" ] || fail "wrong file"
	expect_self_bound "$bg" pbt_alice "$PYTHON"
	expect_holds tcp 80 127.0.0.1:80 "$bg"
	expect_guarded tcp 127.0.0.2 80
	stop_daemon 80
}

@test "--self-bind refuses (69) and starts nothing without a guard, or when the table changed since the guard was loaded" {
	readme_table http
	run in_guard_ns "$PB" --self-bind 127.0.0.1:80 pbt_alice -- "$PROBE"
	expect_refused 69 "the ownership table is not enforced"
	load_guard
	run in_guard_ns "$PB" --self-bind 127.0.0.1:80 pbt_alice -- "$PROBE"
	expect_status 0
	# (the control: with the guard the probe runs, as pbt_alice, with nothing handed over)
	[ "$(field uid)" = 59001,59001,59001 ] || fail "not pbt_alice"
	[ "$(field cap_bnd)" = 0000000000000000 ] || fail "capabilities left"
	[ "$(field no_new_privs)" = 1 ] || fail "no_new_privs off"
	[ "$(field env.LISTEN_FDS)" = "<unset>" ] || fail "LISTEN_FDS set"
	[ "$(field fds)" = 0,1,2 ] || fail "fds other than 0, 1 and 2"
	# The table on disk gives the port to pbt_bob now; the guard still enforces the old one.
	sed -i 's/^user = pbt_alice$/user = pbt_bob/' "$ETC/portbind.conf"
	run in_guard_ns "$PB" --self-bind 127.0.0.1:80 pbt_bob -- "$PROBE"
	expect_refused 69 "the ownership table is not enforced"
	run in_guard_ns "$PB" --self-bind 127.0.0.1:80 pbt_alice -- "$PROBE"
	[ "$status" -ne 0 ] || fail "pbt_alice's grant is gone from the table on disk"
	expect_no_line "uid="
}

@test "--list, --dry-run and -v say kernel: yes under a guard enforcing the table, and why not otherwise" {
	readme_table http
	run in_guard_ns "$PB" --list
	expect_status 0
	expect_line "kernel=no"
	expect_line "kernel: not enforced: portbind-guard is not loaded"
	load_guard
	run in_guard_ns "$PB" --list
	expect_status 0
	expect_line "http             tcp      port=80 address=127.0.0.1 program=any user=pbt_alice kernel=yes"
	expect_line "kernel: enforced by portbind-guard in this network namespace"
	run in_guard_ns "$PB" --dry-run --self-bind 127.0.0.1:80 pbt_alice -- "$PROBE"
	expect_status 0
	expect_line "127.0.0.1:80/tcp name=http: granted by [http]"
	expect_line "; kernel: yes"
	expect_no_line "needs it enforced"
	run --separate-stderr in_guard_ns "$PB" -v 127.0.0.1:80 pbt_alice -- "$PROBE"
	expect_status 0
	grep -qF "; kernel: yes" <<<"$stderr" || fail "stderr: $stderr"
	# a real change on disk: stale, and --list says so
	sed -i 's/^user = pbt_alice$/user = pbt_alice pbt_bob/' "$ETC/portbind.conf"
	run in_guard_ns "$PB" --list
	expect_status 0
	expect_line "kernel=no"
	expect_line "portbind-guard enforces another version of the table (run portbind-guard reload)"
	# a comment changes nothing the kernel judges: still enforced
	sed -i 's/^user = pbt_alice pbt_bob$/user = pbt_alice/' "$ETC/portbind.conf"
	echo '# a comment' >>"$ETC/portbind.conf"
	run in_guard_ns "$PB" --list
	expect_line "kernel=yes"
	# a table the guard could not load at all (17 grants of one port) is
	# said to be that, not a stale one, and --self-bind starts nothing
	local i
	for ((i = 1; i <= 17; i++)); do
		printf '[g%d]\nport = 80\nprotocol = tcp\naddress = 127.0.0.1\nuser = pbt_alice\n' "$i"
	done >>"$ETC/portbind.conf"
	run in_guard_ns "$PB" --list
	expect_status 0
	expect_line "kernel: not enforced: portbind-guard cannot load this table"
	expect_line "has more than 16 grants"
	run in_guard_ns "$PB" --self-bind 127.0.0.1:80 pbt_alice -- "$PROBE"
	expect_status 69
	expect_line "portbind: --self-bind: the ownership table is not enforced: portbind-guard cannot load this table"
	expect_no_line "uid="
}
